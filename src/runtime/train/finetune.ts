/**
 * Fine-tuning a sequence classifier: the model's encoder (its compiled graph's `encode`)
 * plus a classification head, as Hugging Face's `…ForSequenceClassification`:
 *
 *   pooled = poolerOutput            when the model declares a pooler (BERT, ALBERT)
 *          = last hidden state[:, 0] otherwise ([CLS] / <s>: DistilBERT, RoBERTa-style),
 *                                    and always for the heads that read the first token
 *   logits = head(pooled)            the family's class's head (model/classifier.ts):
 *                                    dense(dropout(pooled, model.dropout)), H → num_labels,
 *                                    for BERT, ALBERT and RoBERTa; a dense H → H layer and
 *                                    its activation (and LayerNorm) first for DistilBERT,
 *                                    ELECTRA and ModernBERT
 *   loss   = cross-entropy(logits, label)
 *
 * Head kernels start N(0, 0.02²), biases zeros and LayerNorm weights ones, from the seed
 * (model/classifier.ts's table, initialised as the encoder's is); the encoder from a checkpoint, or
 * from the same random initialisation as pretraining (`--from-scratch`). Texts become
 * [CLS] text [SEP], truncated to `seq`. AdamW, linear warmup over 10% of the steps then
 * linear decay, global-norm clipping at 1; every source of randomness (example order,
 * dropout, head init) is a function of the seed. Evaluation reports accuracy and macro-F1
 * on the task's test split.
 */
import {
  CLASSIFIER_BIAS,
  CLASSIFIER_DENSE,
  CLASSIFIER_KERNEL,
  CLASSIFIER_NORM,
  classifierHeadLayers,
  classifierHeadNames,
  classifierHeadTable,
  type HeadKind,
  type Pooling,
} from "../../model/classifier.js";
import { classifierHeadFor } from "../../model/hf/classifier.js";
import type { ResolvedModel } from "../../model/model.js";
import type { WeightMap } from "../checkpoint/hf-weights.js";
import { accuracy, macroF1 } from "../data/metrics.js";
import { createRng, seedFrom, shuffle } from "../data/random.js";
import type { LabelledText, Task } from "../data/types.js";
import type { AnyGraphModule, BoundParams, GraphEncoderOutputs, GraphInputs } from "../graph-module.js";
import { initialWeights } from "../init.js";
import { activation, gelu } from "../layers/activations.js";
import { dense, type DenseParams } from "../layers/dense.js";
import { dropout, EVAL, stepRandomness, type Randomness } from "../layers/dropout.js";
import { layerNorm, type LayerNormParams } from "../layers/layer-norm.js";
import { crossEntropy } from "../objectives/cross-entropy.js";
import { createOptimizer, learningRate } from "../optim/index.js";
import { tf, type Tensor, type Tensor1D, type Tensor2D } from "../backends/tf.js";
import type { Tokenizer } from "../tokenizers/tokenizer.js";
import type { Progress } from "./progress.js";
import { describeNonFinite, firstNonFinite, NonFiniteStep } from "./non-finite.js";
import { applyGradients, computeGradients, type TrainState } from "./step.js";
import { yieldToEventLoop } from "./yield.js";

/** Names of the classification head's last layer, beside the model's own parameters in one variable map. */
export const HEAD_KERNEL = CLASSIFIER_KERNEL;
export const HEAD_BIAS = CLASSIFIER_BIAS;

/** Fraction of the steps spent warming the learning rate up. */
export const WARMUP_FRACTION = 0.1;

export class FinetuneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FinetuneError";
  }
}

export type { Pooling } from "../../model/classifier.js";

/** What a `head` head reads by default: the first token's state for the heads that read it, else the pooler's output when the model has a pooler. */
export function poolingFor(model: Pick<ResolvedModel, "pooler">, head: HeadKind = "dense"): Pooling {
  return head === "dense" && model.pooler === "tanh" ? "pooler" : "cls";
}

/** [B, H]: the sequence summary the classification head reads. */
export function pooledOutput(out: GraphEncoderOutputs, pooling: Pooling): Tensor2D {
  if (pooling === "pooler") {
    if (!out.poolerOutput) throw new Error("the encoder has no pooler output");
    return out.poolerOutput;
  }
  const [batch, , hidden] = out.lastHiddenState.shape;
  return tf.reshape(tf.slice(out.lastHiddenState, [0, 0, 0], [batch, 1, hidden]), [batch, hidden]);
}

/** Initial weights of a `head` head on `model` for `numLabels` classes (see model/classifier.ts); a function of the seed. */
export function headWeights(model: ResolvedModel, head: HeadKind, numLabels: number, seed: number): WeightMap {
  return initialWeights(classifierHeadTable(model, head, numLabels), seed, 0);
}

/** The head's layers as tensors, by kind: the H → H layer and LayerNorm where it has them, and the last layer. */
export type ClassifierHead =
  | { kind: "dense"; out: DenseParams }
  | { kind: "dense-relu" | "dense-gelu"; dense: DenseParams; out: DenseParams }
  | { kind: "dense-norm"; dense: DenseParams; norm: LayerNormParams; out: DenseParams };

/** The `kind` head of `model` bound to the tensors `lookup` gives for its names. */
export function classifierHead(model: ResolvedModel, kind: HeadKind, lookup: (name: string) => Tensor | undefined): ClassifierHead {
  const get = (name: string): Tensor => {
    const t = lookup(name);
    if (!t) throw new FinetuneError(`the classifier's weights lack its head's tensor '${name}'`);
    return t;
  };
  const layers = new Map(classifierHeadLayers(model, kind).map((l) => [l.prefix, l]));
  const denseAt = (prefix: string): DenseParams => ({
    kernel: get(`${prefix}.kernel`) as Tensor2D,
    ...(layers.get(prefix)!.bias ? { bias: get(`${prefix}.bias`) as Tensor1D } : {}),
  });
  const out = denseAt("classifier");
  switch (kind) {
    case "dense":
      return { kind, out };
    case "dense-relu":
    case "dense-gelu":
      return { kind, dense: denseAt(CLASSIFIER_DENSE), out };
    case "dense-norm": {
      const norm = { weight: get(`${CLASSIFIER_NORM}.weight`) as Tensor1D };
      return {
        kind,
        dense: denseAt(CLASSIFIER_DENSE),
        norm: layers.get(CLASSIFIER_NORM)!.bias ? { ...norm, bias: get(`${CLASSIFIER_NORM}.bias`) as Tensor1D } : norm,
        out,
      };
    }
  }
}

/**
 * Logits [B, numLabels] of the head on `pooled` [B, H], with dropout at the model's rate where
 * the family's class drops out (model/classifier.ts): DistilBERT's head adds none before its
 * first layer, ELECTRA's one, ModernBERT's none (its `classifier_dropout`, written as the same rate).
 */
export function headLogits(pooled: Tensor2D, head: ClassifierHead, model: ResolvedModel, random: Randomness): Tensor2D {
  const drop = (x: Tensor2D) => dropout(x, model.dropout, random);
  switch (head.kind) {
    case "dense":
      return dense(drop(pooled), head.out);
    case "dense-relu":
      return dense(drop(tf.relu(dense(pooled, head.dense))), head.out);
    case "dense-gelu":
      // transformers' ElectraClassificationHead takes GELU by name, whatever the encoder's activation.
      return dense(drop(gelu(dense(drop(pooled), head.dense))), head.out);
    case "dense-norm": {
      // ModernBertPredictionHead: the model's activation (`classifier_activation`), LayerNorm with its eps.
      const hidden = activation<Tensor2D>(model.activation)(dense(pooled, head.dense));
      return dense(drop(layerNorm(hidden, head.norm, model.norm_eps)), head.out);
    }
  }
}

/** Logits [B, numLabels] of the classifier: encode, pool, head. */
export function classifierLogits(
  graph: AnyGraphModule,
  params: BoundParams,
  head: ClassifierHead,
  x: GraphInputs,
  pooling: Pooling,
  random: Randomness,
): Tensor2D {
  const out = graph.encode(params, x, random);
  return headLogits(pooledOutput(out, pooling), head, graph.config, random);
}

/** [CLS] text [SEP] as ids, the text's tokens cut so that the whole fits in `seq`. */
export function classificationIds(
  text: string,
  tokenizer: Pick<Tokenizer, "encode">,
  special: Record<string, number>,
  seq: number,
): number[] {
  const cls = special["cls"] ?? special["bos"];
  const sep = special["sep"] ?? special["eos"];
  if (cls === undefined || sep === undefined)
    throw new FinetuneError("the model declares no 'cls' and 'sep' (or 'bos' and 'eos') special tokens");
  return [cls, ...tokenizer.encode(text).ids.slice(0, Math.max(0, seq - 2)), sep];
}

interface Encoded {
  ids: number[];
  label: number;
}

interface ClassifierBatch {
  x: GraphInputs;
  labels: Tensor1D;
  tokens: number;
  dispose(): void;
}

export function collateClassifier(rows: readonly Encoded[], padId: number, withSegments: boolean): ClassifierBatch {
  const length = Math.max(...rows.map((r) => r.ids.length));
  const pad = (row: number[], value: number) => [...row, ...Array<number>(length - row.length).fill(value)];
  const inputIds = tf.tensor2d(
    rows.map((r) => pad(r.ids, padId)),
    [rows.length, length],
    "int32",
  );
  const attentionMask = tf.tensor2d(
    rows.map((r) =>
      pad(
        r.ids.map(() => 1),
        0,
      ),
    ),
    [rows.length, length],
    "int32",
  );
  const tokenTypeIds = withSegments ? (tf.zeros([rows.length, length], "int32") as Tensor2D) : undefined;
  const labels = tf.tensor1d(
    rows.map((r) => r.label),
    "int32",
  );
  const all: Tensor[] = [inputIds, attentionMask, labels, ...(tokenTypeIds ? [tokenTypeIds] : [])];
  return {
    x: { inputIds, attentionMask, ...(tokenTypeIds ? { tokenTypeIds } : {}) },
    labels,
    tokens: rows.reduce((n, r) => n + r.ids.length, 0),
    dispose: () => all.forEach((t) => t.dispose()),
  };
}

export interface FinetuneOptions {
  model: ResolvedModel;
  graph: AnyGraphModule;
  /** The encoder's starting weights (a checkpoint's, or a random initialisation); at least the graph's parameters. */
  weights: WeightMap;
  tokenizer: Pick<Tokenizer, "encode">;
  task: Task;
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  /** Train on at most this many examples (a seeded sample of the task's training split). */
  maxExamples: number;
  /** Evaluate on at most this many test examples (a fixed sample, the same for every seed). */
  maxTest: number;
  /** Longest input, [CLS] and [SEP] included. */
  seq: number;
  /** The head (default: the model's family's class's, {@link classifierHeadFor}). */
  head?: HeadKind;
  /** What the head reads (default: {@link poolingFor} the model and head). */
  pooling?: Pooling;
  weightDecay?: number;
  clipNorm?: number;
  logEvery?: number;
  progress?: Progress;
  /** Checked between steps and test batches (the loop yields to the event loop first); true after Ctrl-C. */
  shouldStop?: () => boolean;
  /** Return the trained weights (the encoder's and the head's) in the result, to save them. */
  keepWeights?: boolean;
}

export interface FinetuneResult {
  task: string;
  labels: string[];
  head: HeadKind;
  pooling: Pooling;
  /** Training examples used. */
  examples: number;
  test_examples: number;
  epochs: number;
  batch: number;
  lr: number;
  seq: number;
  seed: number;
  steps: number;
  first_loss: number | null;
  last_loss: number | null;
  accuracy: number;
  macro_f1: number;
  seconds: number;
  /** Throughput of classifying the test set (batches of 64, no dropout): what distillation speeds up. */
  inference_tokens_per_s: number;
  /** Stopped by `shouldStop`: training or the test predictions are incomplete (the metrics are then 0). */
  stopped_early: boolean;
  /** With `keepWeights`: every graph parameter and the head's, as trained (null otherwise, or when stopped early). */
  weights: WeightMap | null;
}

/** A sample of at most `n` items, in a seeded random order (all of them when n ≥ length). */
function sample<T>(items: readonly T[], n: number, seed: number): T[] {
  return shuffle([...items], createRng(seed)).slice(0, Math.max(0, n));
}

/** Batches per chunk of similar-length examples (see {@link epochBatches}). */
export const BUCKET_BATCHES = 50;

/**
 * One epoch's batches, as lists of example indices: the examples in a seeded random order,
 * cut into chunks of {@link BUCKET_BATCHES} batches; each chunk sorted by length and cut into
 * batches; then the batches shuffled. Batches of similar lengths waste little on padding
 * (glosses run from 3 to 60 tokens), while every batch is still a random draw. A function
 * of (lengths, batch, seed).
 */
export function epochBatches(rows: readonly { ids: readonly number[] }[], batch: number, seed: number): number[][] {
  const rng = createRng(seed);
  const order = shuffle(
    rows.map((_, i) => i),
    rng,
  );
  const chunk = batch * BUCKET_BATCHES;
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += chunk) {
    const part = order.slice(start, start + chunk).sort((a, b) => rows[a]!.ids.length - rows[b]!.ids.length || a - b);
    for (let b = 0; b < part.length; b += batch) batches.push(part.slice(b, b + batch));
  }
  return shuffle(batches, rng);
}

export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const started = Date.now();
  const { model, graph, task } = o;
  const numLabels = task.labels.length;
  const classOf = new Map(task.labels.map((l, i) => [l, i]));
  const padId = model.special["pad"] ?? 0;
  const withSegments = model.embeddings.segments > 0;
  const headKind = o.head ?? classifierHeadFor(model);
  const pooling = o.pooling ?? poolingFor(model, headKind);
  if (pooling === "pooler" && model.pooler !== "tanh")
    throw new FinetuneError(`model '${model.name}' has no pooler; use the [CLS] hidden state (pooling cls)`);
  const encode = (items: readonly LabelledText[]): Encoded[] =>
    items.map((e) => ({ ids: classificationIds(e.text, o.tokenizer, model.special, o.seq), label: classOf.get(e.label)! }));
  const train = encode(sample(task.train, o.maxExamples, seedFrom(o.seed, "finetune-sample")));
  // Shortest first: batches of similar lengths pad little (the metrics do not depend on order).
  const test = encode(sample(task.test, o.maxTest, seedFrom(0, "finetune-test"))).sort((a, b) => a.ids.length - b.ids.length);
  if (train.length === 0) throw new FinetuneError(`task '${task.name}' has no training examples`);
  if (test.length === 0) throw new FinetuneError(`task '${task.name}' has no test examples`);

  const batch = Math.min(o.batch, train.length);
  const perEpoch = Math.ceil(train.length / batch);
  const steps = perEpoch * o.epochs;
  const warmup = Math.round(WARMUP_FRACTION * steps);
  o.progress?.message(
    `fine-tuning on ${train.length} examples (${numLabels} labels, ${test.length} test), ${steps} steps of ${batch}, pooling: ${pooling === "pooler" ? "pooler output" : "[CLS] hidden state"}, head: ${headKind}`,
  );

  // Every parameter of the graph (bindParams wants them all) plus the head, as variables.
  const headTable = classifierHeadTable(model, headKind, numLabels);
  const head = headWeights(model, headKind, numLabels, o.seed);
  const start = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const spec of graph.parameters) {
    const w = o.weights.get(spec.name);
    if (!w) throw new FinetuneError(`the weights lack parameter '${spec.name}' of model '${model.name}'`);
    start.set(spec.name, w);
  }
  for (const [name, w] of head) start.set(name, w);
  const decay = new Map<string, boolean>([
    ...graph.parameters.map((p): [string, boolean] => [p.name, p.decay]),
    ...headTable.map((p): [string, boolean] => [p.name, p.decay]),
  ]);
  const state: TrainState = {
    variables: new Map(
      [...start].map(([name, w]) => {
        const initial = tf.tensor(w.values, w.shape);
        const variable = tf.variable(initial, true);
        initial.dispose();
        return [name, variable];
      }),
    ),
    optimizer: createOptimizer(
      { kind: "adamw", lr: o.lr, beta1: 0.9, beta2: 0.999, eps: 1e-6, weight_decay: o.weightDecay ?? 0.01 },
      { noDecay: (n) => !decay.get(n) },
    ),
    clipNorm: o.clipNorm ?? 1,
  };

  let firstLoss: number | null = null;
  let lastLoss: number | null = null;
  let step = 0;
  let stoppedEarly = false;
  let weightsChanged = false;
  const logEvery = Math.max(1, o.logEvery ?? 10);
  let windowTokens = 0;
  let windowLoss = 0;
  let windowSteps = 0;
  let windowStart = Date.now();
  try {
    training: for (let epoch = 0; epoch < o.epochs; epoch++) {
      const batches = epochBatches(train, batch, seedFrom(o.seed, "finetune-order", epoch));
      for (const indices of batches) {
        await yieldToEventLoop();
        if (o.shouldStop?.()) {
          stoppedEarly = true;
          break training;
        }
        const rows = indices.map((i) => train[i]!);
        const data = collateClassifier(rows, padId, withSegments);
        const random = stepRandomness(seedFrom(o.seed, "finetune"), step);
        let g;
        try {
          g = computeGradients(state.variables, (lookup) => {
            const logits = classifierLogits(
              graph,
              graph.bindParams(lookup),
              classifierHead(model, headKind, lookup),
              data.x,
              pooling,
              random,
            );
            const loss = crossEntropy(logits, data.labels);
            return { loss, terms: {} };
          });
        } finally {
          data.dispose();
        }
        const previousLr = step > 0 ? learningRate(step - 1, { lr: o.lr, warmup, decay: "linear", steps }) : null;
        const lr = learningRate(step, { lr: o.lr, warmup, decay: "linear", steps });
        let result;
        try {
          result = applyGradients(state, g, lr);
        } catch (e) {
          if (!(e instanceof NonFiniteStep)) throw e;
          const context = {
            run: "fine-tuning",
            step: step + 1,
            weightsUnchanged: !weightsChanged,
            startedFrom: "the starting weights",
            previousLoss: lastLoss,
            previousLr,
            brokenWeight: firstNonFinite(state.variables.keys(), state.variables),
            kept: "nothing was written",
          };
          throw new FinetuneError(describeNonFinite(e, context));
        }
        if (lr > 0) weightsChanged = true;
        firstLoss ??= result.loss;
        lastLoss = result.loss;
        windowTokens += data.tokens;
        windowLoss += result.loss;
        windowSteps++;
        const done = ++step;
        if (done % logEvery === 0 || done === steps) {
          const seconds = (Date.now() - windowStart) / 1000;
          o.progress?.update({
            step: done,
            steps,
            loss: windowLoss / windowSteps,
            tokensPerSecond: windowTokens / Math.max(seconds, 1e-9),
            eta: (steps - done) * (seconds / windowSteps),
          });
          windowTokens = 0;
          windowLoss = 0;
          windowSteps = 0;
          windowStart = Date.now();
        }
      }
    }
    o.progress?.done();
    // One warm-up batch first, so the timing leaves out one-off kernel and session setup.
    const shouldStop = o.shouldStop ?? (() => false);
    const warm = stoppedEarly
      ? null
      : await predict(graph, state.variables, test.slice(0, 64), headKind, pooling, padId, withSegments, 64, shouldStop);
    const inferStart = performance.now();
    const predicted =
      warm === null ? null : await predict(graph, state.variables, test, headKind, pooling, padId, withSegments, 64, shouldStop);
    const inferSeconds = (performance.now() - inferStart) / 1000;
    if (predicted === null) stoppedEarly = true;
    const testTokens = test.reduce((n, r) => n + r.ids.length, 0);
    const trained: WeightMap | null =
      o.keepWeights && !stoppedEarly
        ? new Map(
            [...state.variables].map(([name, v]) => [
              name,
              { shape: v.shape.slice(), values: Float32Array.from(v.dataSync() as Float32Array) },
            ]),
          )
        : null;
    const gold = test.map((r) => r.label);
    return {
      task: task.name,
      labels: task.labels,
      head: headKind,
      pooling,
      examples: train.length,
      test_examples: test.length,
      epochs: o.epochs,
      batch,
      lr: o.lr,
      seq: o.seq,
      seed: o.seed,
      steps: step,
      first_loss: firstLoss,
      last_loss: lastLoss,
      accuracy: predicted ? accuracy(gold, predicted) : 0,
      macro_f1: predicted ? macroF1(gold, predicted, numLabels) : 0,
      seconds: (Date.now() - started) / 1000,
      inference_tokens_per_s: testTokens / Math.max(inferSeconds, 1e-9),
      stopped_early: stoppedEarly,
      weights: trained,
    };
  } finally {
    state.optimizer.dispose();
    for (const v of state.variables.values()) v.dispose();
  }
}

/** Predicted class ids (argmax of {@link logitRows}), in order; null when `shouldStop` turned true first. */
async function predict(
  graph: AnyGraphModule,
  variables: Map<string, tf.Variable>,
  rows: readonly Encoded[],
  head: HeadKind,
  pooling: Pooling,
  padId: number,
  withSegments: boolean,
  batch: number,
  shouldStop: () => boolean,
): Promise<number[] | null> {
  const logits = await logitRows(graph, (name) => variables.get(name), rows, head, pooling, padId, withSegments, batch, shouldStop);
  return logits === null ? null : logits.map(argMax);
}

/** The index of the largest value (the first of equal ones). */
export function argMax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * The classifier's logits (no dropout) for each row, in order, in batches of `batch`: what
 * evaluation takes the argmax of, and what `classify` returns; null when `shouldStop` turned
 * true first.
 */
async function logitRows(
  graph: AnyGraphModule,
  lookup: (name: string) => Tensor | undefined,
  rows: readonly { ids: readonly number[] }[],
  kind: HeadKind,
  pooling: Pooling,
  padId: number,
  withSegments: boolean,
  batch: number,
  shouldStop: () => boolean,
): Promise<number[][] | null> {
  const head = classifierHead(graph.config, kind, lookup);
  const out: number[][] = [];
  for (let start = 0; start < rows.length; start += batch) {
    await yieldToEventLoop();
    if (shouldStop()) return null;
    const part = rows.slice(start, start + batch).map((r) => ({ ids: [...r.ids], label: 0 }));
    const data = collateClassifier(part, padId, withSegments);
    try {
      const logits = tf.tidy(() => classifierLogits(graph, graph.bindParams(lookup), head, data.x, pooling, EVAL));
      try {
        out.push(...(logits.arraySync() as number[][]));
      } finally {
        logits.dispose();
      }
    } finally {
      data.dispose();
    }
  }
  return out;
}

export interface ClassifyOptions {
  model: ResolvedModel;
  graph: AnyGraphModule;
  /** Every graph parameter and the head's tensors (model/classifier.ts). */
  weights: WeightMap;
  tokenizer: Pick<Tokenizer, "encode">;
  texts: readonly string[];
  /** The classifier's head (a saved one's: runtime/checkpoint/classifier.ts's `headOf` its record). */
  head: HeadKind;
  pooling: Pooling;
  /** Longest input, [CLS] and [SEP] included: the seq the classifier was fine-tuned with. */
  seq: number;
  /** Texts per forward pass (default 64, as evaluation batches them). */
  batch?: number;
}

/** A fine-tuned classifier's logits [texts][labels] (no dropout), computed as evaluation computes them. */
export async function classify(o: ClassifyOptions): Promise<number[][]> {
  const { model } = o;
  for (const name of [...o.graph.parameters.map((p) => p.name), ...classifierHeadNames(model, o.head)])
    if (!o.weights.has(name)) throw new FinetuneError(`the classifier's weights lack parameter '${name}' of model '${model.name}'`);
  const tensors = new Map([...o.weights].map(([name, w]) => [name, tf.tensor(w.values, w.shape)]));
  try {
    const rows = o.texts.map((text) => ({ ids: classificationIds(text, o.tokenizer, model.special, o.seq) }));
    const logits = await logitRows(
      o.graph,
      (name) => tensors.get(name),
      rows,
      o.head,
      o.pooling,
      model.special["pad"] ?? 0,
      model.embeddings.segments > 0,
      o.batch ?? 64,
      () => false,
    );
    return logits!;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
