import { tf, type Scalar, type Tensor2D } from "../backends/tf.js";

/** Label value that marks a position as not predicted (Hugging Face's ignore_index). */
export const IGNORE = -100;

/**
 * Mean cross-entropy of `logits` [N, C] against `labels` [N], over the rows whose label is
 * not IGNORE — one mean over the whole batch, not per row, as torch's CrossEntropyLoss.
 */
export function crossEntropy(logits: Tensor2D, labels: tf.Tensor1D): Scalar {
  const keep = tf.cast(tf.notEqual(labels, IGNORE), "float32"); // [N]
  const safe = tf.where(tf.notEqual(labels, IGNORE), labels, tf.zerosLike(labels)); // ignored rows read class 0, then weigh 0
  const logProbs = tf.logSoftmax(logits); // [N, C]
  const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.cast(safe, "int32"), logits.shape[1])), 1); // [N]
  return tf.div(tf.neg(tf.sum(tf.mul(picked, keep))), tf.maximum(tf.sum(keep), 1)) as Scalar;
}
