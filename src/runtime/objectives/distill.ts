import { tf, type Scalar, type Tensor, type Tensor2D } from "../backends/tf.js";

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

/**
 * One op with its gradients written out (pS, pT the softened distributions, KLᵢ row i's term):
 *   ∂/∂s = T/N · (pS − pT),   ∂/∂t = T/N · pT · (log pT − log pS − KLᵢ)
 * Taped op by op, the loss kept seven [N, V] tensors (every real token × the vocabulary:
 * 125 MB each for 1,024 tokens of BERT's vocabulary) until the backward pass; this keeps
 * only the student's and the teacher's logits, which are alive anyway, and recomputes the
 * softmaxes from them, one gradient at a time.
 */
const klDivergence = (temperature: number) =>
  tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
    const [student, teacher] = args as [Tensor2D, Tensor2D];
    const save = args[2] as tf.GradSaveFunc;
    save([student, teacher]);
    const logS = tf.logSoftmax(tf.div(student, temperature));
    const logT = tf.logSoftmax(tf.div(teacher, temperature));
    const kl = tf.sum(tf.mul(tf.exp(logT), tf.sub(logT, logS)));
    const value = tf.mul(tf.div(kl, student.shape[0]), temperature * temperature);
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const [s, t] = saved as [Tensor2D, Tensor2D];
      const scale = tf.mul(dy, temperature / s.shape[0]);
      const dStudent = tf.tidy(() => tf.mul(tf.sub(tf.softmax(tf.div(s, temperature)), tf.softmax(tf.div(t, temperature))), scale));
      // A frozen teacher's logits are no variable's: the trainer never reads this one.
      const dTeacher = tf.tidy(() => {
        const logS = tf.logSoftmax(tf.div(s, temperature));
        const logT = tf.logSoftmax(tf.div(t, temperature));
        const pT = tf.exp(logT);
        const gap = tf.sub(logT, logS);
        return tf.mul(tf.mul(pT, tf.sub(gap, tf.sum(tf.mul(pT, gap), 1, true))), scale);
      });
      return [dStudent, dTeacher];
    };
    return { value, gradFunc };
  });

const byTemperature = new Map<number, ReturnType<typeof klDivergence>>();

export function distillLoss(student: Tensor2D, teacher: Tensor2D, { temperature }: DistillOptions): Scalar {
  let f = byTemperature.get(temperature);
  if (!f) byTemperature.set(temperature, (f = klDivergence(temperature)));
  return f(student, teacher) as Scalar;
}
