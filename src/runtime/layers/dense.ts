import { tf, type Tensor, type Tensor1D, type Tensor2D } from "../backends/tf.js";
import { matMul, transposesAreSlow } from "./matmul.js";

/** A linear layer. `kernel` is [in, out] (Hugging Face stores the transpose, [out, in]). */
export interface DenseParams {
  kernel: Tensor2D;
  /** Absent in a part without bias (`attention_bias false`, `mlp_bias false`). */
  bias?: Tensor1D;
}

/** x · kernel + bias over the last axis of x (any rank ≥ 2); x · kernel when there is no bias. */
export function dense<T extends Tensor>(x: T, p: DenseParams): T {
  const shape = x.shape;
  const inner = shape[shape.length - 1]!;
  const rows = x.size / inner;
  const x2 = tf.reshape(x, [rows, inner]) as Tensor2D;
  // [rows, in] · [in, out] + [out]; one fused kernel where the backend's products are fast
  const y =
    p.bias === undefined
      ? matMul(x2, p.kernel)
      : transposesAreSlow()
        ? tf.add(matMul(x2, p.kernel), p.bias)
        : tf.fused.matMul({ a: x2, b: p.kernel, bias: p.bias });
  return tf.reshape(y, [...shape.slice(0, -1), p.kernel.shape[1]]) as T;
}
