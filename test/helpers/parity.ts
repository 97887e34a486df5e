/** What the parity tests share: the golden tolerances, and comparing nested outputs and gradient norms. */
import { expect } from "vitest";

/**
 * Tolerances against the goldens, the same on every backend and engine here: all compute in
 * float32, and what differs between them (summation order of products and reductions,
 * erf/exp approximations) stays two orders of magnitude inside these bounds.
 */
export const OUTPUT_ABS = 1e-4;
export const LOSS_REL = 2e-4;
export const GRAD_NORM_REL = 1e-3;

export type Nested = number | Nested[];

/** Largest |a − b| over two nested arrays of the same shape. */
export function maxAbsDiff(a: Nested, b: Nested): number {
  if (typeof a === "number" || typeof b === "number") {
    if (typeof a !== "number" || typeof b !== "number") throw new Error("shape mismatch");
    return Math.abs(a - b);
  }
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  return a.reduce<number>((m, x, i) => Math.max(m, maxAbsDiff(x, b[i]!)), 0);
}

export function relative(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
}

/**
 * Gradient norms agree to `tolerance` relative. A norm that is zero in exact arithmetic — the
 * attention key bias, since softmax ignores a shift shared by all keys of a query — is
 * rounding noise in both implementations (~3e-8 in the goldens), so below 1e-6 the
 * comparison is absolute.
 */
export function expectGradNormClose(ours: number, theirs: number, name: string, tolerance = GRAD_NORM_REL): void {
  if (Math.abs(theirs) < 1e-6) expect(Math.abs(ours), name).toBeLessThan(1e-6);
  else expect(relative(ours, theirs), name).toBeLessThan(tolerance);
}
