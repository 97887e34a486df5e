import { describe, expect, it } from "vitest";
import type { MaskingConfig } from "../../../src/model/model.js";
import {
  maskablePositions,
  maskExample,
  NOT_PREDICTED,
  predictionBudget,
  sampleSpanLength,
  selectMaskedSpans,
  spanLengthProbabilities,
  type MaskContext,
} from "../../../src/runtime/data/masking.js";
import { createRng, type Rng } from "../../../src/runtime/data/random.js";
import type { Example, MaskedExample } from "../../../src/runtime/data/types.js";
import { BatchOrder } from "../../../src/runtime/train/schedule-data.js";
import { SPECIAL } from "./toy.js";

const VOCAB = 30522;
const special: Record<string, number> = { ...SPECIAL };
const MAX_WORD_TOKENS = 3;

function config(over: Partial<MaskingConfig> = {}): MaskingConfig {
  return {
    rate: 0.15,
    mask: 0.8,
    random: 0.1,
    keep: 0.1,
    unit: { kind: "span", p: 0.2, max: 10 },
    schedule: { kind: "dynamic" },
    ...over,
  };
}

function ctx(over: Partial<MaskContext> = {}): MaskContext {
  return { seed: 42, epoch: 0, index: 0, step: 0, vocab: VOCAB, special, ...over };
}

/** [CLS] A [SEP] B [SEP] of `length` tokens, words of 1–3 tokens with random non-special ids. */
function syntheticExample(rng: Rng, length: number): Example {
  const ids: number[] = [SPECIAL.cls];
  const words = [-1];
  const middle = Math.floor(length / 2);
  let word = 0;
  while (ids.length < length - 1) {
    if (ids.length === middle) {
      ids.push(SPECIAL.sep);
      words.push(-1);
      continue;
    }
    const pieces = Math.min(1 + rng.int(MAX_WORD_TOKENS), length - 1 - ids.length, ids.length < middle ? middle - ids.length : Infinity);
    for (let p = 0; p < pieces; p++) {
      ids.push(5 + rng.int(VOCAB - 5));
      words.push(word);
    }
    word++;
  }
  ids.push(SPECIAL.sep);
  words.push(-1);
  return { ids, words, tokenTypes: ids.map((_, i) => (i <= middle ? 0 : 1)) };
}

function corpus(count: number, length: number, seed = 1): Example[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => syntheticExample(rng, length));
}

const predicted = (m: MaskedExample) => m.labels.filter((l) => l !== NOT_PREDICTED).length;
const sig = (m: MaskedExample) => JSON.stringify([m.inputIds, m.labels]);

/** Mean of Geo(p) truncated to 1..max and renormalized, in closed form. */
function truncatedGeometricMean(p: number, max: number): number {
  const q = 1 - p;
  return (1 - (max + 1) * q ** max + max * q ** (max + 1)) / (p * (1 - q ** max));
}

describe("span lengths: Geo(p) truncated to 1..max", () => {
  it("SpanBERT's p 0.2, max 10 has mean ≈ 3.8", () => {
    expect(truncatedGeometricMean(0.2, 10)).toBeCloseTo(3.797, 3);
    const probabilities = spanLengthProbabilities(0.2, 10);
    expect(probabilities).toHaveLength(10);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(probabilities.reduce((a, pr, i) => a + (i + 1) * pr, 0)).toBeCloseTo(truncatedGeometricMean(0.2, 10), 12);
  });

  for (const [p, max] of [
    [0.2, 10],
    [0.5, 4],
    [0.05, 20],
  ] as const) {
    it(`p ${p}, max ${max}: the empirical mean and frequencies match over 200k draws`, () => {
      const rng = createRng(7);
      const counts = new Array<number>(max + 1).fill(0);
      const draws = 200_000;
      let sum = 0;
      for (let i = 0; i < draws; i++) {
        const l = sampleSpanLength(rng, p, max);
        expect(l >= 1 && l <= max && Number.isInteger(l)).toBe(true);
        counts[l]!++;
        sum += l;
      }
      // The standard error of the mean is below 0.015 for these; clipping without renormalizing,
      // or an off-by-one in the length, moves the mean by far more than 0.05.
      expect(Math.abs(sum / draws - truncatedGeometricMean(p, max))).toBeLessThan(0.05);
      const probabilities = spanLengthProbabilities(p, max);
      for (let l = 1; l <= max; l++) expect(Math.abs(counts[l]! / draws - probabilities[l - 1]!)).toBeLessThan(0.005);
    });
  }

  it("p 1 or max 1: every span is one word", () => {
    const rng = createRng(3);
    for (let i = 0; i < 1000; i++) {
      expect(sampleSpanLength(rng, 1, 10)).toBe(1);
      expect(sampleSpanLength(rng, 0.2, 1)).toBe(1);
    }
  });
});

describe("maskExample: unit span", () => {
  const examples = corpus(300, 256);

  it("spans are runs of whole, adjacent words, at most max words, never across a special token", () => {
    for (const max of [10, 3]) {
      const cfg = config({ unit: { kind: "span", p: 0.2, max } });
      examples.forEach((ex, index) => {
        const maskable = new Set(maskablePositions(ex, special));
        const spans = selectMaskedSpans(ex, cfg, ctx({ index }));
        const seen = new Set<number>();
        for (const span of spans) {
          expect(span.length).toBeGreaterThan(0);
          for (let k = 0; k < span.length; k++) {
            const pos = span[k]!;
            expect(maskable.has(pos)).toBe(true);
            expect(seen.has(pos)).toBe(false); // spans never overlap
            seen.add(pos);
            if (k > 0) expect(pos).toBe(span[k - 1]! + 1); // contiguous: no special token inside
          }
          const words = [...new Set(span.map((pos) => ex.words[pos]!))];
          expect(words.length).toBeLessThanOrEqual(max);
          // Whole words: every token of each touched word is in the span.
          for (const w of words) for (let i = 0; i < ex.ids.length; i++) if (ex.words[i] === w) expect(span).toContain(i);
        }
      });
    }
  });

  it("meets the budget: never over, and short only by less than one word", () => {
    let masked = 0;
    let maskable = 0;
    examples.forEach((ex, index) => {
      const m = maskExample(ex, config(), ctx({ index }));
      const n = maskablePositions(ex, special).length;
      const budget = predictionBudget(0.15, n);
      expect(predicted(m)).toBeLessThanOrEqual(budget);
      expect(budget - predicted(m)).toBeLessThan(MAX_WORD_TOKENS);
      masked += predicted(m);
      maskable += n;
    });
    expect(Math.abs(masked / maskable - 0.15)).toBeLessThan(0.005);
  });

  it("masks longer runs than whole-word masking does", () => {
    const wordsPerSpan = (unit: MaskingConfig["unit"]) => {
      let spans = 0;
      let words = 0;
      examples.forEach((ex, index) => {
        for (const span of selectMaskedSpans(ex, config({ unit }), ctx({ index }))) {
          spans++;
          words += new Set(span.map((pos) => ex.words[pos]!)).size;
        }
      });
      return words / spans;
    };
    // Spans are cut short by the budget, neighbours and sentence ends, so below 3.8, but well above 1.
    expect(wordsPerSpan({ kind: "span", p: 0.2, max: 10 })).toBeGreaterThan(2.5);
    expect(wordsPerSpan({ kind: "span", p: 1, max: 10 })).toBe(1);
  });

  it("replaces per span: all of a span's tokens get [MASK], all a random id, or all stay", () => {
    const tally = { mask: 0, random: 0, keep: 0 };
    examples.forEach((ex, index) => {
      const m = maskExample(ex, config(), ctx({ index }));
      for (const span of selectMaskedSpans(ex, config(), ctx({ index }))) {
        const kinds = new Set(
          span.map((pos) => {
            expect(m.labels[pos]).toBe(ex.ids[pos]);
            const input = m.inputIds[pos]!;
            return input === SPECIAL.mask ? "mask" : input === ex.ids[pos] ? "keep" : "random";
          }),
        );
        expect(kinds.size).toBe(1);
        tally[[...kinds][0] as keyof typeof tally]++;
      }
    });
    const spans = tally.mask + tally.random + tally.keep;
    expect(spans).toBeGreaterThan(1500);
    expect(Math.abs(tally.mask / spans - 0.8)).toBeLessThan(0.03);
    expect(Math.abs(tally.random / spans - 0.1)).toBeLessThan(0.03);
    expect(Math.abs(tally.keep / spans - 0.1)).toBeLessThan(0.03);
  });

  it("is a pure function of (seed, epoch, index): the same again, different across indexes and seeds", () => {
    const forward = examples.map((ex, index) => sig(maskExample(ex, config(), ctx({ index, epoch: 2 }))));
    const backward = [...examples.keys()].reverse().map((index) => sig(maskExample(examples[index]!, config(), ctx({ index, epoch: 2 }))));
    expect(backward.reverse()).toEqual(forward);
    const ex = examples[0]!;
    expect(sig(maskExample(ex, config(), ctx({ index: 1 })))).not.toBe(sig(maskExample(ex, config(), ctx({ index: 2 }))));
    expect(sig(maskExample(ex, config(), ctx({ seed: 1 })))).not.toBe(sig(maskExample(ex, config(), ctx({ seed: 2 }))));
  });

  it("composes with the schedules: dynamic is fresh every epoch, static duplicates D recur with period D", () => {
    examples.slice(0, 30).forEach((ex, index) => {
      const dynamic = Array.from({ length: 8 }, (_, epoch) => sig(maskExample(ex, config(), ctx({ index, epoch }))));
      expect(new Set(dynamic).size).toBe(8);
      const cfg = config({ schedule: { kind: "static", duplicates: 3 } });
      const at = (epoch: number) => sig(maskExample(ex, cfg, ctx({ index, epoch })));
      expect(at(4)).toBe(at(1));
      expect(new Set([0, 1, 2].map(at)).size).toBe(3);
    });
  });

  it("composes with a rate ramp: the budget follows the step's rate", () => {
    const cfg = config({ rate: { from: 0.1, to: 0.4, steps: 100 } });
    examples.slice(0, 30).forEach((ex, index) => {
      const n = maskablePositions(ex, special).length;
      for (const [step, rate] of [
        [0, 0.1],
        [50, 0.25],
        [200, 0.4],
      ] as const) {
        const got = predicted(maskExample(ex, cfg, ctx({ index, step })));
        const budget = predictionBudget(rate, n);
        expect(got).toBeLessThanOrEqual(budget);
        expect(budget - got).toBeLessThan(MAX_WORD_TOKENS);
      }
    });
  });

  it("a resumed run replays the span masks of an uninterrupted one", () => {
    const few = examples.slice(0, 50);
    const cfg = config({ rate: { from: 0.15, to: 0.3, steps: 10 } });
    const seed = 9;
    const maskStep = (order: BatchOrder, step: number) =>
      order.slots(step).map(({ epoch, index }) => maskExample(few[index]!, cfg, ctx({ seed, epoch, index, step })));
    const whole = new BatchOrder(few.length, 8, seed);
    const uninterrupted = Array.from({ length: 10 }, (_, step) => maskStep(whole, step));
    const first = new BatchOrder(few.length, 8, seed);
    const beforeStop = Array.from({ length: 5 }, (_, step) => maskStep(first, step));
    const resumed = new BatchOrder(few.length, 8, seed);
    const afterResume = Array.from({ length: 5 }, (_, k) => maskStep(resumed, 5 + k));
    expect([...beforeStop, ...afterResume]).toEqual(uninterrupted);
  });
});
