/** The position-wise feed-forward sublayer with residual and LayerNorm (post-LN). */
import type { Activation } from "../../model/model.js";
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
}

export function feedForward(x: Tensor3D, p: FeedForwardParams, o: FeedForwardOptions, random: Randomness): Tensor3D {
  const inner = activation<Tensor3D>(o.activation)(dense(x, p.intermediate)); // [B, S, I]
  const out = dropout(dense(inner, p.output), o.dropout, random); // [B, S, H]
  return layerNorm(tf.add(out, x), p.norm, o.normEps);
}
