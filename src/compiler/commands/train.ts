/** `bdlc train MODEL [--corpus PATH] [--steps N] …`: pretrain with the model's objectives and masking. */
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { renderGraphSvg } from "../graph.js";
import { loadGraph } from "../graph-loader.js";
import { countParams } from "../params.js";
import {
  BACKEND_FLAG_HELP, loadModelRef, nonNegativeIntFlag, parseFlags, positiveIntFlag, requirePositionals, startBackend, UsageError,
  type Command,
} from "./command.js";
import { INTERRUPTED, interruptHandler, shellLine } from "./interrupt.js";

const help = `Usage: bdlc train MODEL [options]

Pretrain MODEL (FILE.bdl or FILE.bdl:NAME) with its objectives and masking on a corpus,
writing a run folder: checkpoints, a JSONL log and report.html. Ctrl-C finishes the step,
saves a checkpoint and prints the command that resumes (exit 130); a second Ctrl-C quits at
once. --resume continues from the latest checkpoint with the same batches and masks.

Options:
  --corpus PATH       wordnet (built in, the default), a text file, or a .jsonl file
  --steps N           optimisation steps (default: the model's train steps)
  --batch N           sequences per step (default: the model's train batch)
  --accumulate N      split each batch into N micro-batches (gradient accumulation)
  --lr X              peak learning rate (default: the model's)
  --seed N            seed for initialisation, data order, masks and dropout (default 0)
  --out DIR           run folder (default: runs/NAME)
  --save-every N      checkpoint every N steps (default 100)
  --keep N            keep the newest N checkpoints (default 3)
  --log-every N       log every N steps (default 10)
  --eval-every N      held-out evaluation every N steps (default 0: at the end only)
  --teacher CKPT      the teacher's checkpoint or run folder, for models with a teacher
  --resume            continue the run in --out from its latest checkpoint
${BACKEND_FLAG_HELP}`;


export const train: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        corpus: { type: "string" },
        steps: { type: "string" },
        batch: { type: "string" },
        accumulate: { type: "string" },
        lr: { type: "string" },
        seed: { type: "string" },
        out: { type: "string" },
        "save-every": { type: "string" },
        keep: { type: "string" },
        "log-every": { type: "string" },
        "eval-every": { type: "string" },
        teacher: { type: "string" },
        resume: { type: "boolean" },
        backend: { type: "string" },
      },
      help,
    );
    requirePositionals(positionals, 1, 1, "MODEL", help);
    const loaded = loadModelRef(positionals[0]!, io);
    if (!loaded) return 1;
    const { model, teacher } = loaded;
    const lr = values.lr === undefined ? model.train.lr : Number(values.lr);
    if (!(lr > 0)) throw new UsageError(`--lr must be a positive number, not '${values.lr}'.`);
    const seed = nonNegativeIntFlag("--seed", values.seed, 0);
    const evalEvery = values["eval-every"] === undefined ? 0 : positiveIntFlag("--eval-every", values["eval-every"], 0);

    const [{ train: runTraining, TrainingError }, data, tokenizers, checkpoint, progressMod, backends] = await Promise.all([
      import("../../runtime/train/trainer.js"),
      import("../../runtime/data/corpus.js"),
      import("../../runtime/tokenizers/index.js"),
      import("../../runtime/checkpoint/checkpoint.js"),
      import("../../runtime/train/progress.js"),
      import("../../runtime/backend.js"),
    ]);
    const backend = await startBackend(backends, values.backend);
    const corpusSpec = values.corpus ?? "wordnet";
    let teacherWeights = null;
    if (model.teacher) {
      if (values.teacher === undefined) throw new UsageError(`model '${model.name}' learns from teacher '${model.teacher.model}': give its checkpoint with --teacher CKPT.`);
      try {
        teacherWeights = checkpoint.loadCheckpoint(values.teacher, teacher ? { model: teacher } : undefined).weights;
      } catch (e) {
        if (e instanceof checkpoint.CheckpointError) throw new UsageError(e.message);
        throw e;
      }
    }
    const out = values.out ?? `runs/${model.name}`;
    // A student shares its teacher's vocabulary: start from the teacher run's tokenizer.
    if (values.teacher !== undefined) adoptTeacherTokenizer(values.teacher, out);
    const { graph, teacher: teacherGraph } = await loadGraph(model, teacher);
    const progress = io.isTerminal ? progressMod.terminalProgress(process.stderr) : progressMod.lineProgress((l) => io.err(l));
    progress.message(`backend: ${backend}${values.backend === undefined || values.backend === "auto" ? " (auto: the fastest present)" : ""}`);
    const interrupt = interruptHandler(() => progress.message("interrupted: finishing this step, then saving a checkpoint (Ctrl-C again to quit at once)…"));
    try {
      const corpus = data.loadCorpus(corpusSpec);
      const summary = await runTraining({
        model,
        teacher,
        graph,
        teacherGraph,
        teacherWeights,
        corpus,
        tokenizer: (texts) =>
          tokenizers.trainTokenizer(model.tokenizer.kind, texts, { vocabSize: model.vocab, lowercase: model.tokenizer.lowercase, special: model.special }),
        loadTokenizer: tokenizers.loadTokenizer,
        saveTokenizer: tokenizers.saveTokenizer,
        out,
        steps: positiveIntFlag("--steps", values.steps, model.train.steps),
        batch: positiveIntFlag("--batch", values.batch, model.train.batch),
        accumulate: positiveIntFlag("--accumulate", values.accumulate, 1),
        lr,
        seed,
        saveEvery: positiveIntFlag("--save-every", values["save-every"], 100),
        keep: positiveIntFlag("--keep", values.keep, 3),
        logEvery: positiveIntFlag("--log-every", values["log-every"], 10),
        evalEvery,
        evalExamples: 512,
        clipNorm: 1,
        resume: values.resume ?? false,
        progress,
        onStepLoop: () => interrupt.arm(),
        shouldStop: () => interrupt.requested,
        architectureSvg: renderGraphSvg(model, { teacher, params: countParams(model, teacher) }),
      });
      if (summary.stoppedEarly) {
        io.err(interruptedMessage(summary, args));
        if (summary.firstLoss === null) return INTERRUPTED;
      }
      const e = summary.evaluation;
      io.out(
        [
          `${summary.stoppedEarly ? "stopped" : "trained"} ${model.name}: ${summary.steps} steps in ${Math.round(summary.seconds)} s, loss ${summary.firstLoss?.toFixed(3)} → ${summary.lastLoss?.toFixed(3)} (ln vocab = ${Math.log(model.vocab).toFixed(3)})`,
          ...(e ? [`held-out MLM loss ${e.mlm_loss.toFixed(3)}, accuracy ${(100 * e.mlm_accuracy).toFixed(1)}%, perplexity ${e.perplexity.toFixed(1)}`] : []),
          `run folder: ${summary.out} (report.html, log.jsonl, checkpoints/)`,
        ].join("\n"),
      );
      return summary.stoppedEarly ? INTERRUPTED : 0;
    } catch (e) {
      const userErrors = [TrainingError, data.CorpusError, tokenizers.TokenizerTrainingError, tokenizers.TokenizerFormatError, checkpoint.CheckpointError];
      if (userErrors.some((kind) => e instanceof kind)) throw new UsageError((e as Error).message);
      throw e;
    } finally {
      interrupt.dispose();
    }
  },
};

/** Where a run stopped by Ctrl-C stands, and the command that continues it: these arguments plus --resume. */
function interruptedMessage(s: { steps: number; checkpoint: string | null }, args: readonly string[]): string {
  const again = ["bdlc", "train", ...args.filter((a) => a !== "--resume")];
  if (s.checkpoint === null) return `interrupted before the first step: no checkpoint was saved; start again with:\n  ${shellLine(again)}`;
  return `interrupted at step ${s.steps}: the checkpoint is in ${s.checkpoint}; resume with:\n  ${shellLine([...again, "--resume"])}`;
}

/** Copies the tokenizer of the teacher's run (the checkpoint's run folder, or the folder itself) into `out`, unless it has one. */
function adoptTeacherTokenizer(teacherPath: string, out: string): void {
  const target = join(out, "tokenizer.json");
  if (existsSync(target)) return;
  for (const candidate of [join(teacherPath, "tokenizer.json"), join(teacherPath, "..", "..", "tokenizer.json")]) {
    if (existsSync(candidate)) {
      mkdirSync(out, { recursive: true });
      copyFileSync(candidate, target);
      return;
    }
  }
}
