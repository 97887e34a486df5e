/**
 * The position-wise feed-forward sublayer with residual and LayerNorm: post-LN (BERT)
 * LN(x + FFN(x)) unless the options say pre-LN, x + FFN(LN(x)). FFN is plain,
 * act(x·Wi)·Wo, unless the options say gated (GeGLU, SwiGLU): x·Wi splits into an input
 * half and a gate half, and FFN = (act(input) * gate)·Wo, as Hugging Face's ModernBERT MLP.
 */
import type { Activation, FeedForwardKind, NormPosition } from "../../model/model.js";
import { tf, type Tensor3D } from "../backends/tf.js";
import { activation } from "./activations.js";
import { dense, type DenseParams } from "./dense.js";
import { dropout, type Randomness } from "./dropout.js";
import { layerNorm, type LayerNormParams } from "./layer-norm.js";
import { sublayer } from "./recompute.js";

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
  /** Absent: `plain`. Gated: `intermediate` is [H, 2·I], input columns then gate columns. */
  kind?: FeedForwardKind;
}

/** One sublayer (see recompute.ts): its temporaries are freed on return, or recomputed in the backward pass. */
export function feedForward(x: Tensor3D, p: FeedForwardParams, o: FeedForwardOptions, random: Randomness): Tensor3D {
  return sublayer(x, [], p, random, (x, _none, random) => {
    if (o.normPosition === "pre") return tf.add(x, transform(layerNorm(x, p.norm, o.normEps), p, o, random));
    return layerNorm(tf.add(transform(x, p, o, random), x), p.norm, o.normEps);
  });
}

/** [B, S, H] → [B, S, I] → [B, S, H], with dropout on the output. */
function transform(x: Tensor3D, p: FeedForwardParams, o: FeedForwardOptions, random: Randomness): Tensor3D {
  const inner = o.kind === "gated" ? gated(x, p, o) : activation<Tensor3D>(o.activation)(dense(x, p.intermediate)); // [B, S, I]
  return dropout(dense(inner, p.output), o.dropout, random);
}

/** [B, S, H] → [B, S, 2·I] → act(input) * gate, [B, S, I]. */
function gated(x: Tensor3D, p: FeedForwardParams, o: FeedForwardOptions): Tensor3D {
  const [input, gate] = tf.split(dense(x, p.intermediate), 2, -1) as [Tensor3D, Tensor3D];
  return tf.mul(activation<Tensor3D>(o.activation)(input), gate);
}
