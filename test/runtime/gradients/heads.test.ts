/**
 * The pretraining heads against finite differences: the pooler, the MLM head with its
 * decoder tied to the word embeddings, and the NSP/SOP classifiers over the pooled output.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { dense } from "../../../src/runtime/layers/dense.js";
import { embeddingLookup } from "../../../src/runtime/layers/embedding-lookup.js";
import { mlmLogits, pooler } from "../../../src/runtime/layers/heads.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import { compareGradients, expectGradientsMatch, projection, uniform } from "./finite-differences.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const H = 6;
const E = 4;
const V = 9;

const t2 = (x: tf.Tensor) => x as tf.Tensor2D;
const t1 = (x: tf.Tensor) => x as tf.Tensor1D;

const mlmPoints = {
  h: uniform(51, [5, H]),
  "transform.kernel": uniform(52, [H, E], 0.7),
  "transform.bias": uniform(53, [E], 0.3),
  "norm.weight": uniform(54, [E], 0.5, 1),
  "norm.bias": uniform(55, [E], 0.5),
  bias: uniform(56, [V], 0.5),
  word: uniform(57, [V, E]),
};

function mlm(p: Record<string, tf.Tensor>, act: "gelu" | "gelu_new"): tf.Tensor2D {
  const params = {
    transform: { kernel: t2(p["transform.kernel"]!), bias: t1(p["transform.bias"]!) },
    norm: { weight: t1(p["norm.weight"]!), bias: t1(p["norm.bias"]!) },
    bias: t1(p["bias"]!),
  };
  return mlmLogits(t2(p["h"]!), params, t2(p["word"]!), { activation: act, normEps: 1e-12 });
}

describe("gradients of the heads", () => {
  it("pooler: tanh(dense(h[:, 0])); only the [CLS] rows of h get gradient", () => {
    const project = projection(58, [3, H]);
    const at = { h: uniform(59, [3, 4, H]), kernel: uniform(60, [H, H], 0.6), bias: uniform(61, [H], 0.3) };
    const c = compareGradients((p) => project(pooler(p["h"] as tf.Tensor3D, { kernel: t2(p["kernel"]!), bias: t1(p["bias"]!) })), at, {
      entries: 72,
    });
    expectGradientsMatch("pooler", c, 2e-3);
    const h = c["h"]!;
    const notCls = [...Array(3 * 4 * H).keys()].filter((k) => Math.floor(k / H) % 4 !== 0);
    expect(notCls.map((k) => h.full[k])).toEqual(Array(notCls.length).fill(0));
  });

  it.each(["gelu", "gelu_new"] as const)("mlm head (%s): transform, LayerNorm, tied decoder and its bias", (act) => {
    const project = projection(62, [5, V]);
    const c = compareGradients((p) => project(mlm(p, act)), mlmPoints);
    expectGradientsMatch(`mlm head (${act})`, c, 2e-3);
  });

  it("mlm head tied to the word embeddings: the table gets the lookup's and the decoder's gradient; the pad row only the decoder's", () => {
    const pad = 0;
    const ids = tf.tensor2d(
      [
        [2, 5, pad],
        [7, 5, pad],
      ],
      undefined,
      "int32",
    );
    const lookedUp = projection(63, [2, 3, E]);
    const decoded = projection(64, [5, V]);
    const c = compareGradients(
      (p) => tf.add(lookedUp(embeddingLookup(t2(p["word"]!), ids, pad)), decoded(mlm(p, "gelu"))) as tf.Scalar,
      mlmPoints,
      {
        entries: V * E,
      },
    );
    const notPad = (k: number) => Math.floor(k / E) !== pad;
    expectGradientsMatch("mlm head tied to embeddings", c, 2e-3, { word: notPad });
    // The pad row: the decoder alone, whose finite differences are taken without the lookup.
    const decoderOnly = compareGradients((p) => decoded(mlm(p, "gelu")), mlmPoints, { entries: V * E })["word"]!;
    const padRow = (g: ArrayLike<number>) => Array.from(g).slice(pad * E, (pad + 1) * E);
    const word = c["word"]!;
    padRow(word.full).forEach((g, j) => expect(g).toBeCloseTo(padRow(decoderOnly.numeric)[j]!, 3));
    // …and it differs from the full finite difference, which sees the lookup too.
    expect(Math.max(...padRow(word.full).map((g, j) => Math.abs(g - padRow(word.numeric)[j]!)))).toBeGreaterThan(1e-2);
  });

  it.each(["nsp", "sop"])("%s head: dense H→2 over the pooled output", (name) => {
    const project = projection(name === "nsp" ? 65 : 66, [3, 2]);
    const at = {
      h: uniform(67, [3, 4, H]),
      "pooler.kernel": uniform(68, [H, H], 0.6),
      "pooler.bias": uniform(69, [H], 0.3),
      kernel: uniform(70, [H, 2], 0.7),
      bias: uniform(71, [2], 0.3),
    };
    const c = compareGradients(
      (p) => {
        const pooled = pooler(p["h"] as tf.Tensor3D, { kernel: t2(p["pooler.kernel"]!), bias: t1(p["pooler.bias"]!) });
        return project(dense(pooled, { kernel: t2(p["kernel"]!), bias: t1(p["bias"]!) }));
      },
      at,
      { entries: 72 },
    );
    expectGradientsMatch(`${name} head`, c, 2e-3);
  });
});
