/**
 * The dense layer and LayerNorm of a part without bias (attention_bias, mlp_bias, norm_bias
 * false): their gradients against finite differences, and their values against the same
 * layers with a bias of zeros.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { dense } from "../../../src/runtime/layers/dense.js";
import { layerNorm } from "../../../src/runtime/layers/layer-norm.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import { compareGradients, expectGradientsMatch, projection, uniform } from "./finite-differences.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const maxDifference = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;

describe("gradients of the bias-free layers", () => {
  it("dense without bias: input and kernel", () => {
    const project = projection(81, [2, 3, 5]);
    const at = { x: uniform(82, [2, 3, 4]), kernel: uniform(83, [4, 5], 0.7) };
    const c = compareGradients((p) => project(dense(p["x"]!, { kernel: p["kernel"] as tf.Tensor2D })), at);
    expectGradientsMatch("dense without bias", c);
    const x = tf.tensor(at.x.values, at.x.shape);
    const kernel = tf.tensor2d(at.kernel.values, [4, 5]);
    expect(maxDifference(dense(x, { kernel }), dense(x, { kernel, bias: tf.zeros([5]) as tf.Tensor1D }))).toBeLessThan(1e-6);
  });

  it.each([
    ["rank 2, eps 1e-12", [3, 5], 1e-12],
    ["rank 3, eps 1e-5", [2, 3, 4], 1e-5],
  ] as const)("LayerNorm without bias %s: input and weight", (_, shape, eps) => {
    const width = shape[shape.length - 1]!;
    const project = projection(84, [...shape]);
    const at = { x: uniform(85, [...shape], 1.5, 0.3), weight: uniform(86, [width], 0.5, 1) };
    const c = compareGradients((p) => project(layerNorm(p["x"]!, { weight: p["weight"] as tf.Tensor1D }, eps)), at);
    expectGradientsMatch("LayerNorm without bias", c);
    const x = tf.tensor(at.x.values, at.x.shape);
    const weight = tf.tensor1d(at.weight.values);
    const zeros = tf.zeros([width]) as tf.Tensor1D;
    expect(maxDifference(layerNorm(x, { weight }, eps), layerNorm(x, { weight, bias: zeros }, eps))).toBeLessThan(1e-6);
  });
});
