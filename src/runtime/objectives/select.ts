import { tf } from "../backends/tf.js";

/**
 * Rows of `x` [N, …] where `keep` [N] is true or nonzero: the positions an objective looks
 * at. Indices are read on the host — masks are inputs, never differentiated — so the
 * gathered tensor stays small (e.g. MLM logits only at the ~15% selected positions).
 */
export function selectRows<T extends tf.Tensor>(x: T, keep: tf.Tensor1D): T {
  const values = keep.dataSync();
  const indices: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) indices.push(i);
  return tf.gather(x, tf.tensor1d(indices, "int32")) as T;
}
