/** LayerNorm's written-out gradient (dx, dweight, dbias) against finite differences. */
import { beforeAll, describe, it } from "vitest";
import { layerNorm } from "../../../src/runtime/layers/layer-norm.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import { compareGradients, expectGradientsMatch, projection, uniform } from "./finite-differences.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("gradients of layer LayerNorm", () => {
  it.each([
    ["rank 2, eps 1e-12", [3, 5], 1e-12],
    ["rank 3, eps 1e-5", [2, 3, 4], 1e-5],
  ] as const)("LayerNorm %s: input, weight and bias", (_, shape, eps) => {
    const width = shape[shape.length - 1]!;
    const project = projection(11, [...shape]);
    const at = {
      x: uniform(1, [...shape], 1.5, 0.3),
      weight: uniform(2, [width], 0.5, 1),
      bias: uniform(3, [width], 0.5),
    };
    const comparisons = compareGradients(
      (p) => project(layerNorm(p["x"]!, { weight: p["weight"] as tf.Tensor1D, bias: p["bias"] as tf.Tensor1D }, eps)),
      at,
    );
    expectGradientsMatch("LayerNorm", comparisons);
  });
});
