/**
 * Matrix products, shaped for the backend. tfjs differentiates matMul into products with
 * `transposeA`/`transposeB` set, which its wasm backend (XNNPACK) runs an order of
 * magnitude slower than untransposed ones; there, transposing explicitly first costs one
 * pass over a matrix and keeps every product on the fast path. Other backends (`native`'s
 * MLAS, webgpu, tensorflow) take the transposes for free, so they get tfjs's own products.
 */
import { tf, type Tensor } from "../backends/tf.js";

/** Swap the last two axes. */
function swapLast<T extends Tensor>(x: T): T {
  const perm = [...Array(x.rank).keys()];
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return tf.transpose(x, perm) as T;
}

const product = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const a = args[0] as Tensor;
  const b = args[1] as Tensor;
  const save = args[2] as tf.GradSaveFunc;
  save([a, b]);
  const value = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
  const gradFunc = (dy: Tensor, saved: Tensor[]) => {
    const [sa, sb] = saved as [Tensor, Tensor];
    return [tf.matMul(dy as tf.Tensor2D, swapLast(sb) as tf.Tensor2D), tf.matMul(swapLast(sa) as tf.Tensor2D, dy as tf.Tensor2D)];
  };
  return { value, gradFunc };
});

/** Whether the active backend runs transposed products slowly (see above). */
export function transposesAreSlow(): boolean {
  return tf.getBackend() === "wasm";
}

/** a [.., n, k] · b [.., k, m] → [.., n, m] (same batch dimensions). */
export function matMul<T extends Tensor>(a: T, b: Tensor): T {
  return (transposesAreSlow() ? product(a, b) : tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)) as T;
}

/** a · bᵀ over the last two axes. */
export function matMulTransposed<T extends Tensor>(a: T, b: Tensor): T {
  return (transposesAreSlow() ? product(a, swapLast(b)) : tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true)) as T;
}
