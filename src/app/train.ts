/**
 * Pretraining a model into a run folder: the backend, the teacher's checkpoint, the run lock,
 * resuming (the run's recorded settings, the checkpoint to continue from), the teacher run's
 * tokenizer, the corpus, and the runtime's training loop with the model's compiled graph.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { renderGraphSvg } from "../tools/architecture-svg.js";
import { countParams } from "../model/counts.js";
import type { ResolvedModel } from "../model/model.js";
import { isAllocationFailure } from "../runtime/system-error.js";
import { CheckpointError } from "../runtime/checkpoint/checkpoint.js";
import { CorpusError, loadCorpus } from "../runtime/data/corpus.js";
import { loadTokenizer, saveTokenizer, TokenizerFormatError, TokenizerTrainingError, trainTokenizer } from "../runtime/tokenizers/index.js";
import type { Progress } from "../runtime/train/progress.js";
import { acquireRunLock, RunLockError, type RunLock } from "../runtime/train/run-lock.js";
import { planResume, removeLeftovers, ResumeError, type GivenSettings, type RunSettings } from "../runtime/train/resume.js";
import type { RecomputeSetting } from "../runtime/train/step-memory.js";
import { train as runTraining, TrainingError, type TrainSummary } from "../runtime/train/trainer.js";
import { loadGraph } from "./graph-loader.js";
import { loadValidCheckpoint } from "./checkpoint.js";
import { startBackend } from "./backend.js";
import { InputError } from "./input-error.js";
import { inputErrorOf } from "./user-errors.js";
import { loadTokenizerFor } from "./tokenizer-lookup.js";
import { loadWeights } from "./weights-source.js";
import type { Engine } from "./run.js";
import { trainOnTorch, type TorchOptions } from "./torch-train.js";
import { SINGLE, TorchInputError, TorchMissing, type Distribution } from "../torch/index.js";

export interface TrainOptions {
  model: ResolvedModel;
  teacher: ResolvedModel | null;
  /** The settings given as flags; undefined where absent (the model's, or the resumed run's, apply). */
  given: GivenSettings;
  /** The run folder (default: runs/NAME). */
  out: string | undefined;
  /** The teacher's checkpoint or run folder, for a model with a teacher. */
  teacherCheckpoint: string | undefined;
  /** Continue the run in `out` from its latest checkpoint. */
  resume: boolean;
  /** Continue from this checkpoint's step instead. */
  resumeFrom: number | undefined;
  backend: string | undefined;
  /** Recompute each layer in the backward pass: `auto` (absent) where a step would not fit otherwise. */
  recompute?: RecomputeSetting;
  /** Start from these weights (a checkpoint of this project, a run folder or a Hugging Face folder) instead of a random draw. */
  init?: string;
  /** Use this tokenizer.json instead of training one. */
  tokenizer?: string;
  /** `tfjs` (absent) or `torch`: the model's PyTorch module under torchrun (app/torch-train.ts). */
  engine?: Engine;
  /** The torch engine's processes: per node, nodes, this node's rank, the rendezvous address. */
  distribution?: Distribution;
  /** The torch engine: prepare the run folder and print the launch line instead of running it. */
  dryRun?: boolean;
  /** The torch engine's precision and attention kernel (absent: auto, what the device does best). */
  torchOptions?: TorchOptions;
}

export interface TrainHooks {
  /** Made once the backend runs, for the training loop's lines. */
  progress(): Progress;
  /** Called when the step loop begins. */
  onStepLoop(): void;
  /** Polled between steps: true to stop after the current one, with a checkpoint. */
  shouldStop(): boolean;
}

export type TrainOutcome =
  /** `resume` of a run whose last checkpoint is its last step: nothing was done. */
  | { finished: true; out: string; step: number; steps: number }
  | { finished: false; summary: TrainSummary; steps: number }
  /** `--engine torch --dry-run`: the run folder is ready; `launch` runs it. */
  | { finished: false; prepared: true; out: string; launch: string }
  /** `--engine torch` on a node other than node 0: its ranks trained; node 0 holds the run folder. */
  | { finished: false; follower: true; nodeRank: number; masterAddr: string };

export async function train(o: TrainOptions, hooks: TrainHooks): Promise<TrainOutcome> {
  const { model, teacher } = o;
  const defaults: RunSettings = {
    steps: model.train.steps,
    batch: model.train.batch,
    accumulate: 1,
    lr: model.train.lr,
    seed: 0,
    corpus: "wordnet",
    saveEvery: 100,
    keep: 3,
    logEvery: 10,
    evalEvery: 0,
  };
  const torch = o.engine === "torch";
  // The torch engine draws the first weights here, as the tfjs engine does, on the reference backend.
  const backend = await startBackend(torch ? "cpu" : o.backend);
  let teacherWeights = null;
  if (model.teacher) {
    if (o.teacherCheckpoint === undefined)
      throw new InputError(`model '${model.name}' learns from teacher '${model.teacher.model}': give its checkpoint with --teacher CKPT.`);
    try {
      teacherWeights = loadValidCheckpoint(o.teacherCheckpoint, teacher ? { model: teacher } : undefined).weights;
    } catch (e) {
      throw inputErrorOf(e, [CheckpointError]);
    }
  }
  const out = o.out ?? `runs/${model.name}`;
  const { graph, teacher: teacherGraph } = torch ? { graph: null, teacher: null } : await loadGraph(model, teacher);
  const progress = hooks.progress();
  if (!torch)
    progress.message(`backend: ${backend}${o.backend === undefined || o.backend === "auto" ? " (auto: the fastest present)" : ""}`);
  let lock: RunLock | null = null;
  try {
    lock = acquireRunLock(out);
    if (lock.tookOverFrom)
      progress.message(
        `took over ${join(out, "run.lock")} from PID ${lock.tookOverFrom.pid} on ${lock.tookOverFrom.host}, which no longer runs`,
      );
    for (const removed of removeLeftovers(out)) progress.message(`removed ${removed}, left by a process that no longer runs`);
    // A resumed run continues from its own checkpoint and tokenizer: these would start another.
    for (const [flag, value] of [
      ["--init", o.init],
      ["--tokenizer", o.tokenizer],
    ] as const) {
      if ((o.resume || o.resumeFrom !== undefined) && value !== undefined)
        throw new InputError(
          `${flag} starts a run from other ${flag === "--init" ? "weights" : "tokens"}; --resume continues the run in ${out} with its own: leave ${flag} out`,
        );
    }
    const plan = o.resume || o.resumeFrom !== undefined ? planResume(out, model, teacher, o.given, defaults, o.resumeFrom) : null;
    if (plan?.finished) return { finished: true, out, step: plan.from.step, steps: plan.settings.steps };
    const settings: RunSettings = plan?.settings ?? { ...defaults, ...definedOnly(o.given) };
    const initWeights = o.init === undefined ? null : loadWeights("--init", o.init, model, teacher);
    if (o.tokenizer !== undefined) adoptTokenizer(o.tokenizer, out, model);
    // A student shares its teacher's vocabulary: start from the teacher run's tokenizer.
    if (o.teacherCheckpoint !== undefined && !plan) adoptTeacherTokenizer(o.teacherCheckpoint, out);
    const corpus = loadCorpus(settings.corpus);
    const common = {
      model,
      teacher,
      teacherWeights,
      ...(o.teacherCheckpoint !== undefined ? { teacherCheckpoint: o.teacherCheckpoint } : {}),
      backend,
      corpus,
      tokenizer: (texts: Iterable<string>) =>
        trainTokenizer(model.tokenizer.kind, texts, {
          vocabSize: model.vocab,
          lowercase: model.tokenizer.lowercase,
          special: model.special,
        }),
      loadTokenizer,
      saveTokenizer,
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
      recompute: o.recompute ?? "auto",
      initWeights,
      resume: plan ? { from: plan.from, damaged: plan.damaged } : null,
      progress,
      onStepLoop: hooks.onStepLoop,
      shouldStop: hooks.shouldStop,
      architectureSvg: renderGraphSvg(model, { teacher, params: countParams(model, teacher) }),
    };
    if (torch) {
      const result = await trainOnTorch({
        ...common,
        distribution: o.distribution ?? SINGLE,
        dryRun: o.dryRun ?? false,
        options: o.torchOptions ?? { precision: "auto", fusedAttention: "auto" },
      });
      if (result.prepared) return { finished: false, prepared: true, out, launch: result.launch };
      if ("follower" in result) {
        const d = o.distribution ?? SINGLE;
        return { finished: false, follower: true, nodeRank: d.nodeRank, masterAddr: d.masterAddr };
      }
      return { finished: false, summary: result.summary, steps: settings.steps };
    }
    const summary = await runTraining({ ...common, graph: graph!, teacherGraph });
    return { finished: false, summary, steps: settings.steps };
  } catch (e) {
    const user = inputErrorOf(e, [
      TrainingError,
      CorpusError,
      TokenizerTrainingError,
      TokenizerFormatError,
      CheckpointError,
      RunLockError,
      ResumeError,
      TorchInputError,
      TorchMissing,
    ]);
    if (user !== e) throw user;
    if (isAllocationFailure(e)) {
      const n = countParams(model, teacher).total;
      throw new InputError(
        `model '${model.name}' is too big to train on this machine: ${n.toLocaleString("en-US")} parameters (${((n * 4) / 2 ** 30).toFixed(1)} GiB as float32, about 4 times that with gradients and optimizer moments) could not be allocated (${(e as Error).message})`,
      );
    }
    throw e;
  } finally {
    lock?.release();
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Puts `file` in the run folder as its tokenizer, after checking it fits the model; a run
 * folder that already has another tokenizer is refused (its checkpoints were trained on that one).
 */
function adoptTokenizer(file: string, out: string, model: ResolvedModel): void {
  loadTokenizerFor(file, model, { named: `--tokenizer ${file}` });
  const target = join(out, "tokenizer.json");
  if (existsSync(target)) {
    if (readFileSync(target, "utf8") === readFileSync(file, "utf8")) return;
    throw new InputError(`--tokenizer ${file}: ${target} already holds another tokenizer; use another --out`);
  }
  copyIntoPlace(file, target);
}

/** Copies `source` to `target` under a temporary name, then renames it: a kill never leaves half a tokenizer. */
function copyIntoPlace(source: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true });
  const temp = `${target}.tmp-${process.pid}`;
  copyFileSync(source, temp);
  renameSync(temp, target);
}

/** Copies the tokenizer of the teacher's run (the checkpoint's run folder, or the folder itself) into `out`, unless it has one. */
function adoptTeacherTokenizer(teacherPath: string, out: string): void {
  const target = join(out, "tokenizer.json");
  if (existsSync(target)) return;
  for (const candidate of [join(teacherPath, "tokenizer.json"), join(teacherPath, "..", "..", "tokenizer.json")]) {
    if (existsSync(candidate)) {
      copyIntoPlace(candidate, target);
      return;
    }
  }
}
