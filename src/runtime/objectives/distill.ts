import { tf, type Scalar, type Tensor2D } from "../backends/tf.js";

/**
 * DistilBERT's soft-target loss: KL(softmax(t/T) ‖ softmax(s/T)), summed over the
 * vocabulary, averaged over the selected positions, times T². The T² keeps the gradient's
 * size independent of T (Hinton et al. 2015), since soft targets scale gradients by 1/T².
 * `student`, `teacher` [N, V] hold only the selected positions (attention_mask == 1).
 */
export interface DistillOptions {
  /** T: both distributions are softened by it. */
  temperature: number;
}

export function distillLoss(student: Tensor2D, teacher: Tensor2D, { temperature }: DistillOptions): Scalar {
  const logS = tf.logSoftmax(tf.div(student, temperature));
  const logT = tf.logSoftmax(tf.div(teacher, temperature));
  const kl = tf.sum(tf.mul(tf.exp(logT), tf.sub(logT, logS)));
  return tf.mul(tf.div(kl, student.shape[0]), temperature * temperature) as Scalar;
}
