import { tf, type Scalar, type Tensor2D } from "../backends/tf.js";

/** torch's CosineEmbeddingLoss with target 1, mean reduction: mean(1 − cos(s, t)) over rows [N, H]. */
export function cosineLoss(student: Tensor2D, teacher: Tensor2D): Scalar {
  const dot = tf.sum(tf.mul(student, teacher), 1);
  // torch adds EPSILON = 1e-12 to each squared norm before the square root.
  const norms = tf.sqrt(tf.mul(tf.add(tf.sum(tf.square(student), 1), 1e-12), tf.add(tf.sum(tf.square(teacher), 1), 1e-12)));
  return tf.mean(tf.sub(1, tf.div(dot, norms))) as Scalar;
}
