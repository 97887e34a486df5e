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

/** √(Σ over all tensors, all elements of g²), each tensor's squares freed before the next's. */
export function globalNorm(grads: Map<string, tf.Tensor>): number {
  if (grads.size === 0) return 0;
  const normTensor = tf.tidy(() => {
    // One tensor's squares at a time: a tidy over all of them would hold a second copy of every gradient.
    const squares = [...grads.values()].map((g) => tf.tidy(() => tf.sum(tf.square(g))));
    return tf.sqrt(tf.addN(squares));
  });
  const norm = normTensor.dataSync()[0]!;
  normTensor.dispose();
  return norm;
}

/** The factor clipping multiplies every gradient by: min(maxNorm / (norm + 1e-6), 1). */
export function clipCoefficient(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new Error(`clipByGlobalNorm: maxNorm must be a positive number, got ${maxNorm}`);
  }
  const coef = maxNorm / (norm + 1e-6);
  return Math.min(coef, 1); // NaN stays NaN, as torch.clamp does
}

/**
 * Returns new tensors (scaled copies, or plain clones when no scaling is
 * needed) under the same names, and the global norm before clipping. The
 * input tensors are not disposed: the caller disposes them. (Training passes
 * `clipCoefficient` to the optimizer instead, which scales as it updates.)
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: number } {
  clipCoefficient(0, maxNorm);
  const out = new Map<string, tf.Tensor>();
  if (grads.size === 0) return { grads: out, norm: 0 };
  const norm = globalNorm(grads);
  const clamped = clipCoefficient(norm, maxNorm);
  for (const [name, g] of grads) {
    out.set(name, clamped === 1 ? tf.clone(g) : tf.tidy(() => tf.mul(g, clamped)));
  }
  return { grads: out, norm };
}
