import { describe, expect, it } from "vitest";
import { createRng, mulberry32, randomInt, seedFrom, shuffle } from "../../../src/runtime/data/random.js";

describe("seedFrom", () => {
  it("is a deterministic 32-bit hash of its parts, order and type sensitive", () => {
    expect(seedFrom(1, "mask", 2, 3)).toBe(seedFrom(1, "mask", 2, 3));
    const s = seedFrom(1, "mask", 2, 3);
    expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
    expect(seedFrom(1, 2)).not.toBe(seedFrom(2, 1));
    expect(seedFrom(1)).not.toBe(seedFrom("1"));
    expect(seedFrom("ab", "c")).not.toBe(seedFrom("a", "bc"));
    expect(seedFrom(0)).not.toBe(seedFrom(0, 0));
  });

  it("spreads nearby inputs (no collisions over 100k consecutive indices)", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) seen.add(seedFrom(7, "mask", 0, i));
    expect(seen.size).toBe(100_000);
  });
});

describe("createRng", () => {
  it("replays from its seed; floats in [0, 1), roughly uniform", () => {
    const a = createRng(123);
    const b = createRng(123);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    const buckets = new Array<number>(10).fill(0);
    for (const x of xs) buckets[Math.floor(x * 10)]!++;
    for (const n of buckets) expect(Math.abs(n - 1000)).toBeLessThan(120);
    expect(createRng(124)()).not.toBe(createRng(123)());
    expect(mulberry32(123)()).toBe(xs[0]);
  });

  it("int(n) covers [0, n)", () => {
    const rng = createRng(5);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const k = rng.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
      seen.add(k);
    }
    expect(seen.size).toBe(7);
    expect(() => randomInt(rng, 0)).toThrow();
  });
});

describe("shuffle", () => {
  it("permutes in place, deterministically", () => {
    const a = Array.from({ length: 100 }, (_, i) => i);
    const out = shuffle(a, createRng(1));
    expect(out).toBe(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(
      shuffle(
        Array.from({ length: 100 }, (_, i) => i),
        createRng(1),
      ),
    ).toEqual(a);
    expect(
      shuffle(
        Array.from({ length: 100 }, (_, i) => i),
        createRng(2),
      ),
    ).not.toEqual(a);
  });

  it("every position is equally likely (Fisher–Yates, not a biased swap)", () => {
    const counts = Array.from({ length: 4 }, () => new Array<number>(4).fill(0));
    const rng = createRng(3);
    for (let t = 0; t < 40_000; t++) shuffle([0, 1, 2, 3], rng).forEach((v, i) => counts[v]![i]!++);
    for (const row of counts) for (const n of row) expect(Math.abs(n - 10_000)).toBeLessThan(400);
  });
});
