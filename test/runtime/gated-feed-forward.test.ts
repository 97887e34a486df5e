/**
 * The gated feed-forward sublayer as the emitted encoder computes it, against a reference
 * written here with plain TensorFlow.js ops: Hugging Face's ModernBERT MLP, where x·Wi
 * ([B, S, 2·I]) splits into input (first half) and gate (second half) and the output is
 * (act(input) * gate)·Wo; gelu for GeGLU, silu for SwiGLU; post-LN and pre-LN. Weights are
 * drawn at random, so a swapped split, a missing gate or the wrong activation shows.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { loadGraph } from "../../src/app/graph-loader.js";
import type { ResolvedModel } from "../../src/model/model.js";
import { EVAL } from "../../src/runtime/layers/dropout.js";
import { tf } from "../../src/runtime/backends/tf.js";
import { generator } from "./gradients/finite-differences.js";
import { tempFiles } from "../helpers/temp-files.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const H = 8;
const HEADS = 2;
const I = 12;
const LAYERS = 2;
const EPS = 1e-12;

const SOURCE = `
model tiny-plain {
  vocab 40 hidden ${H} layers ${LAYERS} heads ${HEADS} intermediate ${I}
  dropout 0 attention_dropout 0
  embeddings { positions 16 }
  objectives { mlm }
  special { pad 0 unk 1 cls 2 sep 3 mask 4 }
  train { seq 16 }
}
model tiny-geglu extends tiny-plain { feed_forward gated }
model tiny-swiglu extends tiny-plain { feed_forward gated activation silu }
model tiny-swiglu-pre extends tiny-swiglu { norm_position pre }
`;

const temp = tempFiles("bdl-gated-ffn-");

function models(): Map<string, ResolvedModel> {
  const checked = checkFile(temp.file("tiny.bdl", SOURCE));
  expect(checked.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  return new Map([...checked.resolutions].map(([name, r]) => [name, r.model]));
}

/** Every tensor of a table, at random: LayerNorm weights around 1, everything else around 0. */
function randomWeights(shapes: Map<string, number[]>): Map<string, tf.Tensor> {
  const next = generator(2025);
  const out = new Map<string, tf.Tensor>();
  for (const [name, shape] of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const centre = /norm\.weight$/.test(name) ? 1 : 0;
    out.set(
      name,
      tf.tensor(
        Float32Array.from({ length: size }, () => centre + 0.5 * (2 * next() - 1)),
        shape,
      ),
    );
  }
  return out;
}

// ---- the reference: plain ops, none of the runtime's layer functions ----

function ln(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPS))), w), b);
}

function linear(x: tf.Tensor, w: Map<string, tf.Tensor>, prefix: string): tf.Tensor {
  const kernel = w.get(`${prefix}.kernel`)! as tf.Tensor2D;
  const [b, s] = x.shape as [number, number, number];
  return tf.reshape(tf.add(tf.matMul(tf.reshape(x, [b * s, -1]) as tf.Tensor2D, kernel), w.get(`${prefix}.bias`)!), [b, s, -1]);
}

function attend(x: tf.Tensor, mask: tf.Tensor2D, w: Map<string, tf.Tensor>, prefix: string): tf.Tensor {
  const [b, s] = x.shape as [number, number, number];
  const d = H / HEADS;
  const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [b, s, HEADS, d]), [0, 2, 1, 3]);
  const [q, k, v] = ["query", "key", "value"].map((n) => heads(linear(x, w, `${prefix}.${n}`)));
  const masked = tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, "float32")), -1e9), [b, 1, 1, s]);
  const scores = tf.add(tf.div(tf.matMul(q!, k!, false, true), Math.sqrt(d)), masked);
  const context = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v!), [0, 2, 1, 3]), [b, s, H]);
  return linear(context, w, `${prefix}.output`);
}

const ACTIVATION = {
  gelu: (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))),
  silu: (x: tf.Tensor) => tf.div(x, tf.add(1, tf.exp(tf.neg(x)))),
};

/** ModernBERT's MLP: input, gate = chunk(Wi(x), 2); Wo(act(input) * gate). Columns 0..I-1 are the input, I..2I-1 the gate. */
function gatedTransform(x: tf.Tensor, w: Map<string, tf.Tensor>, prefix: string, act: keyof typeof ACTIVATION): tf.Tensor {
  const wide = linear(x, w, `${prefix}.intermediate`);
  const input = tf.slice(wide, [0, 0, 0], [-1, -1, I]);
  const gate = tf.slice(wide, [0, 0, I], [-1, -1, I]);
  return linear(tf.mul(ACTIVATION[act](input), gate), w, `${prefix}.output`);
}

const norm = (w: Map<string, tf.Tensor>, prefix: string) => [w.get(`${prefix}.weight`)!, w.get(`${prefix}.bias`)!] as const;

function referenceLayer(
  h: tf.Tensor,
  mask: tf.Tensor2D,
  w: Map<string, tf.Tensor>,
  layer: number,
  act: keyof typeof ACTIVATION,
  pre: boolean,
) {
  const at = `layers.${layer}.attention`;
  const ff = `layers.${layer}.ffn`;
  if (pre) {
    const a = tf.add(h, attend(ln(h, ...norm(w, `${at}.norm`)), mask, w, at));
    return tf.add(a, gatedTransform(ln(a, ...norm(w, `${ff}.norm`)), w, ff, act));
  }
  const a = ln(tf.add(h, attend(h, mask, w, at)), ...norm(w, `${at}.norm`));
  return ln(tf.add(a, gatedTransform(a, w, ff, act)), ...norm(w, `${ff}.norm`));
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
}

const inputs = () => ({
  inputIds: tf.tensor2d(
    [
      [2, 7, 9, 11, 3, 0],
      [2, 13, 5, 3, 0, 0],
    ],
    undefined,
    "int32",
  ),
  attentionMask: tf.tensor2d(
    [
      [1, 1, 1, 1, 1, 0],
      [1, 1, 1, 1, 0, 0],
    ],
    undefined,
    "int32",
  ),
});

describe("feed_forward gated in the emitted encoder", () => {
  it("a gated layer's intermediate kernel is [H, 2·I]; nothing else in the table changes", async () => {
    const all = models();
    const plain = (await loadGraph(all.get("tiny-plain")!)).graph.parameters;
    const gated = (await loadGraph(all.get("tiny-geglu")!)).graph.parameters;
    expect(gated.map((p) => p.name)).toEqual(plain.map((p) => p.name));
    const changed = gated.filter((p, i) => p.shape.join() !== plain[i]!.shape.join()).map((p) => [p.name, p.shape]);
    expect(changed).toEqual([
      ["layers.0.ffn.intermediate.kernel", [H, 2 * I]],
      ["layers.0.ffn.intermediate.bias", [2 * I]],
      ["layers.1.ffn.intermediate.kernel", [H, 2 * I]],
      ["layers.1.ffn.intermediate.bias", [2 * I]],
    ]);
  });

  it.each([
    ["tiny-geglu", "gelu", false],
    ["tiny-swiglu", "silu", false],
    ["tiny-swiglu-pre", "silu", true],
  ] as const)("%s: (%s(input) * gate)·Wo in each layer, as the reference", async (name, act, pre) => {
    const { graph } = await loadGraph(models().get(name)!);
    const w = randomWeights(new Map(graph.parameters.map((p) => [p.name, p.shape])));
    const x = inputs();
    const out = graph.encode(
      graph.bindParams((n) => w.get(n)),
      x,
      EVAL,
    );
    expect(out.hiddenStates).toHaveLength(LAYERS + 1);
    let h: tf.Tensor = out.hiddenStates[0]!;
    for (let layer = 0; layer < LAYERS; layer++) {
      h = referenceLayer(h, x.attentionMask, w, layer, act, pre);
      if (layer < LAYERS - 1) expect(maxDifference(out.hiddenStates[layer + 1]!, h), `${name} layer ${layer}`).toBeLessThan(1e-4);
    }
    if (pre) h = ln(h, ...norm(w, "encoder.final_norm"));
    expect(maxDifference(out.lastHiddenState, h), `${name} last hidden state`).toBeLessThan(1e-4);

    // The gate matters: the same weights with input and gate halves swapped compute something clearly different.
    const swapped = new Map(w);
    for (let layer = 0; layer < LAYERS; layer++) {
      const k = `layers.${layer}.ffn.intermediate`;
      const [kIn, kGate] = tf.split(w.get(`${k}.kernel`)!, 2, -1);
      const [bIn, bGate] = tf.split(w.get(`${k}.bias`)!, 2, -1);
      swapped.set(`${k}.kernel`, tf.concat([kGate!, kIn!], -1));
      swapped.set(`${k}.bias`, tf.concat([bGate!, bIn!], -1));
    }
    const other = graph.encode(
      graph.bindParams((n) => swapped.get(n)),
      x,
      EVAL,
    );
    expect(maxDifference(other.lastHiddenState, out.lastHiddenState)).toBeGreaterThan(0.05);
  });
});
