/**
 * Where the LayerNorms sit, as the emitted encoder computes it: a pre-LN model's layers are
 * x + Attn(LN(x)) and x + FFN(LN(x)), and a final LayerNorm follows the last one; a post-LN
 * model's are LN(x + Attn(x)) and LN(x + FFN(x)). Both are checked against a reference
 * written here with plain TensorFlow.js ops, from the embeddings' output on, with weights
 * drawn at random (LayerNorm weights too, so a LayerNorm in the wrong place shows).
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
model tiny-post {
  vocab 40 hidden ${H} layers ${LAYERS} heads ${HEADS} intermediate ${I}
  dropout 0 attention_dropout 0
  embeddings { positions 16 }
  objectives { mlm }
  special { pad 0 unk 1 cls 2 sep 3 mask 4 }
  train { seq 16 }
}
model tiny-pre extends tiny-post { norm_position pre }
`;

const temp = tempFiles("bdl-norm-position-");

function models(): { post: ResolvedModel; pre: ResolvedModel } {
  const checked = checkFile(temp.file("tiny.bdl", SOURCE));
  expect(checked.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  return { post: checked.resolutions.get("tiny-post")!.model, pre: checked.resolutions.get("tiny-pre")!.model };
}

/** Every tensor of the union of both tables, at random: LayerNorm weights around 1, everything else around 0. */
function randomWeights(names: Map<string, number[]>): Map<string, tf.Tensor> {
  const next = generator(2024);
  const out = new Map<string, tf.Tensor>();
  for (const [name, shape] of names) {
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

/** Attention without residual or LayerNorm, for one layer's tensors under `prefix`. */
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

/** The feed-forward transform with the erf GELU (`activation gelu`), without residual or LayerNorm. */
function transform(x: tf.Tensor, w: Map<string, tf.Tensor>, prefix: string): tf.Tensor {
  const inner = linear(x, w, `${prefix}.intermediate`);
  const gelu = tf.mul(tf.mul(inner, 0.5), tf.add(1, tf.erf(tf.div(inner, Math.SQRT2))));
  return linear(gelu, w, `${prefix}.output`);
}

const norm = (w: Map<string, tf.Tensor>, prefix: string) => [w.get(`${prefix}.weight`)!, w.get(`${prefix}.bias`)!] as const;

function referenceLayer(h: tf.Tensor, mask: tf.Tensor2D, w: Map<string, tf.Tensor>, layer: number, pre: boolean): tf.Tensor {
  const at = `layers.${layer}.attention`;
  const ff = `layers.${layer}.ffn`;
  if (pre) {
    const a = tf.add(h, attend(ln(h, ...norm(w, `${at}.norm`)), mask, w, at));
    return tf.add(a, transform(ln(a, ...norm(w, `${ff}.norm`)), w, ff));
  }
  const a = ln(tf.add(h, attend(h, mask, w, at)), ...norm(w, `${at}.norm`));
  return ln(tf.add(a, transform(a, w, ff)), ...norm(w, `${ff}.norm`));
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
}

describe("norm_position in the emitted encoder", () => {
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

  it("pre: x + Attn(LN(x)), x + FFN(LN(x)) in each layer, then the final LayerNorm; post: LN after each residual sum", async () => {
    const { post, pre } = models();
    const graphs = { post: (await loadGraph(post)).graph, pre: (await loadGraph(pre)).graph };
    const shapes = new Map([...graphs.pre.parameters, ...graphs.post.parameters].map((p) => [p.name, p.shape]));
    const w = randomWeights(shapes);
    // What pre-LN adds to the table: one LayerNorm after the layers.
    expect(graphs.pre.parameters.map((p) => p.name).filter((n) => !graphs.post.parameters.some((q) => q.name === n))).toEqual([
      "encoder.final_norm.weight",
      "encoder.final_norm.bias",
    ]);

    const x = inputs();
    const outputs: Record<"post" | "pre", tf.Tensor> = { post: tf.scalar(0), pre: tf.scalar(0) };
    for (const kind of ["post", "pre"] as const) {
      const graph = graphs[kind];
      const out = graph.encode(
        graph.bindParams((name) => w.get(name)),
        x,
        EVAL,
      );
      expect(out.hiddenStates).toHaveLength(LAYERS + 1);
      expect(out.hiddenStates.at(-1)).toBe(out.lastHiddenState);
      let h: tf.Tensor = out.hiddenStates[0]!;
      for (let layer = 0; layer < LAYERS; layer++) {
        h = referenceLayer(h, x.attentionMask, w, layer, kind === "pre");
        // Before the last layer, the hidden states are the layers' own outputs (unnormalised when pre-LN).
        if (layer < LAYERS - 1) expect(maxDifference(out.hiddenStates[layer + 1]!, h), `${kind} layer ${layer}`).toBeLessThan(1e-4);
      }
      if (kind === "pre") h = ln(h, ...norm(w, "encoder.final_norm"));
      expect(maxDifference(out.lastHiddenState, h), `${kind} last hidden state`).toBeLessThan(1e-4);
      outputs[kind] = out.lastHiddenState;
    }
    // The same weights in the two structures compute clearly different things.
    expect(maxDifference(outputs.post, outputs.pre)).toBeGreaterThan(0.1);
  });
});
