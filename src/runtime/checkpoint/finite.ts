/**
 * Weights must be finite numbers. A NaN or an infinity in a loaded tensor would flow through
 * every forward pass (`run` printing `null`, `eval` printing NaN) without saying where it came
 * from, so loading refuses it and names the tensor and the first bad position.
 */

/** Why `values` is not all finite ("NaN at index 7 of 64"), or null when it is. */
export function nonFiniteProblem(values: Float32Array): string | null {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // v − v is 0 for every finite v, NaN for NaN and ±Infinity: one test for both.
    if (v - v !== 0) return `${Number.isNaN(v) ? "NaN" : v > 0 ? "+Infinity" : "-Infinity"} at index ${i} of ${values.length}`;
  }
  return null;
}
