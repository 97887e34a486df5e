import { describe, expect, it } from "vitest";
import { trainMerges } from "../../../src/runtime/tokenizers/train-merges.js";
import { digamma, trainUnigram } from "../../../src/runtime/tokenizers/train-unigram.js";

describe("merge training (BPE, WordPiece)", () => {
  // Sennrich et al.'s example corpus.
  const words = () =>
    new Map([
      ["low", 5],
      ["lower", 2],
      ["newest", 6],
      ["widest", 3],
    ]);

  it("merges the most frequent pair first, ties by left then right token in code unit order", () => {
    const { tokens, merges, alphabetSize } = trainMerges(words(), { target: 15, prefix: "" });
    expect(tokens.slice(0, alphabetSize)).toEqual(["d", "e", "i", "l", "n", "o", "r", "s", "t", "w"]);
    // e s and s t both occur 9 times: "e" < "s"; l o and o w 7 times: "l" < "o".
    expect(merges.slice(0, 5)).toEqual([
      ["e", "s"],
      ["es", "t"],
      ["l", "o"],
      ["lo", "w"],
      ["e", "w"],
    ]);
    expect(tokens.slice(alphabetSize)).toEqual(["es", "est", "lo", "low", "ew"]);
  });

  it("uses a continuation prefix for WordPiece and strips it when merging", () => {
    const { tokens, merges } = trainMerges(
      new Map([
        ["low", 5],
        ["lower", 2],
      ]),
      { target: 12, prefix: "##" },
    );
    // Characters, then continuation forms of the characters that occur inside words.
    expect(tokens.slice(0, 9)).toEqual(["e", "l", "o", "r", "w", "##e", "##o", "##r", "##w"]);
    // "##o ##w" and "l ##o" both occur 7 times; "#" sorts before "l".
    expect(merges.slice(0, 2)).toEqual([
      ["##o", "##w"],
      ["l", "##ow"],
    ]);
    expect(tokens).toContain("low");
  });

  it("stops when every word is one symbol", () => {
    const { tokens, merges } = trainMerges(new Map([["ab", 3]]), { target: 100, prefix: "" });
    expect(tokens).toEqual(["a", "b", "ab"]);
    expect(merges).toEqual([["a", "b"]]);
  });

  it("does not learn reserved strings but still merges into them", () => {
    const { tokens, merges } = trainMerges(
      new Map([
        ["ab", 3],
        ["abc", 1],
      ]),
      { target: 5, prefix: "", reserved: new Set(["ab"]) },
    );
    expect(tokens).toEqual(["a", "b", "c", "abc"]);
    expect(merges).toEqual([
      ["a", "b"],
      ["ab", "c"],
    ]);
  });
});

describe("unigram training", () => {
  it("computes digamma", () => {
    expect(digamma(1)).toBeCloseTo(-0.5772156649015329, 9);
    expect(digamma(0.5)).toBeCloseTo(-1.9635100260214235, 9);
    expect(digamma(10)).toBeCloseTo(2.251752589066721, 9);
  });

  it("keeps every character, learns frequent words, and ranks pieces by log probability", () => {
    const words = new Map([
      ["\u2581the", 50],
      ["\u2581then", 10],
      ["\u2581there", 10],
      ["\u2581cat", 20],
      ["\u2581cats", 5],
      ["\u2581hat", 8],
    ]);
    const { pieces, scores, characters } = trainUnigram(words, 14);
    expect(pieces).toHaveLength(14);
    expect(characters).toBe(9);
    for (const ch of "\u2581thecanrs") expect(pieces).toContain(ch);
    expect(pieces.slice(0, 2)).toEqual(["\u2581the", "\u2581cat"]);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    for (const s of scores) expect(Number.isFinite(s) && s < 0).toBe(true);
    expect(trainUnigram(words, 14)).toEqual(trainUnigram(new Map([...words].reverse()), 14));
  });

  it("reports what a small corpus can give", () => {
    const result = trainUnigram(new Map([["\u2581ab", 1]]), 10);
    expect(result.pieces).toEqual([]);
    expect(result.characters).toBe(3);
    expect(result.seeds).toBe(3);
  });
});
