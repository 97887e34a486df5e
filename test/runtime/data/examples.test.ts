import { describe, expect, it } from "vitest";
import {
  buildExamples,
  examplesOf,
  firstExamples,
  sentencePairsFor,
  tokenizeDocuments,
  tokenizeSplit,
  type SentencePairs,
} from "../../../src/runtime/data/examples.js";
import type { Document, Example } from "../../../src/runtime/data/types.js";
import { SPECIAL, syntheticDocuments, toyTokenizer } from "./toy.js";

const { cls: CLS, sep: SEP } = SPECIAL;

/** Where every token id of a corpus sits: its document, its position in the document's token stream. */
function corpusIndex(docs: Document[], encode: (t: string) => { ids: number[] }) {
  const where = new Map<number, { doc: number; pos: number }>();
  const sentenceStarts: Set<number>[] = [];
  const streams: number[][] = [];
  docs.forEach((doc, d) => {
    const stream: number[] = [];
    const starts = new Set<number>();
    for (const s of doc.sentences) {
      starts.add(stream.length);
      for (const id of encode(s).ids) {
        where.set(id, { doc: d, pos: stream.length });
        stream.push(id);
      }
    }
    starts.add(stream.length); // the end of the document is a boundary too
    streams.push(stream);
    sentenceStarts.push(starts);
  });
  return { where, sentenceStarts, streams };
}

/** The two segments of a pair example: [CLS] A [SEP] B [SEP]. */
function segments(ex: Example): { a: number[]; b: number[] } {
  const first = ex.ids.indexOf(SEP);
  return { a: ex.ids.slice(1, first), b: ex.ids.slice(first + 1, -1) };
}

/** A contiguous run of one document's stream: its document and [start, end). */
function run(ids: number[], where: Map<number, { doc: number; pos: number }>) {
  const first = where.get(ids[0]!)!;
  ids.forEach((id, k) => {
    const w = where.get(id)!;
    expect(w.doc).toBe(first.doc);
    expect(w.pos).toBe(first.pos + k);
  });
  return { doc: first.doc, start: first.pos, end: first.pos + ids.length };
}

function build(docs: Document[], sentencePairs: SentencePairs, seq: number, seed = 7) {
  const tok = toyTokenizer();
  const index = corpusIndex(docs, (t) => tok.encode(t));
  const examples = buildExamples(docs, (t) => tok.encode(t), { seq, special: { ...SPECIAL }, sentencePairs, seed });
  return { tok, examples, ...index };
}

/** Shared checks: length, word indices (-1 exactly at specials; one index per corpus word, unique in the example). */
function checkWords(examples: Example[], seq: number, wordOf: (id: number) => string | undefined) {
  for (const ex of examples) {
    expect(ex.ids.length).toBeLessThanOrEqual(seq);
    expect(ex.words.length).toBe(ex.ids.length);
    expect(ex.tokenTypes.length).toBe(ex.ids.length);
    const wordToIndex = new Map<string, number>();
    const indexToWord = new Map<number, string>();
    ex.ids.forEach((id, i) => {
      const w = ex.words[i]!;
      if (id === CLS || id === SEP) return expect(w).toBe(-1);
      expect(w).toBeGreaterThanOrEqual(0);
      const word = wordOf(id)!;
      if (wordToIndex.has(word)) expect(wordToIndex.get(word)).toBe(w);
      if (indexToWord.has(w)) expect(indexToWord.get(w)).toBe(word);
      wordToIndex.set(word, w);
      indexToWord.set(w, word);
    });
  }
}

describe("buildExamples: NSP", () => {
  const seq = 64;
  const docs = syntheticDocuments(300);
  const { tok, examples, where, sentenceStarts } = build(docs, "nsp", seq);

  it("lays out [CLS] A [SEP] B [SEP] with segment ids 0 / 1, within seq", () => {
    expect(examples.length).toBeGreaterThan(500);
    for (const ex of examples) {
      expect(ex.ids[0]).toBe(CLS);
      expect(ex.ids.at(-1)).toBe(SEP);
      expect(ex.ids.filter((id) => id === SEP)).toHaveLength(2);
      const first = ex.ids.indexOf(SEP);
      expect(ex.tokenTypes).toEqual(ex.ids.map((_, i) => (i <= first ? 0 : 1)));
      const { a, b } = segments(ex);
      expect(a.length).toBeGreaterThan(0);
      expect(b.length).toBeGreaterThan(0);
      expect([0, 1]).toContain(ex.sentenceLabel);
    }
    // The target is seq − 3 tokens, so most pairs fill the sequence.
    const full = examples.filter((e) => e.ids.length === seq).length;
    expect(full / examples.length).toBeGreaterThan(0.5);
    checkWords(examples, seq, tok.wordOf);
  });

  it("labels are about half random, half actual next", () => {
    const random = examples.filter((e) => e.sentenceLabel === 1).length / examples.length;
    // The coin is 50/50, but BERT always takes a random B for a one-sentence chunk (often a
    // document's last sentence, put back after a random B): a little above one half, the
    // more so the shorter the documents (0.52–0.59 over these synthetic corpora).
    expect(random).toBeGreaterThan(0.47);
    expect(random).toBeLessThan(0.62);
  });

  it("label 0: A and B are consecutive text of one document (B right after A, up to truncation)", () => {
    const longest = Math.max(...docs.flatMap((d) => d.sentences.map((s) => tok.encode(s).ids.length)));
    let exact = 0;
    const zeros = examples.filter((e) => e.sentenceLabel === 0);
    for (const ex of zeros) {
      const { a, b } = segments(ex);
      const ra = run(a, where);
      const rb = run(b, where);
      expect(rb.doc).toBe(ra.doc);
      expect(rb.start).toBeGreaterThanOrEqual(ra.end);
      // Only truncation (less than one sentence's overshoot in all) separates them.
      expect(rb.start - ra.end).toBeLessThan(longest);
      if (rb.start === ra.end) {
        exact++;
        expect(sentenceStarts[ra.doc]!.has(ra.end)).toBe(true); // split at a sentence boundary
      }
    }
    expect(exact).toBeGreaterThan(zeros.length / 4);
  });

  it("label 1: B comes from another document", () => {
    for (const ex of examples.filter((e) => e.sentenceLabel === 1)) {
      const { a, b } = segments(ex);
      expect(run(b, where).doc).not.toBe(run(a, where).doc);
    }
  });

  it("without truncation, label 0 pairs are whole sentences, A then B", () => {
    const small = syntheticDocuments(60, { seed: 3, maxSentences: 6 });
    const r = build(small, "nsp", 512);
    const zeros = r.examples.filter((e) => e.sentenceLabel === 0);
    expect(zeros.length).toBeGreaterThan(15);
    for (const ex of zeros) {
      const { a, b } = segments(ex);
      const ra = run(a, r.where);
      const rb = run(b, r.where);
      expect(rb.doc).toBe(ra.doc);
      expect(rb.start).toBe(ra.end);
      // The chunk runs to the end of the document (from its start, or from where sentences
      // put back after a random B resume).
      expect(r.sentenceStarts[ra.doc]!.has(ra.start)).toBe(true);
      expect(rb.end).toBe(r.streams[ra.doc]!.length);
      expect(r.sentenceStarts[ra.doc]!.has(ra.end)).toBe(true);
    }
    // A random B starts at a sentence of its document.
    for (const ex of r.examples.filter((e) => e.sentenceLabel === 1)) {
      const rb = run(segments(ex).b, r.where);
      expect(r.sentenceStarts[rb.doc]!.has(rb.start)).toBe(true);
    }
  });

  it("a one-sentence document still becomes A with a random B", () => {
    const one: Document[] = [{ id: "x", sentences: ["alpha beta gamma"] }, ...syntheticDocuments(5)];
    const r = build(one, "nsp", 64);
    const fromX = r.examples.filter((e) => r.where.get(segments(e).a[0]!)!.doc === 0);
    expect(fromX).toHaveLength(1);
    expect(fromX[0]!.sentenceLabel).toBe(1);
  });

  it("is deterministic in (documents, seed)", () => {
    expect(build(docs, "nsp", seq).examples).toEqual(examples);
    expect(build(docs, "nsp", seq, 8).examples).not.toEqual(examples);
  });

  it("truncation keeps every pair within seq even for sentences longer than seq", () => {
    const long: Document[] = [
      { id: "l", sentences: [Array.from({ length: 80 }, (_, k) => `long${k}`).join(" "), "short one", "another short"] },
      ...syntheticDocuments(4),
    ];
    const r = build(long, "nsp", 32);
    for (const ex of r.examples) expect(ex.ids.length).toBeLessThanOrEqual(32);
    checkWords(r.examples, 32, r.tok.wordOf);
  });
});

describe("buildExamples: SOP", () => {
  const seq = 64;
  const docs = syntheticDocuments(300, { seed: 5 });
  const { tok, examples, where } = build(docs, "sop", seq);

  it("both segments come from one document; label 0 in order, label 1 swapped, about half each", () => {
    let swapped = 0;
    for (const ex of examples) {
      expect(ex.ids.length).toBeLessThanOrEqual(seq);
      const first = ex.ids.indexOf(SEP);
      expect(ex.tokenTypes).toEqual(ex.ids.map((_, i) => (i <= first ? 0 : 1)));
      const { a, b } = segments(ex);
      const ra = run(a, where);
      const rb = run(b, where);
      expect(rb.doc).toBe(ra.doc);
      if (ex.sentenceLabel === 0) expect(rb.start).toBeGreaterThanOrEqual(ra.end);
      else {
        expect(ex.sentenceLabel).toBe(1);
        expect(ra.start).toBeGreaterThanOrEqual(rb.end);
        swapped++;
      }
    }
    expect(swapped / examples.length).toBeGreaterThan(0.45);
    expect(swapped / examples.length).toBeLessThan(0.55);
    checkWords(examples, seq, tok.wordOf);
  });

  it("a one-sentence chunk is split at a word boundary", () => {
    const one: Document[] = [{ id: "x", sentences: ["alpha beta gamma delta"] }];
    const r = build(one, "sop", 64);
    expect(r.examples).toHaveLength(1);
    const ex = r.examples[0]!;
    const { a, b } = segments(ex);
    const words = (ids: number[]) => new Set(ids.map((id) => r.tok.wordOf(id)));
    for (const w of words(a)) expect(words(b).has(w)).toBe(false);
    expect(build([{ id: "y", sentences: ["alone"] }], "sop", 64).examples).toHaveLength(0);
  });
});

describe("buildExamples: full-sentence packing (no NSP/SOP)", () => {
  const seq = 48;
  const docs = syntheticDocuments(80, { seed: 11 });
  const { tok, examples, where, streams } = build(docs, null, seq);

  it("[CLS] … [SEP], types all 0, no sentence label, within seq and mostly full", () => {
    for (const ex of examples) {
      expect(ex.ids[0]).toBe(CLS);
      expect(ex.ids.at(-1)).toBe(SEP);
      expect(ex.ids[1]).not.toBe(SEP); // never opens with a document separator
      expect(ex.ids.at(-2)).not.toBe(SEP);
      expect(ex.tokenTypes.every((t) => t === 0)).toBe(true);
      expect(ex.sentenceLabel).toBeUndefined();
    }
    const mean = examples.reduce((n, e) => n + e.ids.length, 0) / examples.length;
    expect(mean).toBeGreaterThan(seq * 0.8);
    checkWords(examples, seq, tok.wordOf);
  });

  it("reads the corpus in order, whole sentences, with a separator exactly between documents", () => {
    const seen: number[] = [];
    for (const ex of examples) {
      const body = ex.ids.slice(1, -1);
      let prev: { doc: number; pos: number } | undefined;
      body.forEach((id, k) => {
        if (id === SEP) {
          // between the end of one document and the start of the next
          const before = where.get(body[k - 1]!)!;
          const after = where.get(body[k + 1]!)!;
          expect(before.pos).toBe(streams[before.doc]!.length - 1);
          expect(after.doc).toBe(before.doc + 1);
          expect(after.pos).toBe(0);
          prev = undefined;
          return;
        }
        const w = where.get(id)!;
        if (prev) expect(w).toEqual({ doc: prev.doc, pos: prev.pos + 1 }); // no document change without a separator
        prev = w;
        seen.push(id);
      });
    }
    expect(seen).toEqual(streams.flat());
    // Documents do get packed together.
    expect(examples.some((e) => e.ids.slice(1, -1).includes(SEP))).toBe(true);
  });

  it("cuts a sentence longer than seq − 2 into pieces", () => {
    const long: Document[] = [{ id: "l", sentences: [Array.from({ length: 60 }, (_, k) => `w${k}`).join(" ")] }];
    const r = build(long, null, 16);
    expect(r.examples.length).toBeGreaterThan(1);
    for (const ex of r.examples) expect(ex.ids.length).toBeLessThanOrEqual(16);
    expect(r.examples.flatMap((e) => e.ids.slice(1, -1))).toEqual(r.streams[0]);
  });

  it("uses the model's cls/sep ids (RoBERTa: <s> 0, </s> 2)", () => {
    const tok = toyTokenizer();
    const encode = (t: string) => {
      const e = tok.encode(t);
      return { ids: e.ids.map((id) => id + 100), words: e.words };
    };
    const special = { bos: 0, pad: 1, eos: 2, unk: 3, mask: 50264, cls: 0, sep: 2 };
    const ex = buildExamples(syntheticDocuments(3), encode, { seq: 40, special, sentencePairs: null, seed: 1 });
    for (const e of ex) {
      expect(e.ids[0]).toBe(0);
      expect(e.ids.at(-1)).toBe(2);
    }
    expect(ex.some((e) => e.ids.slice(1, -1).includes(2))).toBe(true);
  });
});

describe("sentencePairsFor", () => {
  const objectives = (...names: ("mlm" | "nsp" | "sop")[]) => ({ objectives: names.map((name) => ({ name, weight: 1 })) });
  it("nsp, sop or null; both is an error", () => {
    expect(sentencePairsFor(objectives("mlm", "nsp"))).toBe("nsp");
    expect(sentencePairsFor(objectives("mlm", "sop"))).toBe("sop");
    expect(sentencePairsFor(objectives("mlm"))).toBeNull();
    expect(() => sentencePairsFor(objectives("nsp", "sop"))).toThrow();
  });
});

describe("examplesOf", () => {
  it("builds each example on demand, equal to buildExamples, as a fresh copy", () => {
    const docs = syntheticDocuments(40, { seed: 11 });
    for (const sentencePairs of ["nsp", "sop", null] as const) {
      const tok = toyTokenizer();
      const encode = (t: string) => tok.encode(t);
      const opts = { seq: 24, special: { ...SPECIAL }, sentencePairs, seed: 3 };
      const eager = buildExamples(docs, encode, opts);
      const lazy = examplesOf(tokenizeDocuments(docs, encode, tok.size()), opts);
      expect(lazy.length).toBe(eager.length);
      expect(Array.from({ length: lazy.length }, (_, i) => lazy.get(i))).toEqual(eager);
      lazy.get(0).ids[1] = -7;
      expect(lazy.get(0)).toEqual(eager[0]);
      expect(() => lazy.get(lazy.length)).toThrow(RangeError);
    }
  });
});

describe("tokenizeSplit", () => {
  it("encodes each side of a split into its own store in one pass, as tokenizing each side alone does", () => {
    const docs = syntheticDocuments(30, { seed: 4 });
    const held = Uint8Array.from(docs, (_, i) => (i % 7 === 3 ? 1 : 0));
    const tok = toyTokenizer();
    const encode = (t: string) => tok.encode(t);
    const opts = { seq: 24, special: { ...SPECIAL }, sentencePairs: "nsp" as const, seed: 2 };
    const { train, heldOut } = tokenizeSplit(docs, held, encode, 2 ** 32);
    const side = (want: number) => docs.filter((_, i) => held[i] === want);
    expect(firstExamples(examplesOf(train, opts), Infinity)).toEqual(buildExamples(side(0), encode, opts));
    expect(firstExamples(examplesOf(heldOut, opts), Infinity)).toEqual(buildExamples(side(1), encode, opts));
    expect(heldOut.documents).toBe(side(1).length);
  });
});
