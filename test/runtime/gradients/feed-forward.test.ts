/**
 * The feed-forward sublayer (dense, activation, dense, residual, LayerNorm; post-LN and pre-LN) for each activation, the gated
 * sublayer (GeGLU, SwiGLU), and each activation alone.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Activation } from "../../../src/model/model.js";
import { activation } from "../../../src/runtime/layers/activations.js";
import { dense } from "../../../src/runtime/layers/dense.js";
import { EVAL } from "../../../src/runtime/layers/dropout.js";
import { feedForward } from "../../../src/runtime/layers/feed-forward.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import { compareGradients, expectGradientsMatch, projection, uniform } from "./finite-differences.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const H = 6;
const I = 10;
const SHAPE = [2, 3, H];
const ACTIVATIONS: Activation[] = ["gelu", "gelu_new", "relu", "silu"];

const t2 = (x: tf.Tensor) => x as tf.Tensor2D;
const t1 = (x: tf.Tensor) => x as tf.Tensor1D;

const at = {
  x: uniform(41, SHAPE),
  "intermediate.kernel": uniform(42, [H, I], 0.7),
  // Seed chosen so every pre-activation stays clear of relu's kink (checked below).
  "intermediate.bias": uniform(115, [I], 0.3),
  "output.kernel": uniform(44, [I, H], 0.7),
  "output.bias": uniform(45, [H], 0.3),
  "norm.weight": uniform(46, [H], 0.5, 1),
  "norm.bias": uniform(47, [H], 0.5),
};

describe("gradients of layer feed-forward", () => {
  it.each(ACTIVATIONS)("feed-forward with %s: input and every weight", (kind) => {
    const project = projection(48, SHAPE);
    const c = compareGradients((p) => {
      const params = {
        intermediate: { kernel: t2(p["intermediate.kernel"]!), bias: t1(p["intermediate.bias"]!) },
        output: { kernel: t2(p["output.kernel"]!), bias: t1(p["output.bias"]!) },
        norm: { weight: t1(p["norm.weight"]!), bias: t1(p["norm.bias"]!) },
      };
      return project(feedForward(p["x"] as tf.Tensor3D, params, { activation: kind, normEps: 1e-12, dropout: 0 }, EVAL));
    }, at);
    expectGradientsMatch(`feed-forward (${kind})`, c, 2e-3);
  });

  it.each(["gelu", "gelu_new"] as const)("pre-LN feed-forward x + FFN(LN(x)) with %s: input and every weight", (kind) => {
    const project = projection(58, SHAPE);
    const c = compareGradients((p) => {
      const params = {
        intermediate: { kernel: t2(p["intermediate.kernel"]!), bias: t1(p["intermediate.bias"]!) },
        output: { kernel: t2(p["output.kernel"]!), bias: t1(p["output.bias"]!) },
        norm: { weight: t1(p["norm.weight"]!), bias: t1(p["norm.bias"]!) },
      };
      const options = { activation: kind, normEps: 1e-12, dropout: 0, normPosition: "pre" as const };
      return project(feedForward(p["x"] as tf.Tensor3D, params, options, EVAL));
    }, at);
    expectGradientsMatch(`pre-LN feed-forward (${kind})`, c, 2e-3);
  });

  // Gated: the intermediate kernel is [H, 2·I], input columns then gate columns; each half gets its own gradient.
  const gatedAt = { ...at, "intermediate.kernel": uniform(52, [H, 2 * I], 0.7), "intermediate.bias": uniform(53, [2 * I], 0.3) };

  it.each([
    ["gelu", "post"],
    ["silu", "post"],
    ["silu", "pre"],
  ] as const)("gated feed-forward (act(input) * gate) with %s, %s-LN: input and every weight", (kind, position) => {
    const project = projection(59, SHAPE);
    const c = compareGradients((p) => {
      const params = {
        intermediate: { kernel: t2(p["intermediate.kernel"]!), bias: t1(p["intermediate.bias"]!) },
        output: { kernel: t2(p["output.kernel"]!), bias: t1(p["output.bias"]!) },
        norm: { weight: t1(p["norm.weight"]!), bias: t1(p["norm.bias"]!) },
      };
      const options = { activation: kind, normEps: 1e-12, dropout: 0, normPosition: position, kind: "gated" as const };
      return project(feedForward(p["x"] as tf.Tensor3D, params, options, EVAL));
    }, gatedAt);
    expectGradientsMatch(`gated feed-forward (${kind}, ${position}-LN)`, c, 2e-3);
  });

  it("feed-forward: no pre-activation lies within a difference step of relu's kink", () => {
    // Otherwise relu's finite differences straddle the kink and the check above tests nothing sound.
    const pre = dense(tf.tensor(at.x.values, at.x.shape), {
      kernel: tf.tensor2d(at["intermediate.kernel"].values, [H, I]),
      bias: tf.tensor1d(at["intermediate.bias"].values),
    });
    expect(Math.min(...Array.from(pre.dataSync(), Math.abs))).toBeGreaterThan(0.05);
  });

  it.each(ACTIVATIONS)("activation %s alone, across both signs", (kind) => {
    // Points 0.05 apart from −3 to 3, none at relu's kink.
    const values = Float32Array.from({ length: 121 }, (_, i) => -3 + 0.05 * i + 0.013);
    const project = projection(49, [121]);
    const c = compareGradients((p) => project(activation(kind)(p["x"]!)), { x: { shape: [121], values } }, { entries: 121, eps: 1e-3 });
    expectGradientsMatch(`activation ${kind}`, c, 2e-3);
  });
});
