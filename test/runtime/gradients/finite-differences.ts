/**
 * Analytic gradients (the runtime's backpropagation, through `tf.grads`) against central
 * finite differences, on the cpu backend. TensorFlow.js computes in float32, so the checks
 * keep tensors small and losses of order one: with a step of 1e-2 the rounding error of a
 * difference quotient is about 1e-5 and its truncation error about eps²·f‴ ≈ 1e-5, while a
 * wrong sign or a missing term moves the gradient by a sizeable fraction of its norm.
 */
import { expect } from "vitest";
import { tf } from "../../../src/runtime/backends/tf.js";
import { mulberry32 } from "../../../src/runtime/data/random.js";

export interface Point {
  shape: number[];
  values: Float32Array;
}

/** Named inputs of a loss: the tensors it is differentiated with respect to. */
export type Points = Record<string, Point>;

/** A small deterministic generator, so a failing check replays exactly. */
export const generator = mulberry32;

/** Uniform values in [centre − scale, centre + scale]. */
export function uniform(seed: number, shape: number[], scale = 1, centre = 0): Point {
  const next = generator(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape, values: Float32Array.from({ length: size }, () => centre + scale * (2 * next() - 1)) };
}

/** Σ x·r with fixed random weights r: a scalar whose gradient is r pulled back (a plain sum would hide, e.g., LayerNorm's input gradient, which sums to zero). */
export function projection(seed: number, shape: number[]): (x: tf.Tensor) => tf.Scalar {
  const r = uniform(seed, shape);
  return (x) => tf.sum(tf.mul(x, tf.tensor(r.values, r.shape))) as tf.Scalar;
}

export interface GradientComparison {
  /** Flat indices compared. */
  indices: number[];
  analytic: number[];
  numeric: number[];
  /** The whole analytic gradient, flat. */
  full: Float32Array;
}

export interface CheckOptions {
  /** Finite-difference step. */
  eps?: number;
  /** At most this many entries per input are differenced (spread over the tensor); the rest are skipped. */
  entries?: number;
}

/** The analytic gradient of `loss` at `at`, and central differences at a sample of each input's entries. */
export function compareGradients(
  loss: (x: Record<string, tf.Tensor>) => tf.Scalar,
  at: Points,
  options: CheckOptions = {},
): Record<string, GradientComparison> {
  const eps = options.eps ?? 1e-2;
  const entries = options.entries ?? 48;
  const names = Object.keys(at);
  const base = Object.fromEntries(names.map((n) => [n, tf.tensor(at[n]!.values, at[n]!.shape)]));
  const named = (xs: tf.Tensor[]) => Object.fromEntries(names.map((n, i) => [n, xs[i]!]));
  const grads = tf.tidy(() => tf.grads((...xs: tf.Tensor[]) => loss(named(xs)))(names.map((n) => base[n]!)));
  const result: Record<string, GradientComparison> = {};
  names.forEach((name, i) => {
    const full = grads[i]!.dataSync() as Float32Array;
    const size = at[name]!.values.length;
    const indices = size <= entries ? [...Array(size).keys()] : sample(size, entries, i + 1);
    const valueWith = (index: number, delta: number): number => {
      const values = Float32Array.from(at[name]!.values);
      values[index]! += delta;
      return tf.tidy(() => loss({ ...base, [name]: tf.tensor(values, at[name]!.shape) }).dataSync()[0]!);
    };
    const numeric = indices.map((k) => (valueWith(k, eps) - valueWith(k, -eps)) / (2 * eps));
    result[name] = { indices, analytic: indices.map((k) => full[k]!), numeric, full };
  });
  tf.dispose([...Object.values(base), ...grads]);
  return result;
}

/** `count` distinct indices below `size`, drawn deterministically. */
function sample(size: number, count: number, seed: number): number[] {
  const next = generator(seed);
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(Math.floor(next() * size));
  return [...chosen].sort((a, b) => a - b);
}

/** ‖analytic − numeric‖ / ‖numeric‖ over the compared entries that `keep` accepts. */
export function relativeError(c: GradientComparison, keep: (index: number) => boolean = () => true): { error: number; norm: number } {
  let diff = 0;
  let norm = 0;
  c.indices.forEach((k, j) => {
    if (!keep(k)) return;
    diff += (c.analytic[j]! - c.numeric[j]!) ** 2;
    norm += c.numeric[j]! ** 2;
  });
  return { error: Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12), norm: Math.sqrt(norm) };
}

/**
 * Every input's analytic gradient matches its finite differences within `tolerance` (relative,
 * in norm), and is not trivially zero. `layer` names the layer in the failure message.
 */
export function expectGradientsMatch(
  layer: string,
  comparisons: Record<string, GradientComparison>,
  tolerance = 1e-2,
  keep: Record<string, (index: number) => boolean> = {},
): void {
  for (const [name, c] of Object.entries(comparisons)) {
    const { error, norm } = relativeError(c, keep[name]);
    expect(norm, `${layer}: d loss / d ${name} is zero, so the check proves nothing`).toBeGreaterThan(1e-3);
    expect(error, `${layer}: d loss / d ${name}, analytic vs finite differences (relative error)`).toBeLessThan(tolerance);
  }
}
