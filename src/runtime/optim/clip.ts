/**
 * Gradient clipping by global norm, with torch.nn.utils.clip_grad_norm_
 * semantics (norm_type 2, error_if_nonfinite false):
 *
 *   norm = √(Σ over all tensors, all elements of g²)
 *   coef = maxNorm / (norm + 1e-6)
 *   g ← g · min(coef, 1)
 *
 * so the gradients are scaled exactly when coef < 1, i.e. when
 * norm > maxNorm − 1e-6. Note what this means at the boundary, as in torch:
 * a norm equal to maxNorm is scaled by maxNorm/(maxNorm + 1e-6), a shrink of
 * about 1e-6/maxNorm. A non-finite norm is returned as is, and (as in torch)
 * the gradients are multiplied by the resulting coefficient (0 for an infinite
 * norm, NaN for a NaN one); callers should check `norm` and skip the step.
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * Returns new tensors (scaled copies, or plain clones when no scaling is
 * needed) under the same names, and the global norm before clipping. The
 * input tensors are not disposed: the caller disposes them.
 */
export function clipByGlobalNorm(
  grads: Map<string, tf.Tensor>,
  maxNorm: number,
): { grads: Map<string, tf.Tensor>; norm: number } {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new Error(`clipByGlobalNorm: maxNorm must be a positive number, got ${maxNorm}`);
  }
  const out = new Map<string, tf.Tensor>();
  if (grads.size === 0) return { grads: out, norm: 0 };
  const normTensor = tf.tidy(() => {
    const squares = [...grads.values()].map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(tf.addN(squares));
  });
  const norm = normTensor.dataSync()[0]!;
  normTensor.dispose();
  const coef = maxNorm / (norm + 1e-6);
  const clamped = Math.min(coef, 1); // NaN stays NaN, as torch.clamp does
  for (const [name, g] of grads) {
    out.set(name, clamped === 1 ? tf.clone(g) : tf.tidy(() => tf.mul(g, clamped)));
  }
  return { grads: out, norm };
}
