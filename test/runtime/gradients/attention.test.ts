/** Self-attention (query, key, value, output, residual, LayerNorm; post-LN and pre-LN) with a padding mask, against finite differences. */
import { beforeAll, describe, expect, it } from "vitest";
import { attentionBias, selfAttention } from "../../../src/runtime/layers/attention.js";
import { EVAL } from "../../../src/runtime/layers/dropout.js";
import type { NormPosition } from "../../../src/model/model.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import { compareGradients, expectGradientsMatch, projection, uniform, type Points } from "./finite-differences.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const H = 8;
const B = 2;
const S = 4;

const t2 = (x: tf.Tensor) => x as tf.Tensor2D;
const t1 = (x: tf.Tensor) => x as tf.Tensor1D;

function points(seed: number): Points {
  const at: Points = { x: uniform(seed, [B, S, H]) };
  ["query", "key", "value", "output"].forEach((d, i) => {
    at[`${d}.kernel`] = uniform(seed + 10 * i + 1, [H, H], 0.6);
    at[`${d}.bias`] = uniform(seed + 10 * i + 2, [H], 0.3);
  });
  at["norm.weight"] = uniform(seed + 50, [H], 0.5, 1);
  at["norm.bias"] = uniform(seed + 51, [H], 0.5);
  return at;
}

function attention(p: Record<string, tf.Tensor>, mask: tf.Tensor2D, heads: number, normPosition: NormPosition = "post"): tf.Tensor {
  const d = (name: string) => ({ kernel: t2(p[`${name}.kernel`]!), bias: t1(p[`${name}.bias`]!) });
  const params = {
    query: d("query"),
    key: d("key"),
    value: d("value"),
    output: d("output"),
    norm: { weight: t1(p["norm.weight"]!), bias: t1(p["norm.bias"]!) },
  };
  const options = { heads, normEps: 1e-12, dropout: 0, attentionDropout: 0, normPosition };
  return selfAttention(p["x"] as tf.Tensor3D, attentionBias(mask), params, options, EVAL);
}

describe("gradients of layer attention", () => {
  it.each([1, 2])("attention (heads %i) with a padding mask: input and every weight", (heads) => {
    const mask = tf.tensor2d(
      [
        [1, 1, 1, 1],
        [1, 1, 0, 0],
      ],
      undefined,
      "int32",
    );
    const project = projection(31, [B, S, H]);
    const c = compareGradients((p) => project(attention(p, mask, heads)), points(100 * heads), { entries: 40 });
    // softmax ignores what every key's score shares: q·b_key is the same for all keys of a
    // query, so the key bias gets no gradient at all (as in any BERT).
    const { ["key.bias"]: keyBias, ...rest } = c;
    expect(Math.max(...keyBias!.full.map(Math.abs)), `attention (${heads} heads): d loss / d key.bias`).toBeLessThan(1e-5);
    expect(Math.max(...keyBias!.numeric.map(Math.abs))).toBeLessThan(1e-3);
    expectGradientsMatch(`attention (${heads} heads)`, rest, 2e-3);
  });

  it.each([1, 2])("pre-LN attention x + Attn(LN(x)) (heads %i): input and every weight", (heads) => {
    const mask = tf.tensor2d(
      [
        [1, 1, 1, 1],
        [1, 1, 1, 0],
      ],
      undefined,
      "int32",
    );
    const project = projection(37, [B, S, H]);
    const c = compareGradients((p) => project(attention(p, mask, heads, "pre")), points(300 + heads), { entries: 40 });
    // As post-LN: every key's score shares q·b_key, which softmax ignores.
    const { ["key.bias"]: keyBias, ...rest } = c;
    expect(Math.max(...keyBias!.full.map(Math.abs)), `pre-LN attention (${heads} heads): d loss / d key.bias`).toBeLessThan(1e-5);
    expectGradientsMatch(`pre-LN attention (${heads} heads)`, rest, 2e-3);
  });

  it("attention: a masked key's input gets no gradient from another position's output", () => {
    // With only the first query row read, a masked key's input can change nothing:
    // its score is finfo.min, so its probability is exactly zero.
    const mask = tf.tensor2d(
      [
        [1, 1, 1, 1],
        [1, 1, 0, 0],
      ],
      undefined,
      "int32",
    );
    const firstRow = (y: tf.Tensor) => tf.sum(tf.slice(y, [1, 0, 0], [1, 1, H]));
    const c = compareGradients((p) => firstRow(attention(p, mask, 2)) as tf.Scalar, points(7), { entries: 64 });
    const x = c["x"]!;
    const maskedKeys = [2, 3].flatMap((s) => Array.from({ length: H }, (_, h) => (B - 1) * S * H + s * H + h));
    expect(maskedKeys.map((k) => x.full[k])).toEqual(Array(maskedKeys.length).fill(0));
    expect(Math.max(...maskedKeys.map((k) => Math.abs(x.numeric[x.indices.indexOf(k)] ?? 0)))).toBeLessThan(1e-4);
  });
});
