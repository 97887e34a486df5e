/**
 * How bdl writes a number: `String(n)`, except that numbers below 1e-3 use exponent form
 * (`1e-12`, `5e-4`), as people write epsilons; `String` would give `1e-12` but `0.0005`.
 * Printed models and messages about a model's values both use it, so that a value reads
 * the same everywhere.
 */
export function formatNumber(n: number): string {
  if (n !== 0 && Math.abs(n) < 1e-3) return n.toExponential();
  return String(n);
}
