import { describe, expect, it } from "vitest";
import { ChunkedArray, TokenStoreBuilder } from "../../../src/runtime/data/token-store.js";

describe("ChunkedArray", () => {
  it("keeps every value across chunk boundaries", () => {
    const a = new ChunkedArray((n) => new Uint32Array(n));
    const n = (1 << 20) * 2 + 5; // three chunks
    for (let i = 0; i < n; i++) a.push((i * 2654435761) >>> 0);
    expect(a.length).toBe(n);
    for (const i of [0, 1, (1 << 20) - 1, 1 << 20, (1 << 21) + 1, n - 1]) expect(a.get(i)).toBe((i * 2654435761) >>> 0);
    expect(a.bytes).toBe(3 * (1 << 20) * 4);
  });
});

describe("TokenStoreBuilder", () => {
  it("stores documents of sentences, dropping empty sentences and keeping empty documents", () => {
    const store = new TokenStoreBuilder(100);
    store.addDocument([
      { ids: [10, 11, 12], words: [0, 0, 1] },
      { ids: [], words: [] },
      { ids: [13], words: [0] },
    ]);
    store.addDocument([]);
    store.addDocument([{ ids: [14, 15, 16], words: [0, -1, 0] }]);
    expect(store.documents).toBe(3);
    expect(store.documentSentences(0)).toEqual({ first: 0, end: 2 });
    expect(store.documentSentences(1)).toEqual({ first: 2, end: 2 });
    expect(store.documentSentences(2)).toEqual({ first: 2, end: 3 });
    expect(store.sentenceTokens(1)).toEqual({ start: 3, end: 4 });
    expect([0, 1, 2, 3, 4, 5, 6].map((t) => store.id(t))).toEqual([10, 11, 12, 13, 14, 15, 16]);
    // A word begins at each sentence's first token, where the word index changes, and at a token from no word.
    expect([0, 1, 2, 3, 4, 5, 6].map((t) => store.startsWord(t))).toEqual([true, false, true, true, true, true, true]);
  });

  it("uses 16-bit ids while the vocabulary fits, 32-bit ones beyond", () => {
    const bytes = (vocab: number) => {
      const store = new TokenStoreBuilder(vocab);
      store.addDocument([{ ids: [vocab - 1], words: [0] }]);
      expect(store.id(0)).toBe(vocab - 1);
      return store.bytes;
    };
    expect(bytes(70_000) - bytes(30_522)).toBe((1 << 20) * 2);
  });

  it("refuses an id outside the vocabulary instead of wrapping it", () => {
    const store = new TokenStoreBuilder(30_522);
    expect(() => store.addDocument([{ ids: [65_536 + 5], words: [0] }])).toThrow("token id 65541 is outside the vocabulary of 30522");
    expect(() => store.addDocument([{ ids: [-1], words: [0] }])).toThrow(/outside the vocabulary/);
  });
});
