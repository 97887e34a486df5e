/**
 * One optimisation step over a compiled graph's loss: gradients of every trainable
 * variable (summed over micro-batches when accumulating), global-norm clipping, and the
 * optimizer update at this step's learning rate. Shared tensors (sharing groups, the tied
 * decoder) are one variable, so their gradient is already the sum over every use.
 */
import { clipCoefficient, globalNorm } from "../optim/clip.js";
import type { Optimizer } from "../optim/optimizer.js";
import type { WeightMap } from "../checkpoint/hf-weights.js";
import { tf, type Scalar, type Tensor } from "../backends/tf.js";
import { firstNonFinite, NonFiniteStep } from "./non-finite.js";

export interface TrainState {
  /** Trainable parameters by name. */
  variables: Map<string, tf.Variable>;
  optimizer: Optimizer;
  /** Clip the global gradient norm to this (BERT: 1.0). */
  clipNorm: number;
}

export interface StepResult {
  loss: number;
  terms: Record<string, number>;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

export type LossOf = (lookup: (name: string) => Tensor | undefined) => { loss: Scalar; terms: Record<string, Scalar> };

export interface Gradients {
  loss: number;
  terms: Record<string, number>;
  /** By parameter name; the caller disposes them. */
  grads: Map<string, Tensor>;
}

/**
 * A trainable variable per weight. `tf.variable` shares its initial tensor's memory, so
 * that tensor's handle is disposed here: left alive, it would keep the initial values in
 * tensor memory after the first update replaced them (a second copy of the model).
 */
export function trainableVariables(weights: WeightMap): Map<string, tf.Variable> {
  const variables = new Map<string, tf.Variable>();
  for (const [name, w] of weights) {
    const initial = tf.tensor(w.values, w.shape);
    variables.set(name, tf.variable(initial, true));
    initial.dispose();
  }
  return variables;
}

/** Gradients of one micro-batch's loss with respect to every variable it uses. */
export function computeGradients(variables: Map<string, tf.Variable>, lossOf: LossOf): Gradients {
  const names = new Map([...variables].map(([name, v]) => [v.name, name]));
  const terms: Record<string, number> = {};
  const { value, grads } = tf.variableGrads(() => {
    const r = lossOf((name) => variables.get(name));
    for (const [k, v] of Object.entries(r.terms)) terms[k] = v.dataSync()[0]!;
    return r.loss;
  }, [...variables.values()]);
  const byName = new Map<string, Tensor>();
  for (const [varName, g] of Object.entries(grads)) byName.set(names.get(varName)!, g);
  const loss = value.dataSync()[0]!;
  value.dispose();
  return { loss, terms, grads: byName };
}

/** Adds `more` into `into` (freeing the old tensors of both), for gradient accumulation. */
export function accumulate(into: Gradients, more: Gradients): Gradients {
  const grads = new Map<string, Tensor>();
  for (const [name, g] of into.grads) {
    const other = more.grads.get(name);
    grads.set(name, other ? tf.add(g, other) : g);
    if (other) g.dispose();
  }
  for (const [name, g] of more.grads) if (!into.grads.has(name)) grads.set(name, g);
  for (const [name, g] of more.grads) if (into.grads.has(name)) g.dispose();
  const terms: Record<string, number> = { ...into.terms };
  for (const [k, v] of Object.entries(more.terms)) terms[k] = (terms[k] ?? 0) + v;
  return { loss: into.loss + more.loss, terms, grads };
}

/**
 * Clip and apply `g` (the sum over `microBatches` micro-batches, averaged here so the
 * update matches one batch of the combined size), then free the gradients. A non-finite
 * loss or gradient throws {@link NonFiniteStep} before the optimizer touches a weight.
 */
export function applyGradients(state: TrainState, g: Gradients, lr: number, microBatches = 1): StepResult {
  let grads = g.grads;
  if (microBatches > 1) {
    grads = new Map([...g.grads].map(([n, t]) => [n, tf.div(t, microBatches)]));
    for (const t of g.grads.values()) t.dispose();
  }
  const loss = g.loss / microBatches;
  const terms = Object.fromEntries(Object.entries(g.terms).map(([k, v]) => [k, v / microBatches]));
  const norm = globalNorm(grads);
  try {
    // A NaN or infinite norm means some gradient is (or its squares overflowed: then all are finite).
    const suspect = !Number.isFinite(loss) || !Number.isFinite(norm);
    const gradient = suspect ? firstNonFinite(state.variables.keys(), grads) : null;
    if (!Number.isFinite(loss) || gradient !== null) throw new NonFiniteStep(loss, terms, gradient);
    // Clipping is a factor the optimizer applies as it reads each gradient: no scaled copy of them all.
    state.optimizer.step(state.variables, grads, lr, clipCoefficient(norm, state.clipNorm));
  } finally {
    for (const t of grads.values()) t.dispose();
  }
  return { loss, terms, gradNorm: norm };
}
