import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as HfLibTokenizer } from "@huggingface/tokenizers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenizerKind } from "../../../src/model/model.js";
import {
  loadTokenizer,
  saveTokenizer,
  toTokenizerJson,
  trainTokenizer,
  TokenizerTrainingError,
  type HfTokenizer,
} from "../../../src/runtime/tokenizers/index.js";
import { heldOutGlosses, trainingGlosses, TRICKY } from "./glosses.js";

const VOCAB = 2000;

interface Family {
  kind: TokenizerKind;
  lowercase: boolean;
  special: Record<string, number>;
  /** Surface form expected at each special id. */
  surfaces: Record<number, string>;
}

const FAMILIES: Family[] = [
  {
    kind: "wordpiece",
    lowercase: true,
    special: { pad: 0, unk: 100, cls: 101, sep: 102, mask: 103 },
    surfaces: { 0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]" },
  },
  {
    kind: "bpe",
    lowercase: false,
    special: { bos: 0, pad: 1, eos: 2, unk: 3, mask: VOCAB - 1, cls: 0, sep: 2 },
    surfaces: { 0: "<s>", 1: "<pad>", 2: "</s>", 3: "<unk>", [VOCAB - 1]: "<mask>" },
  },
  {
    kind: "sentencepiece",
    lowercase: true,
    special: { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 },
    surfaces: { 0: "[PAD]", 1: "[UNK]", 2: "[CLS]", 3: "[SEP]", 4: "[MASK]" },
  },
];

/** The reference library's encoding of `text`, from our tokenizer.json. */
function libFor(t: HfTokenizer): HfLibTokenizer {
  return new HfLibTokenizer(toTokenizerJson(t) as object, {});
}

/** GPT-2's pre-tokenization pattern (what ByteLevel splits words with). */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bdl-tokenizers-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(FAMILIES)("$kind", (family) => {
  const { kind, lowercase, special } = family;
  let tok: HfTokenizer;
  beforeAll(() => {
    tok = trainTokenizer(kind, trainingGlosses(), { vocabSize: VOCAB, lowercase, special });
  });

  it("puts the special tokens at the declared ids and fills every other id once", () => {
    expect(tok.kind).toBe(kind);
    expect(tok.vocabSize).toBe(VOCAB);
    expect(tok.special).toEqual(special);
    for (const [id, surface] of Object.entries(family.surfaces)) {
      expect(tok.idToToken(Number(id))).toBe(surface);
      expect(tok.tokenToId(surface)).toBe(Number(id));
    }
    const tokens = new Set<string>();
    for (let id = 0; id < VOCAB; id++) tokens.add(tok.idToToken(id));
    expect(tokens.size).toBe(VOCAB);
    expect(() => tok.idToToken(VOCAB)).toThrow(RangeError);

    const json = toTokenizerJson(tok) as { added_tokens: { id: number; content: string; special: boolean }[]; model: { type: string } };
    expect(json.added_tokens.map((t) => [t.id, t.content, t.special])).toEqual(
      Object.entries(family.surfaces).map(([id, surface]) => [Number(id), surface, true]),
    );
    expect(json.model.type).toBe({ wordpiece: "WordPiece", bpe: "BPE", sentencepiece: "Unigram" }[kind]);
  });

  it("is deterministic: the same corpus gives the same tokenizer.json", () => {
    const again = trainTokenizer(kind, trainingGlosses(), { vocabSize: VOCAB, lowercase, special });
    expect(JSON.stringify(again.toJSON())).toBe(JSON.stringify(tok.toJSON()));
  });

  it("encodes held-out text to the ids @huggingface/tokenizers gives for the saved tokenizer.json", () => {
    const lib = libFor(tok);
    const texts = [...heldOutGlosses(), ...TRICKY];
    const cls = special.cls!;
    const sep = special.sep!;
    let tokens = 0;
    for (const text of texts) {
      const ours = tok.encode(text).ids;
      expect(ours, JSON.stringify(text)).toEqual(lib.encode(text, { add_special_tokens: false }).ids);
      expect(lib.encode(text).ids).toEqual([cls, ...ours, sep]);
      tokens += ours.length;
    }
    expect(tokens).toBeGreaterThan(5000);
  });

  it("decodes what it encodes", () => {
    let checked = 0;
    for (const text of heldOutGlosses()) {
      const { ids } = tok.encode(text);
      if (ids.includes(special.unk!)) continue;
      const decoded = tok.decode(ids);
      if (kind === "bpe") expect(decoded).toBe(text);
      // WordPiece spaces punctuation apart ("( 1551 - 1589 )"); compare without whitespace.
      else if (kind === "wordpiece") expect(decoded.replace(/\s+/g, "")).toBe(tok.normalize(text).replace(/\s+/g, ""));
      else expect(decoded).toBe(tok.normalize(text));
      checked++;
    }
    expect(checked).toBeGreaterThan(250);
    expect(tok.decode([])).toBe("");
    expect(() => tok.decode([VOCAB])).toThrow(RangeError);
  });

  it("gives every token the index of the word it came from", () => {
    for (const text of heldOutGlosses()) {
      const { ids, words } = tok.encode(text);
      expect(words).toHaveLength(ids.length);
      const tokens = ids.map((id) => tok.idToToken(id));
      expect(words[0]).toBe(0);
      for (let i = 1; i < ids.length; i++) {
        const step = words[i]! - words[i - 1]!;
        expect(step === 0 || step === 1).toBe(true);
        // Continuation pieces stay in their word; word-initial pieces start a new one.
        if (kind === "wordpiece") expect(step === 0).toBe(tokens[i]!.startsWith("##"));
        if (kind === "sentencepiece") expect(step === 1).toBe(tokens[i]!.startsWith("\u2581"));
        if (kind === "bpe" && tokens[i]!.startsWith("\u0120")) expect(step).toBe(1);
      }
      if (kind === "bpe") expect(words.at(-1)! + 1).toBe(text.match(GPT2_SPLIT)!.length);
    }
  });

  it("treats special tokens written in the text as those tokens, each its own word", () => {
    const mask = family.surfaces[special.mask!]!;
    const { ids, words } = tok.encode(`the ${mask} sat`);
    const at = ids.indexOf(special.mask!);
    expect(at).toBeGreaterThan(0);
    expect(words[at]).toBe(words[at - 1]! + 1);
    expect(words[at + 1]).toBe(words[at]! + 1);
  });

  it("saves tokenizer.json atomically and loads it back unchanged", () => {
    const path = join(dir, kind, "tokenizer.json");
    saveTokenizer(tok, path);
    expect(readdirSync(join(dir, kind))).toEqual(["tokenizer.json"]);
    const loaded = loadTokenizer(path);
    expect(loaded.kind).toBe(kind);
    expect(loaded.lowercase).toBe(lowercase);
    expect(loaded.vocabSize).toBe(VOCAB);
    expect(loaded.special).toEqual(special);
    expect(JSON.stringify(loaded.toJSON())).toBe(JSON.stringify(tok.toJSON()));
    for (const text of [...heldOutGlosses().slice(0, 50), ...TRICKY]) expect(loaded.encode(text)).toEqual(tok.encode(text));
    const first = readFileSync(path, "utf8");
    saveTokenizer(loaded, path);
    expect(readFileSync(path, "utf8")).toBe(first);
    expect(JSON.stringify(loadTokenizer(path).toJSON())).toBe(JSON.stringify(tok.toJSON()));
  });

  it("reports a vocab the corpus cannot fill, with the counts", () => {
    const small = trainingGlosses().slice(0, 200);
    let error: unknown;
    try {
      trainTokenizer(kind, small, { vocabSize: 100_000, lowercase, special });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TokenizerTrainingError);
    const m = /^the corpus yields only (\d+) distinct tokens; vocab 100000 needs (\d+) more — use a smaller vocab or a larger corpus$/.exec(
      (error as Error).message,
    );
    expect(m, (error as Error).message).not.toBeNull();
    expect(Number(m![1]) + Number(m![2])).toBe(100_000);
  });

  it("rejects a special id outside the vocab", () => {
    expect(() => trainTokenizer(kind, ["a b c"], { vocabSize: VOCAB, lowercase, special: { ...special, mask: VOCAB } })).toThrow(
      /^special token mask has id 2000, outside the vocab of 2000 \(ids 0\.\.1999\)$/,
    );
    expect(() => trainTokenizer(kind, ["a b c"], { vocabSize: VOCAB, lowercase, special: { ...special, mask: -1 } })).toThrow(
      TokenizerTrainingError,
    );
  });
});

describe("training errors and special layouts", () => {
  const corpus = () => trainingGlosses().slice(0, 300);

  it("rejects a vocab smaller than the alphabet", () => {
    expect(() => trainTokenizer("bpe", corpus(), { vocabSize: 200, lowercase: false, special: { unk: 0 } })).toThrow(
      /vocab 200 is too small: the 1 special tokens and the 256 byte symbols alone need 257 ids/,
    );
    expect(() => trainTokenizer("wordpiece", corpus(), { vocabSize: 20, lowercase: true, special: { unk: 0 } })).toThrow(
      TokenizerTrainingError,
    );
    expect(() => trainTokenizer("sentencepiece", corpus(), { vocabSize: 20, lowercase: true, special: { unk: 0 } })).toThrow(
      /vocab 20 is too small: the 1 special tokens and the corpus's \d+ distinct characters alone need \d+ ids/,
    );
  });

  it("rejects two roles on one id that need different tokens", () => {
    expect(() => trainTokenizer("wordpiece", corpus(), { vocabSize: 500, lowercase: true, special: { pad: 0, unk: 0 } })).toThrow(
      /special tokens pad and unk share id 0, but a wordpiece tokenizer writes them as different tokens \(\[PAD\], \[UNK\]\)/,
    );
  });

  it("needs an unknown token for wordpiece and sentencepiece", () => {
    expect(() => trainTokenizer("wordpiece", corpus(), { vocabSize: 500, lowercase: true, special: { pad: 0 } })).toThrow(
      /needs an unk special token/,
    );
  });

  it("gives cls/sep their own tokens in bpe when the model separates them from bos/eos", () => {
    const special = { pad: 0, unk: 100, cls: 101, sep: 102, mask: 103, bos: 104, eos: 105 };
    const tok = trainTokenizer("bpe", corpus(), { vocabSize: 600, lowercase: false, special });
    expect([100, 101, 102, 103, 104, 105].map((id) => tok.idToToken(id))).toEqual(["<unk>", "<cls>", "<sep>", "<mask>", "<s>", "</s>"]);
    const path = join(dir, "split-roles.json");
    saveTokenizer(tok, path);
    expect(loadTokenizer(path).special).toEqual(special);
    expect(new HfLibTokenizer(tok.toJSON() as object, {}).encode("hi").ids).toEqual([101, ...tok.encode("hi").ids, 102]);
  });

  it("fills gaps between special ids with learned tokens", () => {
    const tok = trainTokenizer("sentencepiece", corpus(), { vocabSize: 400, lowercase: true, special: { unk: 7, pad: 399 } });
    expect(tok.idToToken(7)).toBe("[UNK]");
    expect(tok.idToToken(399)).toBe("[PAD]");
    const json = tok.toJSON() as { model: { vocab: [string, number][]; unk_id: number } };
    expect(json.model.vocab).toHaveLength(400);
    expect(json.model.unk_id).toBe(7);
    // Learned pieces come best first around the special ids.
    const learned = json.model.vocab.filter((_, id) => id !== 7 && id !== 399).map(([, score]) => score);
    expect([...learned].sort((a, b) => b - a)).toEqual(learned);
  });

  it("never needs an unknown token in byte-level bpe", () => {
    const tok = trainTokenizer("bpe", corpus(), { vocabSize: 400, lowercase: false, special: { unk: 3 } });
    for (const text of [...TRICKY, "\u{1F600}\u{10FFFF}\uD800 lone surrogate"]) expect(tok.encode(text).ids).not.toContain(3);
  });

  it("makes an over-long word one unknown token in wordpiece", () => {
    const tok = trainTokenizer("wordpiece", corpus(), { vocabSize: 500, lowercase: true, special: { unk: 1 } });
    expect(tok.encode(`${"a".repeat(101)} a`).ids).toEqual([1, tok.tokenToId("a")]);
  });
});
