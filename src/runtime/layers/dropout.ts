import { tf, type Tensor } from "../backends/tf.js";

/** Where randomness comes from in one forward pass: a step seed and a counter, so a replayed step draws the same masks. */
export interface Randomness {
  training: boolean;
  /** Returns a fresh seed for each call, deterministic for a given step. */
  nextSeed(): number;
}

export const EVAL: Randomness = { training: false, nextSeed: () => 0 };

/** Seeds derived from (seed, step): call order within a forward pass is fixed, so masks replay exactly. */
export function stepRandomness(seed: number, step: number): Randomness {
  let counter = 0;
  return {
    training: true,
    nextSeed: () => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(step + 1, 0xc2b2ae35) + counter++ * 0x27d4eb2f) >>> 0,
  };
}

/** Inverted dropout; the identity outside training or at rate 0. */
export function dropout<T extends Tensor>(x: T, rate: number, random: Randomness): T {
  if (!random.training || rate === 0) return x;
  return tf.dropout(x, rate, undefined, random.nextSeed()) as T;
}
