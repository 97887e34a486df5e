import { tf, type Tensor, type Tensor1D, type Tensor2D } from "../tf.js";
import { matMul } from "./matmul.js";

/** A linear layer. `kernel` is [in, out] (Hugging Face stores the transpose, [out, in]). */
export interface DenseParams {
  kernel: Tensor2D;
  bias: Tensor1D;
}

/** x · kernel + bias over the last axis of x (any rank ≥ 2). */
export function dense<T extends Tensor>(x: T, p: DenseParams): T {
  const shape = x.shape;
  const inner = shape[shape.length - 1]!;
  const rows = x.size / inner;
  // [rows, in] · [in, out] + [out]
  const y = tf.add(matMul(tf.reshape(x, [rows, inner]) as Tensor2D, p.kernel), p.bias);
  return tf.reshape(y, [...shape.slice(0, -1), p.kernel.shape[1]]) as T;
}
