/**
 * Pretraining: a compiled graph, a corpus and a tokenizer in; a run folder of checkpoints,
 * a JSONL log and a report out. Every source of randomness is a pure function of the seed
 * and the step (initial weights, batch order, masks, dropout), and the optimizer's state is
 * checkpointed with the weights, so a run resumed from a checkpoint ends with the weights
 * an uninterrupted run would have — bit for bit.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ResolvedModel } from "../../model/model.js";
import type { WeightMap } from "../checkpoint/hf-weights.js";
import { documentsOnSide, heldOutFlags, sentencesOf, trainingDocuments } from "../data/corpus.js";
import {
  exampleOptionsFor,
  examplesOf,
  firstExamples,
  sentencePairsFor,
  tokenizeSplit,
  type Examples,
  type SentencePairs,
} from "../data/examples.js";
import { maskExample } from "../data/masking.js";
import type { Corpus, Example } from "../data/types.js";
import {
  predictsMaskedTokens,
  type AnyGraphModule,
  type GraphInputs,
  type GraphLabels,
  type GraphTeacherOutputs,
} from "../graph-module.js";
import { initialWeights } from "../init.js";
import { stepRandomness, type Randomness } from "../layers/dropout.js";
import { createOptimizer, learningRate, type OptimizerStateInput } from "../optim/index.js";
import { parameterTable, type ParamSpec } from "../../model/parameters.js";
import { initFromTeacher } from "../teacher-init.js";
import { tf } from "../backends/tf.js";
import type { Tokenizer } from "../tokenizers/tokenizer.js";
import { collate } from "./collate.js";
import { evalBatchSize, evaluateMlm, type MlmEvaluation } from "./evaluate.js";
import { describeNonFinite, firstNonFinite, NonFiniteStep } from "./non-finite.js";
import type { Progress } from "./progress.js";
import { renderReport } from "../../tools/report.js";
import { RunFolder, type LoadedStep } from "./run-folder.js";
import { BatchOrder } from "./schedule-data.js";
import { accumulate, applyGradients, trainableVariables, type Gradients, type TrainState } from "./step.js";
import { yieldToEventLoop } from "./yield.js";
import { withRecomputation } from "../layers/recompute.js";
import { recomputeFor, type RecomputeSetting } from "./step-memory.js";

export interface TrainerOptions {
  model: ResolvedModel;
  teacher: ResolvedModel | null;
  graph: AnyGraphModule;
  teacherGraph: AnyGraphModule | null;
  /** The teacher's weights, for distillation objectives and `init layers` / `init embeddings`. */
  teacherWeights: WeightMap | null;
  /** Where the teacher's weights came from (`--teacher`), for the report. */
  teacherCheckpoint?: string;
  /** The backend as the user knows it (`native`, not the tfjs backend it runs on), for the report. */
  backend?: string;
  corpus: Corpus;
  /** The tokenizer to use, or a function that trains one (called only when the run has none yet). */
  tokenizer: (texts: Iterable<string>) => Tokenizer;
  loadTokenizer: (path: string) => Tokenizer;
  saveTokenizer: (t: Tokenizer, path: string) => void;
  out: string;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  saveEvery: number;
  keep: number;
  /** Continue from this checkpoint (checked by planResume), setting aside the damaged newer ones; null: a new run. */
  resume: { from: LoadedStep; damaged: number[] } | null;
  logEvery: number;
  evalEvery: number;
  accumulate: number;
  clipNorm: number;
  /** Recompute each sublayer in the backward pass (step-memory.ts); absent: `auto`. */
  recompute?: RecomputeSetting;
  /** A new run's first weights (`bdlc train --init`), checked against the model; absent or null: drawn at random. */
  initWeights?: WeightMap | null;
  /** Held-out examples to evaluate on (at most). */
  evalExamples: number;
  progress: Progress;
  /** Called as the step loop begins, after the setup (tokenizer, examples): from then on a stop can be clean. */
  onStepLoop?: () => void;
  /** Checked between steps (the loop yields to the event loop first, so a SIGINT handler can set it); true after Ctrl-C. */
  shouldStop: () => boolean;
  architectureSvg: string;
}

export interface TrainSummary {
  /** The step this invocation started from (0, or the checkpoint resumed). */
  from: number;
  /** Steps this invocation ran. */
  steps: number;
  /** Stopped by `shouldStop` before the last step or during the final evaluation. */
  stoppedEarly: boolean;
  /** The newest complete checkpoint's folder (null when none was saved: stopped before the first step). */
  checkpoint: string | null;
  seconds: number;
  firstLoss: number | null;
  lastLoss: number | null;
  evaluation: MlmEvaluation | null;
  out: string;
}

export class TrainingError extends Error {}

/** What a run starts from, for either engine: its folder, data, and the weights and optimizer state of its first step. */
export interface PreparedRun {
  folder: RunFolder;
  tokenizer: Tokenizer;
  examples: Examples;
  evalExamples: Example[];
  pairs: SentencePairs;
  table: ParamSpec[];
  /** The step the run continues from (0 for a new run). */
  start: number;
  weights: WeightMap;
  optimizerState: OptimizerStateInput | null;
}

/**
 * The run folder (created, or checked for a resume), the tokenizer (trained once), the
 * examples and held-out examples, and the first step's weights and optimizer state (the
 * checkpoint resumed, or drawn from the seed, `--init` and the teacher). Both engines start
 * from this, so the same seed gives the same data and the same first weights on either.
 */
export function prepareRun(
  o: Omit<TrainerOptions, "graph" | "teacherGraph" | "onStepLoop" | "shouldStop" | "architectureSvg">,
): PreparedRun {
  const { model } = o;
  const folder = new RunFolder(o.out);
  const saved = folder.savedSteps();
  if (!o.resume && saved.length > 0) {
    throw new TrainingError(
      `${o.out} already holds a run (checkpoints up to step ${saved.at(-1)}); use --resume to continue it or another --out`,
    );
  }
  folder.create();
  const padId = model.special["pad"] ?? 0;
  const pairs = sentencePairsFor(model);

  // Data: a fixed held-out split, the run's tokenizer, the corpus tokenized once into compact
  // stores (a file corpus is read as a stream each time: its text is never held whole).
  const held = heldOutFlags(o.corpus, 0.01);
  let tokenizer: Tokenizer;
  if (fs.existsSync(folder.tokenizer)) tokenizer = o.loadTokenizer(folder.tokenizer);
  else {
    o.progress.message(`training a ${model.tokenizer.kind} tokenizer (vocab ${model.vocab}) on ${trainingDocuments(held)} documents…`);
    tokenizer = o.tokenizer(sentencesOf(documentsOnSide(o.corpus, held, "train")));
    o.saveTokenizer(tokenizer, folder.tokenizer);
  }
  if (tokenizer.vocabSize !== model.vocab)
    throw new TrainingError(`${folder.tokenizer} has ${tokenizer.vocabSize} tokens; model '${model.name}' has vocab ${model.vocab}`);
  const encode = (t: string) => tokenizer.encode(t);
  const exampleOpts = exampleOptionsFor(model, pairs, o.seed);
  const stores = tokenizeSplit(o.corpus.documents(), held, encode, model.vocab);
  const examples = examplesOf(stores.train, exampleOpts);
  // Held-out MLM evaluation needs no sentence pairs: packed sentences use every held-out token.
  const evalExamples = firstExamples(examplesOf(stores.heldOut, { ...exampleOpts, sentencePairs: null }), o.evalExamples);
  if (examples.length < o.batch)
    throw new TrainingError(`corpus '${o.corpus.name}' yields ${examples.length} training sequences; a batch needs ${o.batch}`);
  o.progress.message(`${examples.length} training sequences, ${evalExamples.length} held out (seq ≤ ${model.train.seq})`);

  // Weights and optimizer: from the latest checkpoint, or initialised (and taken from the teacher where the .bdl says).
  const table = parameterTable(model, o.teacher);
  let start = 0;
  let weights: WeightMap;
  let optimizerState = null;
  if (o.resume) {
    const latest = o.resume.from;
    start = latest.step;
    weights = latest.weights;
    optimizerState = latest.optimizer;
    for (const damaged of o.resume.damaged)
      o.progress.message(`damaged checkpoint step-${damaged} set aside as ${folder.setAside(damaged)}`);
    folder.truncateLog(start);
    o.progress.message(`resuming from step ${start}`);
  } else {
    if (o.initWeights) {
      weights = o.initWeights;
      o.progress.message("starting from the --init weights");
    } else {
      weights = initialWeights(table, o.seed, padId);
      if (model.teacher && o.teacher && o.teacherWeights) weights = initFromTeacher(model, weights, o.teacher, o.teacherWeights);
    }
    // A log left by an attempt that died before its first checkpoint belongs to no run.
    if (fs.existsSync(folder.log)) folder.truncateLog(0);
    const options = {
      steps: o.steps,
      batch: o.batch,
      accumulate: o.accumulate,
      lr: o.lr,
      seed: o.seed,
      corpus: o.corpus.name,
      saveEvery: o.saveEvery,
      keep: o.keep,
      logEvery: o.logEvery,
      evalEvery: o.evalEvery,
    };
    folder.writeJson(folder.runJson, { model, teacher: o.teacher, options });
  }
  return { folder, tokenizer, examples, evalExamples, pairs, table, start, weights, optimizerState };
}

export async function train(o: TrainerOptions): Promise<TrainSummary> {
  const started = Date.now();
  const { model, graph } = o;
  const { folder, examples, evalExamples, pairs, table, start, weights, optimizerState } = prepareRun(o);
  const padId = model.special["pad"] ?? 0;
  const withSegments = model.embeddings.segments > 0;
  const decay = new Map(table.map((p) => [p.name, p.decay]));
  const state: TrainState = {
    variables: trainableVariables(weights),
    optimizer: createOptimizer({ ...model.train, kind: model.train.optimizer, lr: o.lr }, { noDecay: (n) => !decay.get(n) }),
    clipNorm: o.clipNorm,
  };
  if (optimizerState) state.optimizer.load(optimizerState);
  const teacherTensors = o.teacherWeights ? new Map([...o.teacherWeights].map(([n, w]) => [n, tf.tensor(w.values, w.shape)])) : null;
  const teacherParams = teacherTensors && o.teacherGraph ? o.teacherGraph.bindParams((n) => teacherTensors.get(n)) : null;
  if (graph.teacherOutputs && !teacherParams)
    throw new TrainingError(`model '${model.name}' learns from teacher '${model.teacher?.model}': give its checkpoint with --teacher`);

  const order = new BatchOrder(examples.length, o.batch, o.seed);
  const micro = Math.max(1, o.accumulate);
  const recompute = recomputeFor(o.recompute ?? "auto", tf.getBackend(), model, o.teacher, Math.ceil(o.batch / micro));
  if (recompute.reason) o.progress.message(recompute.reason);
  const currentWeights = (): WeightMap =>
    new Map([...state.variables].map(([n, v]) => [n, { shape: v.shape, values: v.dataSync() as Float32Array }]));
  let lastSaved = o.resume ? start : -1;
  const save = (step: number) => {
    folder.saveStep(step, model, o.teacher, currentWeights(), state.optimizer.state(), { seed: o.seed, corpus: o.corpus.name }, o.keep);
    lastSaved = step;
  };
  const newestCheckpoint = () => {
    const newest = folder.savedSteps().at(-1);
    return newest === undefined ? null : path.join(folder.checkpoints, `step-${newest}`);
  };
  /** Null without an MLM head or held-out data, or when stopped by Ctrl-C (nothing is logged then). */
  const evaluate = async (step: number): Promise<MlmEvaluation | null> => {
    if (!predictsMaskedTokens(graph) || evalExamples.length === 0) return null;
    const opts = { seed: o.seed, batch: evalBatchSize(model.train.seq), padId, withSegments, shouldStop: o.shouldStop };
    const result = await evaluateMlm(
      graph,
      graph.bindParams((n) => state.variables.get(n)),
      evalExamples,
      model.masking,
      opts,
    );
    if (result) folder.appendLog({ kind: "eval", step, ...result });
    return result;
  };

  let firstLoss: number | null = null;
  let lastLoss: number | null = null;
  let windowTokens = 0;
  let windowStart = Date.now();
  // The losses of the steps since the last log row, which logs their mean (as the Hugging Face Trainer does).
  let windowSteps = 0;
  let windowLoss = 0;
  let windowTerms: Record<string, number> = {};
  let step = start;
  let stoppedEarly = false;
  let lr = 0;
  let weightsChanged = false;
  o.onStepLoop?.();
  try {
    for (; step < o.steps; step++) {
      await yieldToEventLoop();
      if (o.shouldStop()) {
        stoppedEarly = true;
        break;
      }
      const slots = order.slots(step);
      const per = Math.ceil(slots.length / micro);
      const previousLr = step > start ? lr : null;
      lr = learningRate(step, { lr: o.lr, warmup: model.train.warmup, decay: model.train.decay, steps: o.steps });
      /** Micro-batch `m` of this step as the graph takes it, for `use`; its tensors are freed after. */
      const onMicroBatch = <R>(
        m: number,
        use: (x: GraphInputs, y: GraphLabels, random: Randomness, teacher: GraphTeacherOutputs | undefined) => R,
      ): R => {
        const masked = slots.slice(m * per, (m + 1) * per).map((s) =>
          maskExample(examples.get(s.index), model.masking, {
            seed: o.seed,
            epoch: s.epoch,
            index: s.index,
            step,
            vocab: model.vocab,
            special: model.special,
          }),
        );
        const batch = collate(masked, padId, pairs, withSegments);
        const teacherOut = teacherParams && graph.teacherOutputs ? tf.tidy(() => graph.teacherOutputs!(teacherParams, batch.x)) : undefined;
        try {
          return use(batch.x, batch.y, stepRandomness(o.seed, step * micro + m), teacherOut);
        } finally {
          windowTokens += batch.tokens;
          batch.dispose();
          if (teacherOut) tf.dispose(teacherOut);
        }
      };
      let result;
      try {
        result = withRecomputation(recompute.on, () => {
          if (micro === 1) return onMicroBatch(0, (x, y, random, teacher) => graph.trainStep(state, lr, x, y, random, teacher));
          // Accumulation: each micro-batch's gradients from the graph, summed, then one update averaged over `micro`.
          let sum: Gradients | null = null;
          for (let m = 0; m < micro; m++) {
            if (m * per >= slots.length) continue;
            const g = onMicroBatch(m, (x, y, random, teacher) => graph.gradients(state.variables, x, y, random, teacher));
            sum = sum ? accumulate(sum, g) : g;
          }
          return applyGradients(state, sum!, lr, micro);
        });
      } catch (e) {
        if (!(e instanceof NonFiniteStep)) throw e;
        throw new TrainingError(
          describeNonFinite(e, {
            run: "training",
            step: step + 1,
            weightsUnchanged: !weightsChanged,
            startedFrom: o.resume ? `the weights of the checkpoint of step ${start}` : "the initial weights",
            previousLoss: step > start ? lastLoss : null,
            previousLr,
            brokenWeight: firstNonFinite(state.variables.keys(), state.variables),
            kept: keptCheckpoint(newestCheckpoint()),
          }),
        );
      }
      if (lr > 0) weightsChanged = true;
      firstLoss ??= result.loss;
      lastLoss = result.loss;
      windowSteps++;
      windowLoss += result.loss;
      for (const [k, v] of Object.entries(result.terms)) windowTerms[k] = (windowTerms[k] ?? 0) + v;
      const done = step + 1;
      if (done % o.logEvery === 0 || done === o.steps) {
        const seconds = (Date.now() - windowStart) / 1000;
        const tokensPerSecond = windowTokens / Math.max(seconds, 1e-9);
        const loss = windowLoss / windowSteps;
        const terms = Object.fromEntries(Object.entries(windowTerms).map(([k, v]) => [k, v / windowSteps]));
        folder.appendLog({
          step: done,
          loss,
          terms,
          ...terms,
          // How many steps the means are over: the logging window, or fewer after a resume or at the end.
          steps_averaged: windowSteps,
          lr,
          tokens_per_s: tokensPerSecond,
          grad_norm: result.gradNorm,
        });
        o.progress.update({
          step: done,
          steps: o.steps,
          loss,
          tokensPerSecond,
          eta: (o.steps - done) * (seconds / windowSteps),
        });
        windowTokens = 0;
        windowStart = Date.now();
        windowSteps = 0;
        windowLoss = 0;
        windowTerms = {};
      }
      if (done % o.saveEvery === 0 && done < o.steps) save(done);
      if (o.evalEvery > 0 && done % o.evalEvery === 0 && done < o.steps) await evaluate(done);
    }
    // Stopped before any step of this invocation: the newest checkpoint (if any) is already this state.
    if (step > start && lastSaved !== step) save(step);
    const evaluation = stoppedEarly ? null : await evaluate(step);
    if (o.shouldStop()) stoppedEarly = true; // Ctrl-C during the final evaluation: its result is not logged
    o.progress.done();
    const summary: TrainSummary = {
      from: start,
      steps: step - start,
      stoppedEarly,
      checkpoint: newestCheckpoint(),
      seconds: (Date.now() - started) / 1000,
      firstLoss,
      lastLoss,
      evaluation,
      out: o.out,
    };
    writeReport(o, folder, summary);
    return summary;
  } finally {
    state.optimizer.dispose();
    for (const v of state.variables.values()) v.dispose();
    if (teacherTensors) for (const t of teacherTensors.values()) t.dispose();
  }
}

function keptCheckpoint(dir: string | null): string {
  return dir === null ? "no checkpoint was saved yet" : `the last complete checkpoint, ${dir}, is kept as it was`;
}

/** report.html of a run; `engine` says what trained it when it was not this engine (the torch engine's runs). */
export function writeReport(
  o: Pick<TrainerOptions, "model" | "corpus" | "backend" | "teacherCheckpoint" | "architectureSvg"> & { engine?: string },
  folder: RunFolder,
  s: TrainSummary,
): void {
  const summary: Record<string, string | number> = {
    model: o.model.name,
    corpus: o.corpus.name,
    // The TensorFlow.js engine, on this backend.
    engine: o.engine ?? `tfjs (${o.backend ?? tf.getBackend()})`,
    ...(o.model.teacher ? { teacher: `${o.model.teacher.model} from ${o.teacherCheckpoint ?? o.model.teacher.checkpoint ?? "-"}` } : {}),
    steps: s.from > 0 ? `${s.from + s.steps} (${s.steps} after resuming from step ${s.from})` : s.steps,
    "wall time (s)": Math.round(s.seconds),
    "first loss": s.firstLoss?.toFixed(4) ?? "-",
    "last loss": s.lastLoss?.toFixed(4) ?? "-",
    "ln(vocab)": Math.log(o.model.vocab).toFixed(4),
  };
  if (s.evaluation) {
    summary["held-out MLM loss"] = s.evaluation.mlm_loss.toFixed(4);
    summary["held-out MLM accuracy"] = s.evaluation.mlm_accuracy.toFixed(4);
    summary["held-out perplexity"] = s.evaluation.perplexity.toFixed(2);
    if (s.evaluation.rtd_accuracy !== undefined)
      summary["held-out replaced-token detection accuracy"] = s.evaluation.rtd_accuracy.toFixed(4);
  }
  const html = renderReport({ model: o.model.name, log: folder.readLog(), architectureSvg: o.architectureSvg, summary });
  const temp = `${folder.report}.tmp-${process.pid}`;
  fs.writeFileSync(temp, html);
  fs.renameSync(temp, folder.report);
}
