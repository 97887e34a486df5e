import type { Activation } from "../../compiler/model.js";
import { tf, type Tensor } from "../tf.js";

/** `gelu`: the exact form, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (BERT, RoBERTa, DistilBERT). */
export function gelu<T extends Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as T;
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
  }
}
