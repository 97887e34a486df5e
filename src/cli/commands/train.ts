/** `bdlc train MODEL [--corpus PATH] [--steps N] …`: pretrain with the model's objectives and masking. */
import { copyFileSync, existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { renderGraphSvg } from "../../tools/architecture-svg.js";
import { loadGraph } from "../../app/graph-loader.js";
import { countParams } from "../../model/counts.js";
import { isAllocationFailure } from "../../runtime/system-error.js";
import type { GivenSettings, RunSettings } from "../../runtime/train/resume.js";
import {
  BACKEND_FLAG_HELP, loadModelRef, nonNegativeIntFlag, parseFlags, positiveIntFlag, requirePositionals, startBackend, UsageError,
  type Command,
} from "./command.js";
import { interruptHandler, stopNotice, shellLine } from "./interrupt.js";

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
  --resume            continue the run in --out from its latest checkpoint, with the
                      run's recorded settings (a contradicting flag is refused)
  --resume-from N     continue from checkpoint step-N instead, when the newer ones
                      are damaged (they are kept, renamed damaged-step-M)
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
        "resume-from": { type: "string" },
        backend: { type: "string" },
      },
      help,
    );
    requirePositionals(positionals, 1, 1, "MODEL", help);
    const loaded = loadModelRef(positionals[0]!, io);
    if (!loaded) return 1;
    const { model, teacher } = loaded;
    const given = givenSettings(values);
    const defaults: RunSettings = { steps: model.train.steps, batch: model.train.batch, accumulate: 1, lr: model.train.lr, seed: 0, corpus: "wordnet", saveEvery: 100, keep: 3, logEvery: 10, evalEvery: 0 };
    const resumeFrom = values["resume-from"] === undefined ? undefined : Number(/^(?:step-)?(\d+)$/.exec(values["resume-from"])?.[1] ?? NaN);
    if (resumeFrom !== undefined && !Number.isSafeInteger(resumeFrom)) throw new UsageError(`--resume-from must be a checkpoint's step (N or step-N), not '${values["resume-from"]}'.`);

    const [{ train: runTraining, TrainingError }, data, tokenizers, checkpoint, progressMod, backends, runLock, resume] = await Promise.all([
      import("../../runtime/train/trainer.js"),
      import("../../runtime/data/corpus.js"),
      import("../../runtime/tokenizers/index.js"),
      import("../../app/checkpoint.js"),
      import("../../runtime/train/progress.js"),
      import("../../runtime/backends/backend.js"),
      import("../../runtime/train/run-lock.js"),
      import("../../runtime/train/resume.js"),
    ]);
    const backend = await startBackend(backends, values.backend);
    let teacherWeights = null;
    if (model.teacher) {
      if (values.teacher === undefined) throw new UsageError(`model '${model.name}' learns from teacher '${model.teacher.model}': give its checkpoint with --teacher CKPT.`);
      try {
        teacherWeights = checkpoint.loadValidCheckpoint(values.teacher, teacher ? { model: teacher } : undefined).weights;
      } catch (e) {
        if (e instanceof checkpoint.CheckpointError) throw new UsageError(e.message);
        throw e;
      }
    }
    const out = values.out ?? `runs/${model.name}`;
    const { graph, teacher: teacherGraph } = await loadGraph(model, teacher);
    const progress = io.isTerminal ? progressMod.terminalProgress(process.stderr) : progressMod.lineProgress((l) => io.err(l));
    progress.message(`backend: ${backend}${values.backend === undefined || values.backend === "auto" ? " (auto: the fastest present)" : ""}`);
    const interrupt = interruptHandler((signal) => progress.message(stopNotice(signal, "finishing this step, then saving a checkpoint")));
    let lock: { release(): void } | null = null;
    try {
      lock = runLock.acquireRunLock(out);
      for (const removed of resume.removeLeftovers(out)) progress.message(`removed ${removed}, left by a process that no longer runs`);
      const plan = values.resume || resumeFrom !== undefined ? resume.planResume(out, model, teacher, given, defaults, resumeFrom) : null;
      if (plan?.finished) {
        io.out(`${out} is finished: checkpoint step-${plan.from.step} is its last step (--steps ${plan.settings.steps}); nothing to resume. To train longer, start a new run with another --out.`);
        return 0;
      }
      const settings: RunSettings = plan?.settings ?? { ...defaults, ...definedOnly(given) };
      // A student shares its teacher's vocabulary: start from the teacher run's tokenizer.
      if (values.teacher !== undefined && !plan) adoptTeacherTokenizer(values.teacher, out);
      const corpus = data.loadCorpus(settings.corpus);
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
        steps: settings.steps,
        batch: settings.batch,
        accumulate: settings.accumulate,
        lr: settings.lr,
        seed: settings.seed,
        saveEvery: settings.saveEvery,
        keep: settings.keep,
        logEvery: settings.logEvery,
        evalEvery: settings.evalEvery,
        evalExamples: 512,
        clipNorm: 1,
        resume: plan ? { from: plan.from, damaged: plan.damaged } : null,
        progress,
        onStepLoop: () => interrupt.arm(),
        shouldStop: () => interrupt.requested,
        architectureSvg: renderGraphSvg(model, { teacher, params: countParams(model, teacher) }),
      });
      if (summary.stoppedEarly) {
        io.err(interruptedMessage(summary, settings.steps, args));
        if (summary.firstLoss === null) return interrupt.exitCode;
      }
      const e = summary.evaluation;
      io.out(
        [
          `${summary.stoppedEarly ? "stopped" : "trained"} ${model.name}: ${summary.steps} steps${summary.from > 0 ? ` (step ${summary.from} → ${summary.from + summary.steps})` : ""} in ${Math.round(summary.seconds)} s${summary.firstLoss === null || summary.lastLoss === null ? "" : `, loss ${summary.firstLoss.toFixed(3)} → ${summary.lastLoss.toFixed(3)} (ln vocab = ${Math.log(model.vocab).toFixed(3)})`}`,
          ...(e ? [`held-out MLM loss ${e.mlm_loss.toFixed(3)}, accuracy ${(100 * e.mlm_accuracy).toFixed(1)}%, perplexity ${e.perplexity.toFixed(1)}`] : []),
          `run folder: ${summary.out} (report.html, log.jsonl, checkpoints/)`,
        ].join("\n"),
      );
      return summary.stoppedEarly ? interrupt.exitCode : 0;
    } catch (e) {
      const userErrors = [TrainingError, data.CorpusError, tokenizers.TokenizerTrainingError, tokenizers.TokenizerFormatError, checkpoint.CheckpointError, runLock.RunLockError, resume.ResumeError];
      if (userErrors.some((kind) => e instanceof kind)) throw new UsageError((e as Error).message);
      if (isAllocationFailure(e)) {
        const n = countParams(model, teacher).total;
        throw new UsageError(
          `model '${model.name}' is too big to train on this machine: ${n.toLocaleString("en-US")} parameters (${((n * 4) / 2 ** 30).toFixed(1)} GiB as float32, about 4 times that with gradients and optimizer moments) could not be allocated (${(e as Error).message})`,
        );
      }
      throw e;
    } finally {
      lock?.release();
      interrupt.dispose();
    }
  },
};

/** The run settings given as flags, checked; undefined where a flag is absent. */
function givenSettings(values: Record<string, string | boolean | undefined>): GivenSettings {
  const text = (flag: string) => values[flag] as string | undefined;
  const positive = (flag: string) => (text(flag) === undefined ? undefined : positiveIntFlag(`--${flag}`, text(flag), 0));
  const lr = text("lr") === undefined ? undefined : Number(text("lr"));
  if (lr !== undefined && !(lr > 0)) throw new UsageError(`--lr must be a positive number, not '${text("lr")}'.`);
  return {
    steps: positive("steps"),
    batch: positive("batch"),
    accumulate: positive("accumulate"),
    lr,
    seed: text("seed") === undefined ? undefined : nonNegativeIntFlag("--seed", text("seed"), 0),
    corpus: text("corpus"),
    saveEvery: positive("save-every"),
    keep: positive("keep"),
    logEvery: positive("log-every"),
    evalEvery: positive("eval-every"),
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Where a run stopped by Ctrl-C stands, and the command that continues it: these arguments plus --resume. */
export function interruptedMessage(s: { from: number; steps: number; checkpoint: string | null }, totalSteps: number, args: readonly string[]): string {
  const again = ["bdlc", "train", ...withoutResumeFlags(args)];
  if (s.checkpoint === null) return `interrupted before the first step: no checkpoint was saved; start again with:\n  ${shellLine(again)}`;
  const at = s.from + s.steps;
  // Stopped in the final evaluation: training is complete, so there is nothing to resume.
  if (at >= totalSteps) return `interrupted during the final evaluation: all ${totalSteps} steps are trained and saved in ${s.checkpoint}; evaluate it with:\n  ${shellLine(["bdlc", "eval", s.checkpoint])}`;
  return `interrupted at step ${at}: the checkpoint is in ${s.checkpoint}; resume with:\n  ${shellLine([...again, "--resume"])}`;
}

/** `args` less --resume and --resume-from (with its value, in either spelling). */
function withoutResumeFlags(args: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--resume" || args[i]!.startsWith("--resume-from=")) continue;
    if (args[i] === "--resume-from") {
      i++;
      continue;
    }
    kept.push(args[i]!);
  }
  return kept;
}

/** Copies the tokenizer of the teacher's run (the checkpoint's run folder, or the folder itself) into `out`, unless it has one. */
function adoptTeacherTokenizer(teacherPath: string, out: string): void {
  const target = join(out, "tokenizer.json");
  if (existsSync(target)) return;
  for (const candidate of [join(teacherPath, "tokenizer.json"), join(teacherPath, "..", "..", "tokenizer.json")]) {
    if (existsSync(candidate)) {
      mkdirSync(out, { recursive: true });
      // Copied under a temporary name, then renamed: a kill never leaves half a tokenizer.
      const temp = `${target}.tmp-${process.pid}`;
      copyFileSync(candidate, temp);
      renameSync(temp, target);
      return;
    }
  }
}
