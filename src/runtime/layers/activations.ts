import type { Activation } from "../../model/model.js";
import { tf, type Tensor } from "../backends/tf.js";

/**
 * `gelu`: the exact form, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (BERT, RoBERTa, DistilBERT), with
 * its derivative written out, Φ(x) + x·φ(x), φ(x) = exp(−x²/2)/√(2π): 7 kernels where
 * autodiff of the forward ops takes 13.
 */
const exactGelu = tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as Tensor;
  const save = args[1] as tf.GradSaveFunc;
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5);
  save([x, cdf]);
  const gradFunc = (dy: Tensor, saved: Tensor[]) => {
    const [sx, sc] = saved as [Tensor, Tensor];
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(sx), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return [tf.mul(dy, tf.add(sc, tf.mul(sx, pdf)))];
  };
  return { value: tf.mul(x, cdf), gradFunc };
});

export function gelu<T extends Tensor>(x: T): T {
  return exactGelu(x) as T;
}

/** `gelu_new`: the tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (ALBERT, GPT-2). */
export function geluNew<T extends Tensor>(x: T): T {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner))) as T;
}

export function activation<T extends Tensor>(kind: Activation): (x: T) => T {
  switch (kind) {
    case "gelu":
      return gelu;
    case "gelu_new":
      return geluNew;
    case "relu":
      return (x) => tf.relu(x);
    case "silu":
      // x·σ(x) (SwiGLU's activation; Hugging Face's "silu").
      return (x) => tf.mul(x, tf.sigmoid(x)) as T;
  }
}
