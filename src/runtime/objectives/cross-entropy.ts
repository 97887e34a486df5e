import { tf, type Scalar, type Tensor2D } from "../backends/tf.js";

/** Label value that marks a position as not predicted (Hugging Face's ignore_index). */
export const IGNORE = -100;

/**
 * Mean cross-entropy of `logits` [N, C] against `labels` [N], over the rows whose label is
 * not IGNORE — one mean over the whole batch, not per row, as torch's CrossEntropyLoss.
 *
 * Only the labelled rows are normalised, and each row's log-probability of its label is
 * picked by index rather than by a one-hot product: with DistilBERT's objectives `logits`
 * holds every real token (distillation reads them all), about seven times the labelled
 * ones, and a one-hot product is two more [N, C] tensors. (Labels are inputs, never
 * differentiated, so their rows are read on the host, as selectRows does.)
 */
export function crossEntropy(logits: Tensor2D, labels: tf.Tensor1D): Scalar {
  const [rows, classes] = logits.shape;
  const values = labels.dataSync();
  const kept: number[] = [];
  const picked: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (values[i] === IGNORE) continue;
    picked.push(kept.length * classes + values[i]!);
    kept.push(i);
  }
  if (kept.length === 0) return tf.mul(tf.sum(logits), 0) as Scalar; // nothing predicted: loss 0, every gradient 0
  const labelled = kept.length === rows ? logits : tf.gather(logits, tf.tensor1d(kept, "int32"));
  const logProbs = tf.reshape(tf.logSoftmax(labelled), [-1]); // [M·C]
  const own = tf.gather(logProbs, tf.tensor1d(picked, "int32")); // [M]
  return tf.div(tf.neg(tf.sum(own)), kept.length) as Scalar;
}
