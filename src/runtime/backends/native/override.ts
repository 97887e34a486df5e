import { tf } from "../tf.js";

/**
 * Replaces `kernelName` on `backendName` by `make(original)`, where the original is the
 * fallback backend's kernel. The original's setup (the wasm kernels bind their exports
 * when the backend starts) is kept, so the replacement can still call it.
 */
export function overrideKernel(
  kernelName: string,
  backendName: string,
  fallbackBackend: string,
  make: (original: tf.KernelFunc) => tf.KernelFunc,
): void {
  const original = tf.getKernel(kernelName, fallbackBackend);
  if (!original) throw new Error(`no ${kernelName} kernel on ${fallbackBackend} to fall back to`);
  tf.registerKernel({
    ...original,
    backendName,
    kernelFunc: make(original.kernelFunc),
  });
}
