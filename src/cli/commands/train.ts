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
import { SINGLE, type Distribution } from "../../torch/index.js";
import type { TorchOptions } from "../../app/torch-train.js";

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
  --engine E          tfjs (default: TensorFlow.js, on --backend) or torch: the model's
                      PyTorch module (bdlc compile --target torch), on CUDA where
                      there is a GPU, under torchrun with DDP for several processes
  --nproc N           the torch engine's processes on this machine (default 1)
  --nnodes N          machines in the run (default 1); with --node-rank R (this one's,
                      0 to N-1), --master-addr HOST and --master-port P (rank 0's)
  --precision P       the torch engine on CUDA: auto (default: bf16 autocast where the
                      GPU has it), bf16 or fp32; the CPU computes in fp32
  --fused-attention A the torch engine: auto (default: PyTorch's fused attention on CUDA,
                      with torch 2.x), on (also on the CPU) or off (written out)
  --dry-run           the torch engine: prepare the run folder and print the line that
                      runs it (PyTorch alone, no Node.js needed), without running it
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
        engine: { type: "string" },
        nproc: { type: "string" },
        nnodes: { type: "string" },
        "node-rank": { type: "string" },
        "master-addr": { type: "string" },
        "master-port": { type: "string" },
        "dry-run": { type: "boolean" },
        precision: { type: "string" },
        "fused-attention": { type: "string" },
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

    const engine = values.engine ?? "tfjs";
    if (engine !== "tfjs" && engine !== "torch") throw new UsageError(`--engine must be one of tfjs, torch, not '${engine}'.`);
    const torchOnly = (
      ["nproc", "nnodes", "node-rank", "master-addr", "master-port", "dry-run", "precision", "fused-attention"] as const
    ).filter((f) => values[f] !== undefined);
    if (engine === "tfjs" && torchOnly.length > 0) throw new UsageError(`--${torchOnly[0]} is the torch engine's: add --engine torch.`);
    if (engine === "torch" && values.backend !== undefined)
      throw new UsageError("--backend is the tfjs engine's; the torch engine runs on PyTorch (CUDA where there is a GPU).");
    if (engine === "torch" && recompute !== undefined) throw new UsageError("--recompute is the tfjs engine's.");
    const distribution = engine === "torch" ? distributionOf(values) : undefined;
    const precision = values.precision ?? "auto";
    if (!["auto", "bf16", "fp32"].includes(precision)) throw new UsageError(`--precision must be auto, bf16 or fp32, not '${precision}'.`);
    const fusedAttention = values["fused-attention"] ?? "auto";
    if (!["auto", "on", "off"].includes(fusedAttention))
      throw new UsageError(`--fused-attention must be auto, on or off, not '${fusedAttention}'.`);

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
          ...{ engine, distribution, dryRun: values["dry-run"] ?? false },
          ...{
            torchOptions: {
              precision: precision as TorchOptions["precision"],
              fusedAttention: fusedAttention as TorchOptions["fusedAttention"],
            },
          },
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
      if ("prepared" in outcome) {
        io.err(
          `prepared ${outcome.out}/torch for the torch engine; run it (with PyTorch, and nothing else) with the line below, then \`bdlc report ${outcome.out}\` draws its report:`,
        );
        io.out(outcome.launch);
        return 0;
      }
      if ("follower" in outcome) {
        io.out(
          `node ${outcome.nodeRank}: its ranks are done; node 0 (${outcome.masterAddr}) wrote the run folder, its checkpoints and log`,
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

/** The torch engine's processes, from --nproc, --nnodes, --node-rank, --master-addr and --master-port. */
function distributionOf(values: Record<string, string | boolean | undefined>): Distribution {
  const text = (flag: string) => values[flag] as string | undefined;
  const nnodes = text("nnodes") === undefined ? 1 : positiveIntFlag("--nnodes", text("nnodes"), 0);
  const nodeRank = text("node-rank") === undefined ? 0 : nonNegativeIntFlag("--node-rank", text("node-rank"), 0);
  if (nodeRank >= nnodes) throw new UsageError(`--node-rank must be below --nnodes (${nnodes}), not ${nodeRank}.`);
  if (nnodes > 1 && (text("master-addr") === undefined || text("node-rank") === undefined))
    throw new UsageError("--nnodes above 1 needs --node-rank R and --master-addr HOST (the address of node 0).");
  const port = text("master-port") === undefined ? SINGLE.masterPort : positiveIntFlag("--master-port", text("master-port"), 0);
  if (port > 65535) throw new UsageError(`--master-port must be a port (1 to 65535), not ${port}.`);
  return {
    nproc: text("nproc") === undefined ? 1 : positiveIntFlag("--nproc", text("nproc"), 0),
    nnodes,
    nodeRank,
    masterAddr: text("master-addr") ?? SINGLE.masterAddr,
    masterPort: port,
  };
}

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
