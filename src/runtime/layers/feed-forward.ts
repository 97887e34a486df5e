/**
 * The position-wise feed-forward sublayer with residual and LayerNorm: post-LN (BERT)
 * LN(x + FFN(x)) unless the options say pre-LN, x + FFN(LN(x)).
 */
import type { Activation, NormPosition } from "../../model/model.js";
import { tf, type Tensor3D } from "../backends/tf.js";
import { activation } from "./activations.js";
import { dense, type DenseParams } from "./dense.js";
import { dropout, type Randomness } from "./dropout.js";
import { layerNorm, type LayerNormParams } from "./layer-norm.js";

export interface FeedForwardParams {
  intermediate: DenseParams;
  output: DenseParams;
  norm: LayerNormParams;
}

export interface FeedForwardOptions {
  activation: Activation;
  normEps: number;
  dropout: number;
  /** Absent: `post`. */
  normPosition?: NormPosition;
}

export function feedForward(x: Tensor3D, p: FeedForwardParams, o: FeedForwardOptions, random: Randomness): Tensor3D {
  if (o.normPosition === "pre") return tf.add(x, transform(layerNorm(x, p.norm, o.normEps), p, o, random));
  return layerNorm(tf.add(transform(x, p, o, random), x), p.norm, o.normEps);
}

/** [B, S, H] → [B, S, I] → [B, S, H], with dropout on the output. */
function transform(x: Tensor3D, p: FeedForwardParams, o: FeedForwardOptions, random: Randomness): Tensor3D {
  const inner = activation<Tensor3D>(o.activation)(dense(x, p.intermediate)); // [B, S, I]
  return dropout(dense(inner, p.output), o.dropout, random);
}
