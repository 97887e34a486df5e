import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { clipByGlobalNorm } from "../../../src/runtime/optim/clip.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Gradients with global norm 5·scale: a = [3·scale] (a 1-element tensor), b = [[0, 4·scale]]. */
function grads(scale = 1): Map<string, tf.Tensor> {
  return new Map<string, tf.Tensor>([
    ["a", tf.tensor1d([3 * scale])],
    ["b", tf.tensor2d([[0, 4 * scale]])],
  ]);
}

function disposeAll(m: Map<string, tf.Tensor>): void {
  for (const t of m.values()) t.dispose();
}

function expectClose(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(tol);
}

describe("clipByGlobalNorm", () => {
  it("below the max norm: returns unscaled copies and the norm", () => {
    const g = grads();
    const before = tf.memory().numTensors;
    const { grads: out, norm } = clipByGlobalNorm(g, 10);
    expect(norm).toBeCloseTo(5, 6);
    expect(tf.memory().numTensors).toBe(before + 2); // new tensors, nothing else left over
    expect(out.get("a")).not.toBe(g.get("a"));
    expect(Array.from(out.get("a")!.dataSync())).toEqual([3]);
    expect(Array.from(out.get("b")!.dataSync())).toEqual([0, 4]);
    expect(out.get("b")!.shape).toEqual([1, 2]);
    disposeAll(g); // the caller disposes the old ones; the new ones survive
    expect(Array.from(out.get("a")!.dataSync())).toEqual([3]);
    disposeAll(out);
  });

  it("at the max norm: scales by maxNorm/(norm + 1e-6), as torch does", () => {
    const g = grads();
    const { grads: out, norm } = clipByGlobalNorm(g, 5);
    expect(norm).toBeCloseTo(5, 6);
    const coef = 5 / (5 + 1e-6); // 0.9999998: below float32 resolution at this scale
    expectClose(out.get("a")!.dataSync(), [3 * coef]);
    expectClose(out.get("b")!.dataSync(), [0, 4 * coef]);
    disposeAll(g);
    disposeAll(out);
  });

  it("at the max norm with tiny gradients: the 1e-6 in the denominator shows", () => {
    // norm = 5e-6 = maxNorm → coef = 5e-6/(5e-6 + 1e-6) = 5/6
    const g = grads(1e-6);
    const { grads: out, norm } = clipByGlobalNorm(g, 5e-6);
    expect(Math.abs(norm - 5e-6)).toBeLessThan(1e-12);
    expectClose(out.get("a")!.dataSync(), [3e-6 * (5 / 6)], 1e-12);
    expectClose(out.get("b")!.dataSync(), [0, 4e-6 * (5 / 6)], 1e-12);
    disposeAll(g);
    disposeAll(out);
  });

  it("above the max norm: scales to (just under) the max norm", () => {
    const g = grads();
    const { grads: out, norm } = clipByGlobalNorm(g, 1);
    expect(norm).toBeCloseTo(5, 6);
    const coef = 1 / (5 + 1e-6);
    expectClose(out.get("a")!.dataSync(), [3 * coef]); // ≈ 0.6
    expectClose(out.get("b")!.dataSync(), [0, 4 * coef]); // ≈ 0.8
    // The inputs are untouched.
    expect(Array.from(g.get("a")!.dataSync())).toEqual([3]);
    disposeAll(g);
    disposeAll(out);
  });

  it("handles an empty map and rejects a non-positive max norm", () => {
    expect(clipByGlobalNorm(new Map(), 1)).toEqual({ grads: new Map(), norm: 0 });
    expect(() => clipByGlobalNorm(new Map(), 0)).toThrow(/maxNorm/);
  });
});
