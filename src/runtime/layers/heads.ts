/** Pretraining heads: the pooler, the MLM head (decoder tied to the word embeddings), and sentence-pair classifiers. */
import type { Activation } from "../../model/model.js";
import { tf, type Tensor1D, type Tensor2D, type Tensor3D } from "../backends/tf.js";
import { activation } from "./activations.js";
import { dense, type DenseParams } from "./dense.js";
import { layerNorm, type LayerNormParams } from "./layer-norm.js";
import { matMulTransposed } from "./matmul.js";

/** tanh(dense(h[:, 0])): the [CLS] summary that NSP/SOP classify. [B, S, H] → [B, H] */
export function pooler(h: Tensor3D, p: DenseParams): Tensor2D {
  const [batch, , hidden] = h.shape;
  const cls = tf.reshape(tf.slice(h, [0, 0, 0], [batch, 1, hidden]), [batch, hidden]);
  return tf.tanh(dense(cls, p)) as Tensor2D;
}

export interface MlmHeadParams {
  transform: DenseParams;
  norm: LayerNormParams;
  /** The decoder's own bias (absent with `decoder_bias false`); its weight is the word-embedding table (weight tying). */
  bias?: Tensor1D;
}

/**
 * [N, H] → [N, V]: dense H→E, activation, LayerNorm, then the transpose of the word
 * embeddings. Tying the decoder to the embeddings means one [V, E] tensor gets gradient
 * from both the lookup and the output.
 */
export interface MlmHeadOptions {
  /** The transform's activation (the model's). */
  activation: Activation;
  normEps: number;
}

export function mlmLogits(h: Tensor2D, p: MlmHeadParams, wordEmbeddings: Tensor2D, o: MlmHeadOptions): Tensor2D {
  const t = layerNorm(activation<Tensor2D>(o.activation)(dense(h, p.transform)), p.norm, o.normEps);
  const logits = matMulTransposed(t, wordEmbeddings);
  return p.bias ? tf.add(logits, p.bias) : logits;
}

/** [B, S, H] → [B·S, H] */
export function flattenPositions(h: Tensor3D): Tensor2D {
  const [batch, seq, hidden] = h.shape;
  return tf.reshape(h, [batch * seq, hidden]);
}

export interface RtdHeadParams {
  transform: DenseParams;
  output: DenseParams;
}

/** ELECTRA's discriminator head, [B, S, H] → [B, S]: dense H→H, activation, then one logit per token (replaced or not). */
export function rtdLogits(h: Tensor3D, p: RtdHeadParams, kind: Activation): Tensor2D {
  const [batch, seq] = h.shape;
  const t = activation<Tensor2D>(kind)(dense(flattenPositions(h), p.transform));
  return tf.reshape(dense(t, p.output), [batch, seq]);
}
