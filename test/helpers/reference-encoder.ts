/**
 * A reference for the encoder's layers written with plain TensorFlow.js ops, none of the
 * runtime's layer functions: what the tests of the emitted encoder (norm positions, gated
 * feed-forward layers, bias-free parts) compare against, layer by layer. Weights are drawn at random,
 * LayerNorm weights too, so a LayerNorm in the wrong place or a swapped split shows.
 */
import { expect } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import type { ResolvedModel } from "../../src/model/model.js";
import { tf } from "../../src/runtime/backends/tf.js";
import { mulberry32 } from "../../src/runtime/data/random.js";

export type Weights = Map<string, tf.Tensor>;

/** The tiny models' sizes the references are written for. */
export interface Sizes {
  hidden: number;
  heads: number;
  intermediate: number;
  eps: number;
}

/** Every tensor of `shapes`, at random: LayerNorm weights around 1, everything else around 0. */
export function randomWeights(shapes: Map<string, number[]>, seed: number): Weights {
  const next = mulberry32(seed);
  const out: Weights = new Map();
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

/** A bias the weights lack (a model with `attention_bias`, `mlp_bias` or `norm_bias` false) adds zero. */
function biasOr0(w: Weights, prefix: string): tf.Tensor | number {
  return w.get(`${prefix}.bias`) ?? 0;
}

export function layerNorm(x: tf.Tensor, w: Weights, prefix: string, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), w.get(`${prefix}.weight`)!), biasOr0(w, prefix));
}

export function linear(x: tf.Tensor, w: Weights, prefix: string): tf.Tensor {
  const kernel = w.get(`${prefix}.kernel`)! as tf.Tensor2D;
  const [b, s] = x.shape as [number, number, number];
  return tf.reshape(tf.add(tf.matMul(tf.reshape(x, [b * s, -1]) as tf.Tensor2D, kernel), biasOr0(w, prefix)), [b, s, -1]);
}

/** How a layer attends: `theta`, rotary positions with that base; `window`, keys within window / 2 positions only. */
export interface AttentionKind {
  theta?: number;
  window?: number;
}

/**
 * RoPE written out pair by pair: feature i and i + d/2 of position p turn by the angle
 * p · theta^(−2i/d), in float64 here.
 */
function rotate(x: tf.Tensor, theta: number): tf.Tensor {
  const [b, heads, s, d] = x.shape as [number, number, number, number];
  const values = x.arraySync() as number[][][][];
  for (let i = 0; i < b; i++)
    for (let h = 0; h < heads; h++)
      for (let p = 0; p < s; p++) {
        const row = values[i]![h]![p]!;
        const turned = [...row];
        for (let j = 0; j < d / 2; j++) {
          const angle = p * Math.pow(theta, (-2 * j) / d);
          const [a, c] = [row[j]!, row[j + d / 2]!];
          turned[j] = a * Math.cos(angle) - c * Math.sin(angle);
          turned[j + d / 2] = c * Math.cos(angle) + a * Math.sin(angle);
        }
        values[i]![h]![p] = turned;
      }
  return tf.tensor(values);
}

/** Self-attention without residual or LayerNorm, for one layer's tensors under `prefix`. */
export function attend(
  x: tf.Tensor,
  mask: tf.Tensor2D,
  w: Weights,
  prefix: string,
  { hidden, heads }: Sizes,
  kind: AttentionKind = {},
): tf.Tensor {
  const [b, s] = x.shape as [number, number, number];
  const d = hidden / heads;
  const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [b, s, heads, d]), [0, 2, 1, 3]);
  let [q, k, v] = ["query", "key", "value"].map((n) => split(linear(x, w, `${prefix}.${n}`)));
  if (kind.theta !== undefined) [q, k] = [rotate(q!, kind.theta), rotate(k!, kind.theta)];
  // A key is masked once, whether for padding or for being outside the window.
  const visible = mask
    .arraySync()
    .map((row) =>
      Array.from({ length: s }, (_, query) =>
        row.map((m, key) => (m === 1 && (kind.window === undefined || Math.abs(query - key) <= kind.window / 2) ? 0 : -1e9)),
      ),
    );
  const masked = tf.reshape(tf.tensor(visible), [b, 1, s, s]);
  const scores = tf.add(tf.div(tf.matMul(q!, k!, false, true), Math.sqrt(d)), masked);
  const context = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v!), [0, 2, 1, 3]), [b, s, hidden]);
  return linear(context, w, `${prefix}.output`);
}

export const ACTIVATION = {
  /** The erf GELU (`activation gelu`). */
  gelu: (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))),
  silu: (x: tf.Tensor) => tf.div(x, tf.add(1, tf.exp(tf.neg(x)))),
};
export type ReferenceActivation = keyof typeof ACTIVATION;

/** A feed-forward transform without residual or LayerNorm: x, the weights, the layer's `…ffn` prefix. */
export type Transform = (x: tf.Tensor, w: Weights, prefix: string) => tf.Tensor;

/** BERT's feed-forward: act(x·W1)·W2. */
export const plainTransform =
  (act: ReferenceActivation): Transform =>
  (x, w, prefix) =>
    linear(ACTIVATION[act](linear(x, w, `${prefix}.intermediate`)), w, `${prefix}.output`);

/** ModernBERT's MLP: input, gate = chunk(x·Wi, 2); (act(input) * gate)·Wo. Columns 0..I-1 are the input, I..2I-1 the gate. */
export const gatedTransform =
  (act: ReferenceActivation, { intermediate }: Sizes): Transform =>
  (x, w, prefix) => {
    const wide = linear(x, w, `${prefix}.intermediate`);
    const input = tf.slice(wide, [0, 0, 0], [-1, -1, intermediate]);
    const gate = tf.slice(wide, [0, 0, intermediate], [-1, -1, intermediate]);
    return linear(tf.mul(ACTIVATION[act](input), gate), w, `${prefix}.output`);
  };

/** One encoder layer: post-LN LN(x + f(x)) or pre-LN x + f(LN(x)), for attention then the feed-forward `transform`. */
export function referenceLayer(
  h: tf.Tensor,
  mask: tf.Tensor2D,
  w: Weights,
  layer: number,
  o: { pre: boolean; transform: Transform; sizes: Sizes; attention?: AttentionKind; attentionNorm?: boolean },
): tf.Tensor {
  const at = `layers.${layer}.attention`;
  const ff = `layers.${layer}.ffn`;
  const ln = (x: tf.Tensor, prefix: string) => layerNorm(x, w, prefix, o.sizes.eps);
  if (o.pre) {
    const input = o.attentionNorm === false ? h : ln(h, `${at}.norm`);
    const a = tf.add(h, attend(input, mask, w, at, o.sizes, o.attention));
    return tf.add(a, o.transform(ln(a, `${ff}.norm`), w, ff));
  }
  const a = ln(tf.add(h, attend(h, mask, w, at, o.sizes, o.attention)), `${at}.norm`);
  return ln(tf.add(a, o.transform(a, w, ff)), `${ff}.norm`);
}

export function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
}

/** Two sequences of six tokens, the second padded by two. */
export const referenceInputs = () => ({
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

/** The sizes of the tiny models the reference is checked on. */
export const TINY = { hidden: 8, heads: 2, intermediate: 12, layers: 2, eps: 1e-12 } as const;
export const TINY_SIZES: Sizes = TINY;

/** The tiny model, named `name`, with dropout off so the encoder is deterministic; a test's variants extend it. */
export function tinyModelSource(name: string): string {
  const { hidden, layers, heads, intermediate } = TINY;
  return `
model ${name} {
  vocab 40 hidden ${hidden} layers ${layers} heads ${heads} intermediate ${intermediate}
  dropout 0 attention_dropout 0
  embeddings { positions 16 }
  objectives { mlm }
  special { pad 0 unk 1 cls 2 sep 3 mask 4 }
  train { seq 16 }
}
`;
}

/** Every model `file` resolves to, by name; any error fails the test. */
export function resolvedModels(file: string): Map<string, ResolvedModel> {
  const checked = checkFile(file);
  expect(checked.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  return new Map([...checked.resolutions].map(([name, r]) => [name, r.model]));
}
