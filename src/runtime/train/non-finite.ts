/**
 * A step whose loss or gradients are not finite numbers. It is found before the update is
 * applied, so the weights (and the last checkpoint) stay as they were, and it names what went
 * wrong: the loss and each of its terms, the first parameter (in the model's order) whose
 * gradient holds a NaN or an infinity, and the first weight that already did. A diverging
 * learning rate is one cause among others (a term that is NaN on its own batch, weights that
 * were already broken), so the message states facts instead of guessing.
 */
import { tf, type Tensor } from "../backends/tf.js";

export class NonFiniteStep extends Error {
  constructor(
    /** The step's loss (averaged over micro-batches). */
    readonly loss: number,
    readonly terms: Record<string, number>,
    /** The first parameter whose gradient is not finite; null when every gradient is. */
    readonly gradient: string | null,
  ) {
    super(`the loss is ${loss}${gradient ? `; the gradient of '${gradient}' is not finite` : ""}`);
    this.name = "NonFiniteStep";
  }
}

function isFinite(t: Tensor): boolean {
  return tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0] === 1);
}

/** The first of `names` whose tensor holds a NaN or an infinity (names without one are passed over). */
export function firstNonFinite(names: Iterable<string>, tensors: ReadonlyMap<string, Tensor>): string | null {
  for (const name of names) {
    const t = tensors.get(name);
    if (t && !isFinite(t)) return name;
  }
  return null;
}

/** `mlm NaN, nsp 0.6931`: the loss terms, for a message. */
export function formatTerms(terms: Record<string, number>): string {
  return Object.entries(terms)
    .map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toFixed(4) : v}`)
    .join(", ");
}

export interface NonFiniteContext {
  /** What stopped: "training", "fine-tuning". */
  run: string;
  /** The step that failed, counting from 1. */
  step: number;
  /**
   * Whether the weights are still the starting ones (initialised or loaded): the first step of
   * the run, or every update before it had learning rate 0 (the first warmup step).
   */
  weightsUnchanged: boolean;
  /** What the starting weights were: "the initial weights", "the checkpoint of step 10", … */
  startedFrom: string;
  /** The loss of the step before, when there was one in this run. */
  previousLoss: number | null;
  /** The learning rate of the update before this step (0 during the first warmup step). */
  previousLr: number | null;
  /** The first weight that is not finite before this step's update, if any. */
  brokenWeight: string | null;
  /** What is left as it was: "the last complete checkpoint, runs/x/checkpoints/step-10, is kept as it was". */
  kept: string;
}

/** One paragraph for the user: what is not finite, what that rules in and out, and what is kept. */
export function describeNonFinite(e: NonFiniteStep, c: NonFiniteContext): string {
  const terms = Object.keys(e.terms).length > 0 ? ` (${formatTerms(e.terms)})` : "";
  const what = Number.isFinite(e.loss)
    ? `the loss is ${e.loss.toFixed(4)}${terms}, but the gradient of '${e.gradient}' is not finite`
    : `the loss is ${e.loss}${terms}; ${e.gradient ? `the first non-finite gradient is that of '${e.gradient}'` : "every gradient is finite"}`;
  let cause: string;
  if (c.brokenWeight) cause = `the weight '${c.brokenWeight}' was already not finite before this step`;
  else if (c.weightsUnchanged)
    cause = `no update has changed ${c.startedFrom} yet, so the learning rate is not the cause: the starting weights or this step's batch are`;
  else {
    const before = c.previousLoss !== null ? ` and the loss at step ${c.step - 1} was ${c.previousLoss.toFixed(4)}` : "";
    cause = `the weights were finite${before}: the last update (learning rate ${c.previousLr === null ? "?" : Number(c.previousLr.toPrecision(4))}) or this step's batch made it so; if it is the update, a lower --lr or a longer warmup helps`;
  }
  return `${c.run} stopped at step ${c.step}: ${what}. ${cause[0]!.toUpperCase()}${cause.slice(1)}. This step's update was not applied; ${c.kept}.`;
}
