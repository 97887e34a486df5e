import { describe, expect, it } from "vitest";
import type { MaskingConfig } from "../../../src/model/model.js";
import { buildExamples } from "../../../src/runtime/data/examples.js";
import {
  describeMasked,
  maskablePositions,
  maskExample,
  maskingRate,
  maskSeed,
  NOT_PREDICTED,
  predictionBudget,
  selectMaskedSpans,
  type MaskContext,
} from "../../../src/runtime/data/masking.js";
import { createRng, type Rng } from "../../../src/runtime/data/random.js";
import type { Example, MaskedExample } from "../../../src/runtime/data/types.js";
import { BatchOrder } from "../../../src/runtime/train/schedule-data.js";
import { SPECIAL, syntheticDocuments, toyTokenizer } from "./toy.js";

const VOCAB = 30522;
const special: Record<string, number> = { ...SPECIAL };
const SPECIAL_IDS = new Set(Object.values(special));

function config(over: Partial<MaskingConfig> = {}): MaskingConfig {
  return { rate: 0.15, mask: 0.8, random: 0.1, keep: 0.1, unit: { kind: "token" }, schedule: { kind: "dynamic" }, ...over };
}

function ctx(over: Partial<MaskContext> = {}): MaskContext {
  return { seed: 42, epoch: 0, index: 0, step: 0, vocab: VOCAB, special, ...over };
}

/** [CLS] A [SEP] B [SEP] of `length` tokens, words of 1–3 tokens with random non-special ids. */
function syntheticExample(rng: Rng, length: number): Example {
  const ids: number[] = [SPECIAL.cls];
  const words = [-1];
  const tokenTypes = [0];
  const middle = Math.floor(length / 2);
  let word = 0;
  while (ids.length < length - 1) {
    if (ids.length === middle) {
      ids.push(SPECIAL.sep);
      words.push(-1);
      tokenTypes.push(0);
      continue;
    }
    const pieces = Math.min(1 + rng.int(3), length - 1 - ids.length, ids.length < middle ? middle - ids.length : Infinity);
    for (let p = 0; p < pieces; p++) {
      ids.push(5 + rng.int(VOCAB - 5));
      words.push(word);
      tokenTypes.push(ids.length <= middle ? 0 : 1);
    }
    word++;
  }
  ids.push(SPECIAL.sep);
  words.push(-1);
  tokenTypes.push(1);
  return { ids, words, tokenTypes, sentenceLabel: rng.int(2) };
}

function corpus(count: number, length: number, seed = 1): Example[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => syntheticExample(rng, length));
}

const predicted = (m: MaskedExample) => m.labels.filter((l) => l !== NOT_PREDICTED).length;

describe("maskExample: what a selected token becomes", () => {
  const examples = corpus(1400, 512);
  const masked = examples.map((ex, index) => maskExample(ex, config(), ctx({ index })));

  it("80% [MASK], 10% random, 10% kept, within ±1.5% over ~100k predictions", () => {
    let mask = 0;
    let random = 0;
    let keep = 0;
    const wrong: string[] = []; // collected, not asserted per token: 700k expects are slow
    masked.forEach((m, e) => {
      m.labels.forEach((label, i) => {
        const original = examples[e]!.ids[i]!;
        const input = m.inputIds[i]!;
        if (label === NOT_PREDICTED) {
          if (input !== original) wrong.push(`${e}:${i} changed but not predicted`);
          return;
        }
        if (label !== original) wrong.push(`${e}:${i} label ${label} ≠ ${original}`);
        if (input === SPECIAL.mask) mask++;
        else if (input === label) keep++;
        else {
          random++;
          if (SPECIAL_IDS.has(input) || !(input >= 0 && input < VOCAB)) wrong.push(`${e}:${i} random id ${input}`);
        }
      });
    });
    expect(wrong).toEqual([]);
    const total = mask + random + keep;
    expect(total).toBeGreaterThan(100_000);
    expect(Math.abs(mask / total - 0.8)).toBeLessThan(0.015);
    expect(Math.abs(random / total - 0.1)).toBeLessThan(0.015);
    expect(Math.abs(keep / total - 0.1)).toBeLessThan(0.015);
  });

  it("other fractions are honoured too (mask 0.5, random 0.5, keep 0)", () => {
    let mask = 0;
    let random = 0;
    let total = 0;
    examples.slice(0, 300).forEach((ex, index) => {
      const m = maskExample(ex, config({ mask: 0.5, random: 0.5, keep: 0 }), ctx({ index }));
      m.labels.forEach((label, i) => {
        if (label === NOT_PREDICTED) return;
        total++;
        if (m.inputIds[i] === SPECIAL.mask) mask++;
        else if (m.inputIds[i] !== label) random++;
      });
    });
    expect(Math.abs(mask / total - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(random / total - 0.5)).toBeLessThan(0.02);
  });

  it("predicts exactly max(1, round(rate · maskable)) tokens per example with unit token", () => {
    masked.forEach((m, e) => {
      const maskable = maskablePositions(examples[e]!, special).length;
      expect(predicted(m)).toBe(Math.max(1, Math.round(0.15 * maskable)));
    });
  });

  it("never touches special tokens; keeps token types and the sentence label", () => {
    masked.forEach((m, e) => {
      const ex = examples[e]!;
      ex.ids.forEach((id, i) => {
        if (ex.words[i] === -1) {
          expect(m.labels[i]).toBe(NOT_PREDICTED);
          expect(m.inputIds[i]).toBe(id);
        }
      });
      expect(m.tokenTypes).toEqual(ex.tokenTypes);
      expect(m.sentenceLabel).toBe(ex.sentenceLabel);
    });
  });

  it("a special id inside the text (word ≥ 0) is not masked either, [UNK] is", () => {
    const ex: Example = { ids: [2, 4, 3, 1, 3], words: [-1, 0, -1, 1, -1], tokenTypes: [0, 0, 0, 1, 1] };
    for (let index = 0; index < 20; index++) {
      const m = maskExample(ex, config({ rate: 1 }), ctx({ index }));
      expect(m.labels).toEqual([NOT_PREDICTED, NOT_PREDICTED, NOT_PREDICTED, 1, NOT_PREDICTED]);
    }
  });

  it("predicts at least one token, and nothing in an example without maskable tokens", () => {
    const ex: Example = { ids: [2, 10, 11, 3], words: [-1, 0, 1, -1], tokenTypes: [0, 0, 0, 0] };
    expect(predicted(maskExample(ex, config({ rate: 0.01 }), ctx()))).toBe(1);
    const empty: Example = { ids: [2, 3], words: [-1, -1], tokenTypes: [0, 0] };
    expect(maskExample(empty, config(), ctx()).labels).toEqual([NOT_PREDICTED, NOT_PREDICTED]);
    expect(predictionBudget(0.15, 0)).toBe(0);
    expect(predictionBudget(0.15, 100)).toBe(15);
    expect(predictionBudget(0.15, 3)).toBe(1);
  });

  it("needs a mask id", () => {
    const { mask: _, ...noMask } = special;
    expect(() => maskExample(examples[0]!, config(), ctx({ special: noMask }))).toThrow(/mask/);
  });
});

describe("maskExample: units", () => {
  const examples = corpus(400, 512, 2);

  /** For every word: all its tokens predicted, or none. */
  function wholeWords(ex: Example, m: MaskedExample) {
    const state = new Map<number, boolean>();
    ex.words.forEach((w, i) => {
      if (w < 0) return;
      const p = m.labels[i] !== NOT_PREDICTED;
      if (state.has(w)) expect(state.get(w)).toBe(p);
      state.set(w, p);
    });
  }

  it("unit word masks whole words, never part of one; the predicted fraction ≈ rate", () => {
    let maskable = 0;
    let total = 0;
    examples.forEach((ex, index) => {
      const m = maskExample(ex, config({ unit: { kind: "word" } }), ctx({ index }));
      wholeWords(ex, m);
      const budget = predictionBudget(0.15, maskablePositions(ex, special).length);
      expect(predicted(m)).toBeLessThanOrEqual(budget);
      expect(predicted(m)).toBeGreaterThanOrEqual(budget - 2);
      maskable += maskablePositions(ex, special).length;
      total += predicted(m);
    });
    expect(Math.abs(total / maskable - 0.15)).toBeLessThan(0.005);
  });

  it("unit word on examples from the toy tokenizer (words of 1–3 tokens)", () => {
    const tok = toyTokenizer();
    const built = buildExamples(syntheticDocuments(40), (t) => tok.encode(t), { seq: 64, special, sentencePairs: "nsp", seed: 1 });
    built.forEach((ex, index) => {
      const m = maskExample(ex, config({ unit: { kind: "word" }, rate: 0.3 }), ctx({ index }));
      // the same surface word, all tokens or none
      const byWord = new Map<string, Set<boolean>>();
      ex.ids.forEach((id, i) => {
        const w = tok.wordOf(id);
        if (w === undefined) return;
        const s = byWord.get(w) ?? new Set<boolean>();
        s.add(m.labels[i] !== NOT_PREDICTED);
        byWord.set(w, s);
      });
      for (const s of byWord.values()) expect(s.size).toBe(1);
    });
  });

  it("unit ngram 3: spans of 1–3 adjacent whole words, never across a special token, p(n) ∝ 1/n", () => {
    const N = 3;
    const cfg = config({ unit: { kind: "ngram", n: N } });
    const counts = [0, 0, 0, 0];
    let maskable = 0;
    let total = 0;
    examples.forEach((ex, index) => {
      const c = ctx({ index });
      const spans = selectMaskedSpans(ex, cfg, c);
      const m = maskExample(ex, cfg, c);
      wholeWords(ex, m);
      // maskExample predicts exactly the selected spans
      expect(spans.flat().sort((a, b) => a - b)).toEqual(m.labels.flatMap((l, i) => (l === NOT_PREDICTED ? [] : [i])));
      const budget = predictionBudget(0.15, maskablePositions(ex, special).length);
      let used = 0;
      for (const span of spans) {
        // contiguous positions, no special inside
        span.forEach((p, k) => {
          if (k > 0) expect(p).toBe(span[k - 1]! + 1);
          expect(ex.words[p]).toBeGreaterThanOrEqual(0);
        });
        const n = new Set(span.map((p) => ex.words[p])).size;
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(N);
        // Spans drawn with room for any n-gram (3 words × 3 tokens) are not shortened to fit the budget.
        if (budget - used >= N * 3) counts[n]!++;
        used += span.length;
      }
      maskable += maskablePositions(ex, special).length;
      total += predicted(m);
    });
    expect(Math.abs(total / maskable - 0.15)).toBeLessThan(0.005);
    const observed = counts.slice(1);
    const spansSeen = observed.reduce((a, b) => a + b, 0);
    expect(spansSeen).toBeGreaterThan(5000);
    const h = 1 + 1 / 2 + 1 / 3;
    const expected = [1, 2, 3].map((n) => (spansSeen * (1 / n)) / h);
    const chi2 = observed.reduce((s, o, k) => s + (o - expected[k]!) ** 2 / expected[k]!, 0);
    expect(chi2).toBeLessThan(13.8); // 2 degrees of freedom, p = 0.001
  });
});

describe("maskExample: replay", () => {
  const examples = corpus(50, 256, 3);
  const sig = (m: MaskedExample) => JSON.stringify([m.inputIds, m.labels]);

  it("is pure: same arguments, same mask, whatever was computed before", () => {
    const cfg = config({ unit: { kind: "ngram", n: 3 } });
    const forward = examples.map((ex, index) => maskExample(ex, cfg, ctx({ index, epoch: 2 })));
    const again = examples.map((ex, index) => maskExample(ex, cfg, ctx({ index, epoch: 2 })));
    const backward = [...examples.keys()].reverse().map((index) => maskExample(examples[index]!, cfg, ctx({ index, epoch: 2 })));
    expect(again).toEqual(forward);
    expect(backward.reverse()).toEqual(forward);
    // the example itself is left alone
    expect(examples).toEqual(corpus(50, 256, 3));
  });

  it("static duplicates D: the mask at epoch e recurs at e + D and not at e + 1", () => {
    const D = 4;
    const cfg = config({ schedule: { kind: "static", duplicates: D }, unit: { kind: "word" } });
    examples.forEach((ex, index) => {
      const at = (epoch: number) => sig(maskExample(ex, cfg, ctx({ index, epoch })));
      for (const e of [0, 1, 3, 5]) {
        expect(at(e + D)).toBe(at(e));
        expect(at(e + 2 * D)).toBe(at(e));
        expect(at(e + 1)).not.toBe(at(e));
      }
      // D distinct masks per sequence
      expect(new Set([0, 1, 2, 3].map(at)).size).toBe(D);
    });
    // duplicates 1: one mask for ever
    const once = config({ schedule: { kind: "static", duplicates: 1 } });
    expect(sig(maskExample(examples[0]!, once, ctx({ epoch: 7 })))).toBe(sig(maskExample(examples[0]!, once, ctx({ epoch: 0 }))));
  });

  it("dynamic: a fresh mask every epoch", () => {
    const cfg = config();
    examples.forEach((ex, index) => {
      const masks = Array.from({ length: 8 }, (_, epoch) => sig(maskExample(ex, cfg, ctx({ index, epoch }))));
      expect(new Set(masks).size).toBe(8);
    });
  });

  it("different sequences and seeds get different masks", () => {
    const ex = examples[0]!;
    expect(sig(maskExample(ex, config(), ctx({ index: 1 })))).not.toBe(sig(maskExample(ex, config(), ctx({ index: 2 }))));
    expect(sig(maskExample(ex, config(), ctx({ seed: 1 })))).not.toBe(sig(maskExample(ex, config(), ctx({ seed: 2 }))));
    expect(maskSeed(config(), ctx({ epoch: 3 }))).not.toBe(maskSeed(config(), ctx({ epoch: 4 })));
  });

  it("the resumed run replays the same masks", () => {
    // Ten steps of batches of 8 over 50 examples (crossing epochs); the run stops after step 4
    // and a fresh process resumes at step 5 with nothing but (seed, step).
    const cfg = config({ rate: { from: 0.15, to: 0.3, steps: 10 }, unit: { kind: "ngram", n: 3 } });
    const seed = 9;
    const maskStep = (order: BatchOrder, step: number) =>
      order.slots(step).map(({ epoch, index }) => maskExample(examples[index]!, cfg, ctx({ seed, epoch, index, step })));
    const whole = new BatchOrder(examples.length, 8, seed);
    const uninterrupted = Array.from({ length: 10 }, (_, step) => maskStep(whole, step));
    const first = new BatchOrder(examples.length, 8, seed);
    const beforeStop = Array.from({ length: 5 }, (_, step) => maskStep(first, step));
    const resumed = new BatchOrder(examples.length, 8, seed);
    const afterResume = Array.from({ length: 5 }, (_, k) => maskStep(resumed, 5 + k));
    expect([...beforeStop, ...afterResume]).toEqual(uninterrupted);
  });
});

describe("masking rate schedule", () => {
  const ramp = { from: 0.15, to: 0.4, steps: 100_000 };

  it("a ramp moves linearly from `from` to `to` over `steps`, then stays", () => {
    expect(maskingRate(ramp, 0)).toBeCloseTo(0.15, 12);
    expect(maskingRate(ramp, 25_000)).toBeCloseTo(0.2125, 12);
    expect(maskingRate(ramp, 50_000)).toBeCloseTo(0.275, 12);
    expect(maskingRate(ramp, 100_000)).toBeCloseTo(0.4, 12);
    expect(maskingRate(ramp, 250_000)).toBeCloseTo(0.4, 12);
    expect(maskingRate(0.15, 123)).toBe(0.15);
    expect(maskingRate({ from: 0.1, to: 0.2, steps: 0 }, 0)).toBe(0.2);
  });

  it("the number of predictions follows the rate at the step", () => {
    const ex = corpus(1, 512, 4)[0]!;
    const maskable = maskablePositions(ex, special).length;
    for (const step of [0, 50_000, 100_000, 200_000]) {
      const m = maskExample(ex, config({ rate: ramp }), ctx({ step }));
      expect(predicted(m)).toBe(Math.round(maskingRate(ramp, step) * maskable));
    }
  });
});

describe("describeMasked", () => {
  const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "hat"];
  const idToToken = (id: number) => vocab[id] ?? `#${id}`;
  const m: MaskedExample = {
    inputIds: [2, 5, 4, 7, 8, 10, 3],
    labels: [-100, -100, 6, 7, -100, 9, -100],
    tokenTypes: [0, 0, 0, 0, 0, 0, 0],
  };

  it("renders [MASK], <orig→new> and {kept}", () => {
    expect(describeMasked(m, idToToken)).toBe("[CLS] the [MASK] {sat} on <mat→hat> [SEP]");
    expect(describeMasked(m, idToToken, 4)).toBe("[CLS] the [MASK] {sat} on <mat→hat> [SEP]");
  });

  it("renders a real masked example", () => {
    const ex = corpus(1, 40, 5)[0]!;
    const text = describeMasked(maskExample(ex, config({ rate: 0.5 }), ctx()), idToToken, SPECIAL.mask);
    expect(text.startsWith("[CLS] ")).toBe(true);
    expect(text.endsWith(" [SEP]")).toBe(true);
    expect(text).toContain("[MASK]");
    expect(text.split(" ")).toHaveLength(40);
  });
});
