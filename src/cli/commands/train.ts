/** `bdlc train MODEL [--corpus PATH] [--steps N] …`: pretrain with the model's objectives and masking. */
import { RECOMPUTE_SETTINGS, type RecomputeSetting } from "../../runtime/train/step-memory.js";
import type { Progress } from "../../runtime/train/progress.js";
import type { GivenSettings } from "../../runtime/train/resume.js";
import {
  BACKEND_FLAG_HELP,
  loadModelRef,
  nonNegativeIntFlag,
  parseFlags,
  positiveIntFlag,
  requirePositionals,
  UsageError,
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
  --init W            start from these weights instead of a random draw: a checkpoint,
                      run folder or Hugging Face folder of the same model (for a
                      model with a generator: a folder of generator/ and discriminator/)
  --tokenizer FILE    use this tokenizer.json (its vocabulary must be the model's)
                      instead of training one on the corpus
  --resume            continue the run in --out from its latest checkpoint, with the
                      run's recorded settings (a contradicting flag is refused)
  --resume-from N     continue from checkpoint step-N instead, when the newer ones
                      are damaged (they are kept, renamed damaged-step-M)
  --recompute MODE    auto (default), on or off: recompute each layer in the backward
                      pass instead of keeping its activations (gradient checkpointing);
                      the same gradients in less memory, a third more compute; auto
                      turns it on where a step would not fit in the wasm backends' 4 GiB
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
        recompute: { type: "string" },
        init: { type: "string" },
        tokenizer: { type: "string" },
      },
      help,
    );
    requirePositionals(positionals, 1, 1, "MODEL", help);
    const loaded = loadModelRef(positionals[0]!, io);
    if (!loaded) return 1;
    const given = givenSettings(values);
    const resumeFrom =
      values["resume-from"] === undefined ? undefined : Number(/^(?:step-)?(\d+)$/.exec(values["resume-from"])?.[1] ?? NaN);
    if (resumeFrom !== undefined && !Number.isSafeInteger(resumeFrom))
      throw new UsageError(`--resume-from must be a checkpoint's step (N or step-N), not '${values["resume-from"]}'.`);

    const recompute = values.recompute as RecomputeSetting | undefined;
    if (recompute !== undefined && !RECOMPUTE_SETTINGS.includes(recompute))
      throw new UsageError(`--recompute must be one of ${RECOMPUTE_SETTINGS.join(", ")}, not '${recompute}'.`);

    const [{ train: trainModel }, progressMod] = await Promise.all([
      import("../../app/train.js"),
      import("../../runtime/train/progress.js"),
    ]);
    let progress: Progress | null = null;
    const interrupt = interruptHandler((signal) => progress?.message(stopNotice(signal, "finishing this step, then saving a checkpoint")));
    try {
      const outcome = await trainModel(
        {
          ...{ model: loaded.model, teacher: loaded.teacher, given, out: values.out, teacherCheckpoint: values.teacher },
          ...{ resume: values.resume ?? false, resumeFrom, backend: values.backend, recompute },
          ...{ init: values.init, tokenizer: values.tokenizer },
        },
        {
          progress: () =>
            (progress = io.isTerminal ? progressMod.terminalProgress(process.stderr) : progressMod.lineProgress((l) => io.err(l))),
          onStepLoop: () => interrupt.arm(),
          shouldStop: () => interrupt.requested,
        },
      );
      if (outcome.finished) {
        io.out(
          `${outcome.out} is finished: checkpoint step-${outcome.step} is its last step (--steps ${outcome.steps}); nothing to resume. To train longer, start a new run with another --out.`,
        );
        return 0;
      }
      const { summary } = outcome;
      if (summary.stoppedEarly) {
        io.err(interruptedMessage(summary, outcome.steps, args));
        if (summary.firstLoss === null) return interrupt.exitCode;
      }
      const e = summary.evaluation;
      const model = loaded.model;
      io.out(
        [
          `${summary.stoppedEarly ? "stopped" : "trained"} ${model.name}: ${summary.steps} steps${summary.from > 0 ? ` (step ${summary.from} → ${summary.from + summary.steps})` : ""} in ${Math.round(summary.seconds)} s${summary.firstLoss === null || summary.lastLoss === null ? "" : `, loss ${summary.firstLoss.toFixed(3)} → ${summary.lastLoss.toFixed(3)} (ln vocab = ${Math.log(model.vocab).toFixed(3)})`}`,
          ...(e
            ? [
                `held-out ${e.rtd_loss === undefined ? "" : "generator "}MLM loss ${e.mlm_loss.toFixed(3)}, accuracy ${(100 * e.mlm_accuracy).toFixed(1)}%, perplexity ${e.perplexity.toFixed(1)}`,
              ]
            : []),
          ...(e?.rtd_loss !== undefined
            ? [
                `held-out replaced-token detection loss ${e.rtd_loss.toFixed(3)}, accuracy ${(100 * e.rtd_accuracy!).toFixed(1)}% (${(100 * e.replaced!).toFixed(1)}% of tokens replaced)`,
              ]
            : []),
          `run folder: ${summary.out} (report.html, log.jsonl, checkpoints/)`,
        ].join("\n"),
      );
      return summary.stoppedEarly ? interrupt.exitCode : 0;
    } finally {
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

/** Where a run stopped by Ctrl-C stands, and the command that continues it: these arguments plus --resume. */
export function interruptedMessage(
  s: { from: number; steps: number; checkpoint: string | null },
  totalSteps: number,
  args: readonly string[],
): string {
  const again = ["bdlc", "train", ...withoutResumeFlags(args)];
  if (s.checkpoint === null) return `interrupted before the first step: no checkpoint was saved; start again with:\n  ${shellLine(again)}`;
  const at = s.from + s.steps;
  // Stopped in the final evaluation: training is complete, so there is nothing to resume.
  if (at >= totalSteps)
    return `interrupted during the final evaluation: all ${totalSteps} steps are trained and saved in ${s.checkpoint}; evaluate it with:\n  ${shellLine(["bdlc", "eval", s.checkpoint])}`;
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
