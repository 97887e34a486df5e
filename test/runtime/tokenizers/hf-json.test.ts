import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as HfLibTokenizer } from "@huggingface/tokenizers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer, saveTokenizer, TokenizerFormatError, tokenizerFromJson } from "../../../src/runtime/tokenizers/index.js";
import { byteLevelAlphabet } from "../../../src/runtime/tokenizers/train.js";
import { TRICKY } from "./glosses.js";

// Miniatures of Hugging Face's own tokenizer.json files for bert-base-uncased, roberta-base
// and albert-base-v2: the same fields and layout, with a small vocab.

type Json = Record<string, unknown>;

function added(id: number, content: string, lstrip = false): Json {
  return { id, content, single_word: false, lstrip, rstrip: false, normalized: false, special: true };
}

function template(cls: [string, number], sep: [string, number]): Json {
  return {
    type: "TemplateProcessing",
    single: [
      { SpecialToken: { id: cls[0], type_id: 0 } },
      { Sequence: { id: "A", type_id: 0 } },
      { SpecialToken: { id: sep[0], type_id: 0 } },
    ],
    pair: [
      { SpecialToken: { id: cls[0], type_id: 0 } },
      { Sequence: { id: "A", type_id: 0 } },
      { SpecialToken: { id: sep[0], type_id: 0 } },
      { Sequence: { id: "B", type_id: 1 } },
      { SpecialToken: { id: sep[0], type_id: 1 } },
    ],
    special_tokens: {
      [cls[0]]: { id: cls[0], ids: [cls[1]], tokens: [cls[0]] },
      [sep[0]]: { id: sep[0], ids: [sep[1]], tokens: [sep[0]] },
    },
  };
}

function bertLike(): Json {
  const tokens = ["[PAD]", ...Array.from({ length: 99 }, (_, i) => `[unused${i}]`), "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
  tokens.push(..."abcdefghijklmnopqrstuvwxyz.,()-'".split(""), ..."abcdefghijklmnopqrstuvwxyz".split("").map((c) => `##${c}`));
  tokens.push("the", "cat", "sat", "on", "mat", "##s", "play", "##ing", "un", "##believ", "##able", "__proto__");
  const vocab: Json = {};
  tokens.forEach((t, id) => Object.defineProperty(vocab, t, { value: id, enumerable: true, writable: true, configurable: true }));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [added(0, "[PAD]"), added(100, "[UNK]"), added(101, "[CLS]"), added(102, "[SEP]"), added(103, "[MASK]")],
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: template(["[CLS]", 101], ["[SEP]", 102]),
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab },
  };
}

function robertaLike(): Json {
  const merges: [string, string][] = [
    ["\u0120", "t"],
    ["h", "e"],
    ["\u0120t", "he"],
    ["c", "a"],
    ["\u0120", "ca"],
    ["\u0120ca", "t"],
    ["ca", "t"],
    ["s", "a"],
  ];
  const tokens = ["<s>", "<pad>", "</s>", "<unk>", ...byteLevelAlphabet()];
  for (const [a, b] of merges) tokens.push(a + b);
  tokens.push("<mask>");
  const vocab: Json = {};
  tokens.forEach((t, id) => (vocab[t] = id));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [added(0, "<s>"), added(1, "<pad>"), added(2, "</s>"), added(3, "<unk>"), added(tokens.length - 1, "<mask>", true)],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "RobertaProcessing", sep: ["</s>", 2], cls: ["<s>", 0], trim_offsets: true, add_prefix_space: false },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

function albertLike(): Json {
  const pieces: [string, number][] = [
    ["<pad>", 0],
    ["<unk>", 0],
    ["[CLS]", 0],
    ["[SEP]", 0],
    ["[MASK]", 0],
    ["\u2581the", -3.1],
    ["\u2581", -3.5],
    ["s", -4.0],
    ["\u2581cat", -6.2],
    ["\u2581sat", -7.0],
    ["\u2581on", -5.0],
    ["\u2581mat", -8.0],
    ["ing", -6.0],
    ["\u2581play", -7.5],
    ...[..."abcdefghijklmnopqrstuvwxyz.,"].map((c, i): [string, number] => [c, -9 - i / 10]),
  ];
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [added(0, "<pad>"), added(1, "<unk>"), added(2, "[CLS]"), added(3, "[SEP]"), added(4, "[MASK]", true)],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Replace", pattern: { String: "``" }, content: '"' },
        { type: "Replace", pattern: { String: "''" }, content: '"' },
        { type: "NFKD" },
        { type: "StripAccents" },
        { type: "Lowercase" },
        { type: "Precompiled", precompiled_charsmap: "" },
      ],
    },
    pre_tokenizer: { type: "Metaspace", replacement: "\u2581", add_prefix_space: true, prepend_scheme: "always" },
    post_processor: template(["[CLS]", 2], ["[SEP]", 3]),
    decoder: { type: "Metaspace", replacement: "\u2581", add_prefix_space: true, prepend_scheme: "always" },
    model: { type: "Unigram", unk_id: 1, vocab: pieces, byte_fallback: false },
  };
}

const TEXTS = ["The cats sat on the mat.", "Playing unbelievable cats", "the  cat <mask> sat", "a [MASK] mat", ...TRICKY];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bdl-hf-json-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  {
    name: "bert-base-uncased",
    make: bertLike,
    kind: "wordpiece",
    lowercase: true,
    special: { pad: 0, unk: 100, cls: 101, sep: 102, mask: 103 },
  },
  {
    name: "roberta-base",
    make: robertaLike,
    kind: "bpe",
    lowercase: false,
    special: { bos: 0, pad: 1, eos: 2, unk: 3, mask: 268, cls: 0, sep: 2 },
  },
  {
    name: "albert-base-v2",
    make: albertLike,
    kind: "sentencepiece",
    lowercase: true,
    special: { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 },
  },
])("a Hugging Face tokenizer.json like $name's", ({ make, kind, lowercase, special }) => {
  it("loads with its family, case folding and special roles", () => {
    const t = tokenizerFromJson(make(), "hf.json");
    expect(t.kind).toBe(kind);
    expect(t.lowercase).toBe(lowercase);
    expect(t.special).toEqual(special);
  });

  it("encodes as @huggingface/tokenizers does, with word indices", () => {
    const json = make();
    const t = tokenizerFromJson(json, "hf.json");
    const lib = new HfLibTokenizer(json, {});
    for (const text of TEXTS) {
      const { ids, words } = t.encode(text);
      expect(ids, JSON.stringify(text)).toEqual(lib.encode(text, { add_special_tokens: false }).ids);
      expect(words).toHaveLength(ids.length);
    }
  });

  it("saves and loads back the same file", () => {
    const t = tokenizerFromJson(make(), "hf.json");
    const path = join(dir, `${kind}.json`);
    saveTokenizer(t, path);
    const again = loadTokenizer(path);
    expect(again.toJSON()).toEqual(t.toJSON());
    expect(again.special).toEqual(special);
    for (const text of TEXTS) expect(again.encode(text)).toEqual(t.encode(text));
  });
});

describe("reading details", () => {
  it("keeps WordPiece pieces of a word together", () => {
    const t = tokenizerFromJson(bertLike(), "bert");
    const { ids, words } = t.encode("Playing unbelievable cats.");
    expect(ids.map((id) => t.idToToken(id))).toEqual(["play", "##ing", "un", "##believ", "##able", "cat", "##s", "."]);
    expect(words).toEqual([0, 0, 1, 1, 1, 2, 2, 3]);
    expect(t.decode(ids)).toBe("playing unbelievable cats.");
  });

  it("splits Metaspace words at ▁ (the Rust library's split), giving the same ids", () => {
    const t = tokenizerFromJson(albertLike(), "albert");
    const { ids, words } = t.encode("The cats  sat");
    expect(ids.map((id) => t.idToToken(id))).toEqual(["\u2581the", "\u2581cat", "s", "\u2581", "\u2581sat"]);
    expect(words).toEqual([0, 1, 1, 2, 3]);
  });

  it("strips the space before an lstrip mask token, as RoBERTa's <mask> asks", () => {
    const t = tokenizerFromJson(robertaLike(), "roberta");
    const { ids } = t.encode("the cat <mask>");
    expect(ids.map((id) => t.idToToken(id))).toEqual(["t", "he", "\u0120cat", "<mask>"]);
    expect(t.decode(ids)).toBe("the cat<mask>");
  });

  it("accepts merges written as strings and a __proto__ token", () => {
    const json = robertaLike();
    const model = json.model as Json;
    model.merges = (model.merges as [string, string][]).map(([a, b]) => `${a} ${b}`);
    const t = tokenizerFromJson(json, "roberta");
    expect(t.encode(" the cat").ids).toEqual(tokenizerFromJson(robertaLike(), "roberta").encode(" the cat").ids);
    const bert = tokenizerFromJson(JSON.parse(JSON.stringify(bertLike())), "bert");
    expect(bert.idToToken(bert.tokenToId("__proto__")!)).toBe("__proto__");
  });
});

describe("unsupported or broken files", () => {
  const broken = (edit: (j: Json) => void, make: () => Json = bertLike): unknown => {
    const json = make();
    edit(json);
    return json;
  };
  const cases: [string, unknown, RegExp][] = [
    ["not an object", [], /^f\.json: not a tokenizer\.json \(expected an object, found an array\)$/],
    ["no model", broken((j) => delete j.model), /^f\.json: model: expected an object/],
    [
      "WordLevel model",
      broken((j) => ((j.model as Json).type = "WordLevel")),
      /^f\.json: model\.type "WordLevel" is not supported \(supported: WordPiece, BPE, Unigram\)$/,
    ],
    [
      "unknown normalizer in a sequence",
      broken((j) => ((j.normalizer as Json).normalizers = [{ type: "NFC" }, { type: "ByteLevel" }]), albertLike),
      /^f\.json: normalizer\.normalizers\[1\]\.type "ByteLevel" is not supported/,
    ],
    [
      "unknown pre-tokenizer",
      broken((j) => (j.pre_tokenizer = { type: "UnicodeScripts" })),
      /pre_tokenizer\.type "UnicodeScripts" is not supported/,
    ],
    ["unknown decoder", broken((j) => (j.decoder = { type: "Mystery" })), /decoder\.type "Mystery" is not supported/],
    [
      "a Split the library cannot reproduce",
      broken((j) => (j.pre_tokenizer = { type: "Split", pattern: { String: " " }, behavior: "MergedWithPrevious" })),
      /pre_tokenizer\.behavior "MergedWithPrevious" is not supported/,
    ],
    ["BPE dropout", broken((j) => ((j.model as Json).dropout = 0.1), robertaLike), /model\.dropout 0\.1 is not supported/],
    [
      "a merge of unknown tokens",
      broken((j) => ((j.model as Json).merges = [["zz", "t"]]), robertaLike),
      /model\.merges\[0\]: "zz" is not in model\.vocab/,
    ],
    [
      "a WordPiece unknown token outside the vocab",
      broken((j) => ((j.model as Json).unk_token = "<nope>")),
      /model\.unk_token: expected a token of the vocab/,
    ],
    [
      "Unigram byte fallback",
      broken((j) => ((j.model as Json).byte_fallback = true), albertLike),
      /model\.byte_fallback true is not supported/,
    ],
    [
      "a bad Unigram entry",
      broken((j) => ((j.model as Json).vocab = [["a", "x"]]), albertLike),
      /model\.vocab\[0\]: expected \[piece, score\]/,
    ],
    [
      "single_word added tokens",
      broken((j) => ((j.added_tokens as Json[])[1]!.single_word = true)),
      /added_tokens\[1\]\.single_word true is not supported/,
    ],
    [
      "a bad added token id",
      broken((j) => ((j.added_tokens as Json[])[0]!.id = -1)),
      /added_tokens\[0\]\.id: expected a non-negative integer/,
    ],
  ];
  it.each(cases)("%s", (_, json, message) => {
    let error: unknown;
    try {
      tokenizerFromJson(json, "f.json");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TokenizerFormatError);
    expect((error as Error).message).toMatch(message);
  });

  it("names the file when it is missing or not JSON", () => {
    expect(() => loadTokenizer(join(dir, "missing.json"))).toThrow(/missing\.json: no such file/);
    const path = join(dir, "bad.json");
    writeFileSync(path, "{ not json");
    expect(() => loadTokenizer(path)).toThrow(/bad\.json: not valid JSON/);
  });

  it("leaves no temporary file when saving fails", () => {
    const t = tokenizerFromJson(bertLike(), "bert");
    const blocked = join(dir, "blocked");
    writeFileSync(blocked, "a file, not a folder");
    expect(() => saveTokenizer(t, join(blocked, "tokenizer.json"))).toThrow(TokenizerFormatError);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});
