/** How `.bdl` text writes a list of layer indices. */

/** A run of two or more consecutive layers as a range `a..b`, anything else as a list. */
export function layersText(layers: readonly number[]): string {
  const first = layers[0];
  const last = layers.at(-1);
  const consecutive = layers.every((l, i) => i === 0 || l === layers[i - 1]! + 1);
  if (first !== undefined && last !== undefined && layers.length > 1 && consecutive) return `${first}..${last}`;
  return `[${layers.join(", ")}]`;
}
