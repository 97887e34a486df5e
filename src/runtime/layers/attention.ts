/**
 * Multi-head self-attention with its output projection, residual and LayerNorm: post-LN
 * (BERT) LN(x + Attn(x)) unless the options say pre-LN, x + Attn(LN(x)).
 */
import type { NormPosition } from "../../model/model.js";
import { tf, type Tensor3D, type Tensor4D } from "../backends/tf.js";
import { dense, type DenseParams } from "./dense.js";
import { dropout, type Randomness } from "./dropout.js";
import { layerNorm, type LayerNormParams } from "./layer-norm.js";
import { matMul, matMulTransposed } from "./matmul.js";
import { applyRotary, type RotaryTables } from "./rotary.js";
import { sublayer } from "./recompute.js";

export interface AttentionParams {
  query: DenseParams;
  key: DenseParams;
  value: DenseParams;
  output: DenseParams;
  /** Null only in a pre-LN layer without one (ModernBERT's layer 0): its input goes in as it is. */
  norm: LayerNormParams | null;
}

export interface AttentionOptions {
  heads: number;
  normEps: number;
  dropout: number;
  attentionDropout: number;
  /** Absent: `post`. */
  normPosition?: NormPosition;
}

/** torch.finfo(float32).min: what Hugging Face adds to the scores of masked keys. */
const MASKED = -3.4028234663852886e38;

/**
 * [B, S] 1/0 mask → [B, 1, 1, S] additive bias: (1 − mask) · finfo.min. With packed
 * documents (`documentIds` [B, S]), [B, 1, S, S]: a query also sees no key of another
 * document, so each document is encoded as if it were alone in the sequence.
 */
export function attentionBias(attentionMask: tf.Tensor2D, documentIds?: tf.Tensor2D): Tensor4D {
  const [batch, seq] = attentionMask.shape;
  if (documentIds) return documentBias(attentionMask, documentIds);
  const bias = tf.mul(tf.sub(1, tf.cast(attentionMask, "float32")), MASKED);
  return tf.reshape(bias, [batch, 1, 1, seq]);
}

/** [B, 1, S, S]: finfo.min for a key that is padding or in another document than the query. */
function documentBias(attentionMask: tf.Tensor2D, documentIds: tf.Tensor2D): Tensor4D {
  const [batch, seq] = attentionMask.shape;
  const mask = attentionMask.dataSync();
  const docs = documentIds.dataSync();
  const bias = new Float32Array(batch * seq * seq);
  for (let b = 0; b < batch; b++) {
    for (let q = 0; q < seq; q++) {
      const row = (b * seq + q) * seq;
      for (let k = 0; k < seq; k++) {
        if (mask[b * seq + k] === 0 || docs[b * seq + k] !== docs[b * seq + q]) bias[row + k] = MASKED;
      }
    }
  }
  return tf.tensor4d(bias, [batch, 1, seq, seq]);
}

/**
 * A local layer's bias, [B, 1, S, S]: one large negative value for every key that is
 * padding or more than `window / 2` positions from the query, 0 elsewhere. Unlike a global
 * layer, a local one can have queries that see no key at all (a padded query whose window
 * is all padding); Hugging Face then attends uniformly, since every score is finfo.min.
 * A single value for both reasons keeps that uniform (a sum would overflow to −∞ and give
 * NaN). It is finfo.min / 2, which no score added to it can push past −∞ (the webgpu
 * backend gave NaN there with finfo.min itself); it still absorbs any score, so the
 * weights are the same as Hugging Face's.
 */
export function localAttentionBias(paddingBias: Tensor4D, window: number): Tensor4D {
  const seq = paddingBias.shape[3];
  const reach = Math.floor(window / 2);
  const band = new Float32Array(seq * seq);
  for (let q = 0; q < seq; q++) for (let k = 0; k < seq; k++) if (Math.abs(q - k) > reach) band[q * seq + k] = MASKED;
  return tf.maximum(tf.minimum(paddingBias, tf.tensor4d(band, [1, 1, seq, seq])), MASKED / 2);
}

/** [B, S, H] → [B, heads, S, d] */
function splitHeads(x: Tensor3D, heads: number): Tensor4D {
  const [batch, seq, hidden] = x.shape;
  return tf.transpose(tf.reshape(x, [batch, seq, heads, hidden / heads]), [0, 2, 1, 3]);
}

/**
 * One sublayer (see recompute.ts): its temporaries are freed on return, or recomputed in the
 * backward pass. `bias`: [B, 1, 1, S] (padding) or [B, 1, S, S] (a local layer's). `rotary`:
 * the tables that rotate queries and keys, for a model with rotary positions.
 */
export function selfAttention(
  x: Tensor3D,
  bias: Tensor4D,
  p: AttentionParams,
  o: AttentionOptions,
  random: Randomness,
  rotary?: RotaryTables,
): Tensor3D {
  // What the sublayer reads but is not differentiated by: the bias, and the rotary tables.
  const context = rotary ? [bias, rotary.cos, rotary.sin] : [bias];
  return sublayer(x, context, p, random, (x, [bias, cos, sin], random) => {
    const tables = cos && sin ? { cos: cos as tf.Tensor2D, sin: sin as tf.Tensor2D } : undefined;
    if (o.normPosition === "pre") {
      const input = p.norm ? layerNorm(x, p.norm, o.normEps) : x;
      return tf.add(x, attend(input, bias as Tensor4D, p, o, random, tables));
    }
    if (!p.norm) throw new Error("a post-LN attention layer needs its LayerNorm");
    return layerNorm(tf.add(attend(x, bias as Tensor4D, p, o, random, tables), x), p.norm, o.normEps);
  });
}

/** The attention sublayer's own computation, between residual and LayerNorm: [B, S, H] → [B, S, H]. */
function attend(x: Tensor3D, bias: Tensor4D, p: AttentionParams, o: AttentionOptions, random: Randomness, rotary?: RotaryTables): Tensor3D {
  const [batch, seq, hidden] = x.shape;
  let q = splitHeads(dense(x, p.query), o.heads); // [B, heads, S, d]
  let k = splitHeads(dense(x, p.key), o.heads);
  if (rotary) {
    q = applyRotary(q, rotary);
    k = applyRotary(k, rotary);
  }
  const v = splitHeads(dense(x, p.value), o.heads);
  const scale = 1 / Math.sqrt(hidden / o.heads);
  // [B, heads, S, S]; padded query rows are computed too, as in Hugging Face.
  const scores = tf.add(tf.mul(matMulTransposed(q, k), scale), bias);
  const probs = dropout(tf.softmax(scores), o.attentionDropout, random);
  // [B, heads, S, d] → [B, S, heads, d] → [B, S, H]
  const context = tf.reshape(tf.transpose(matMul(probs, v), [0, 2, 1, 3]), [batch, seq, hidden]);
  return dropout(dense(context as Tensor3D, p.output), o.dropout, random);
}
