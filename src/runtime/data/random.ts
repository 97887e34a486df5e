/**
 * Seeded randomness for the data pipeline. Nothing here reads Math.random: every draw is a
 * function of a 32-bit seed, and seeds are hashed from the things a draw depends on
 * (e.g. `seedFrom(seed, "mask", epoch, index)`), so any stage can be replayed exactly.
 */

/** A uniform generator: `rng()` and `rng.next()` return a float in [0, 1); `rng.int(n)` an integer in [0, n). */
export interface Rng {
  (): number;
  next(): number;
  int(n: number): number;
}

/** mulberry32: a small, fast 32-bit generator (period 2^32), plenty for shuffling and masking. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded generator (mulberry32) with `next` and `int` helpers. */
export function createRng(seed: number): Rng {
  const next = mulberry32(seed);
  const rng = (() => next()) as Rng;
  rng.next = next;
  rng.int = (n: number) => randomInt(next, n);
  return rng;
}

/** An integer in [0, n), n ≥ 1. */
export function randomInt(rng: () => number, n: number): number {
  if (!(n >= 1)) throw new RangeError(`randomInt needs n >= 1, got ${n}`);
  return Math.min(n - 1, Math.floor(rng() * n));
}

/** murmur3's 32-bit finaliser: full avalanche, so nearby inputs give unrelated seeds. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hash parts into a 32-bit seed (FNV-1a over a typed, separated encoding, then fmix32).
 * Order matters, and `1` and `"1"` are different parts.
 */
export function seedFrom(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  const byte = (b: number) => {
    h ^= b & 0xff;
    h = Math.imul(h, 0x01000193);
  };
  for (const part of parts) {
    const text = typeof part === "number" ? `n${String(part)}` : `s${part}`;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      byte(c);
      byte(c >>> 8);
    }
    byte(0xff); // separator: ("ab", "c") ≠ ("a", "bc")
  }
  return fmix32(h);
}

/** Fisher–Yates shuffle, in place; returns the same array. */
export function shuffle<T>(array: T[], rng: () => number): T[] {
  for (let i = array.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = array[i]!;
    array[i] = array[j]!;
    array[j] = t;
  }
  return array;
}
