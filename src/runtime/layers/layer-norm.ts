import { tf, type Tensor, type Tensor1D } from "../tf.js";

export interface LayerNormParams {
  weight: Tensor1D;
  bias: Tensor1D;
}

/** LayerNorm over the last axis with biased variance, as torch.nn.LayerNorm. */
export function layerNorm<T extends Tensor>(x: T, p: LayerNormParams, eps: number): T {
  const axis = x.rank - 1;
  const { mean, variance } = tf.moments(x, axis, true);
  const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, p.weight), p.bias) as T;
}
