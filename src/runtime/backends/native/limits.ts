/**
 * Sizes below which a `native` kernel hands the work back to wasm: a call into
 * onnxruntime costs about 10 µs, which small tensors do not repay. Tests set both to 1 so
 * that tiny models exercise the native paths.
 */
export const nativeLimits = {
  /** multiply-adds of a product (2^17: about 10 µs of XNNPACK) */
  minProductMacs: 1 << 17,
  /** elements of an elementwise result or reduction input */
  minElements: 1 << 15,
};

/** Kernels run by onnxruntime so far: tests check that the native paths really ran. */
export const nativeCounters = { calls: 0 };
