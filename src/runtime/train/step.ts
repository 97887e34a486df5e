/**
 * One optimisation step over a compiled graph's loss: gradients of every trainable
 * variable, global-norm clipping, and the optimizer update at this step's learning rate.
 * Shared tensors (sharing groups, the tied decoder) are one variable, so their gradient
 * is already the sum over every place they are used.
 */
import { clipByGlobalNorm } from "../optim/clip.js";
import type { Optimizer } from "../optim/optimizer.js";
import { tf, type Scalar, type Tensor } from "../tf.js";

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

export function trainStep(
  state: TrainState,
  lr: number,
  lossOf: (lookup: (name: string) => Tensor | undefined) => { loss: Scalar; terms: object },
): StepResult {
  const names = new Map([...state.variables].map(([name, v]) => [v.name, name]));
  const terms: Record<string, number> = {};
  const { value, grads } = tf.variableGrads(() => {
    const r = lossOf((name) => state.variables.get(name));
    for (const [k, v] of Object.entries(r.terms as Record<string, Scalar>)) terms[k] = v.dataSync()[0]!;
    return r.loss;
  }, [...state.variables.values()]);
  const byName = new Map<string, Tensor>();
  for (const [varName, g] of Object.entries(grads)) byName.set(names.get(varName)!, g);
  const clipped = clipByGlobalNorm(byName, state.clipNorm);
  for (const g of byName.values()) g.dispose();
  state.optimizer.step(state.variables, clipped.grads, lr);
  for (const g of clipped.grads.values()) g.dispose();
  const loss = value.dataSync()[0]!;
  value.dispose();
  return { loss, terms, gradNorm: clipped.norm };
}
