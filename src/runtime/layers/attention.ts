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
import { sublayer } from "./recompute.js";

export interface AttentionParams {
  query: DenseParams;
  key: DenseParams;
  value: DenseParams;
  output: DenseParams;
  norm: LayerNormParams;
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

/** [B, S] 1/0 mask → [B, 1, 1, S] additive bias: (1 − mask) · finfo.min. */
export function attentionBias(attentionMask: tf.Tensor2D): Tensor4D {
  const [batch, seq] = attentionMask.shape;
  const bias = tf.mul(tf.sub(1, tf.cast(attentionMask, "float32")), MASKED);
  return tf.reshape(bias, [batch, 1, 1, seq]);
}

/** [B, S, H] → [B, heads, S, d] */
function splitHeads(x: Tensor3D, heads: number): Tensor4D {
  const [batch, seq, hidden] = x.shape;
  return tf.transpose(tf.reshape(x, [batch, seq, heads, hidden / heads]), [0, 2, 1, 3]);
}

/** One sublayer (see recompute.ts): its temporaries are freed on return, or recomputed in the backward pass. */
export function selfAttention(x: Tensor3D, bias: Tensor4D, p: AttentionParams, o: AttentionOptions, random: Randomness): Tensor3D {
  return sublayer(x, bias, p, random, (x, bias, random) => {
    if (o.normPosition === "pre") return tf.add(x, attend(layerNorm(x, p.norm, o.normEps), bias, p, o, random));
    return layerNorm(tf.add(attend(x, bias, p, o, random), x), p.norm, o.normEps);
  });
}

/** The attention sublayer's own computation, between residual and LayerNorm: [B, S, H] → [B, S, H]. */
function attend(x: Tensor3D, bias: Tensor4D, p: AttentionParams, o: AttentionOptions, random: Randomness): Tensor3D {
  const [batch, seq, hidden] = x.shape;
  const q = splitHeads(dense(x, p.query), o.heads); // [B, heads, S, d]
  const k = splitHeads(dense(x, p.key), o.heads);
  const v = splitHeads(dense(x, p.value), o.heads);
  const scale = 1 / Math.sqrt(hidden / o.heads);
  // [B, heads, S, S]; padded query rows are computed too, as in Hugging Face.
  const scores = tf.add(tf.mul(matMulTransposed(q, k), scale), bias);
  const probs = dropout(tf.softmax(scores), o.attentionDropout, random);
  // [B, heads, S, d] → [B, S, heads, d] → [B, S, H]
  const context = tf.reshape(tf.transpose(matMul(probs, v), [0, 2, 1, 3]), [batch, seq, hidden]);
  return dropout(dense(context as Tensor3D, p.output), o.dropout, random);
}
