/**
 * Hugging Face `tokenizer.json`: writing one for a trained tokenizer, and reading one (ours,
 * or a Hugging Face checkpoint's) into a {@link Tokenizer}.
 *
 * What a trained tokenizer writes, per family (as Hugging Face writes BERT, RoBERTa, ALBERT):
 * - wordpiece: `BertNormalizer` (clean text, CJK spacing, lowercase + strip accents when
 *   lowercase), `BertPreTokenizer`, `TemplateProcessing` `[CLS] $A [SEP]` / `… $B:1 [SEP]:1`,
 *   `WordPiece` decoder, `WordPiece` model (`##`, `max_input_chars_per_word` 100).
 * - bpe: no normalizer (`Lowercase` when lowercase), `ByteLevel` pre-tokenizer (GPT-2 split,
 *   `add_prefix_space` false), `RobertaProcessing`, `ByteLevel` decoder, `BPE` model with
 *   `"a b"` merges.
 * - sentencepiece: a `Sequence` normalizer (cased: NFKC; lowercase: NFKD, StripAccents,
 *   Lowercase; then whitespace runs → one space, and Strip, like SentencePiece's default
 *   normalization), `Metaspace` pre-tokenizer and decoder (`▁`, prepend always, split),
 *   `TemplateProcessing` as for wordpiece, `Unigram` model (`[piece, log prob]`, `unk_id`).
 * Special tokens are `added_tokens` with `special: true`, `normalized: false`; the mask token
 * has `lstrip` for bpe and sentencepiece, as RoBERTa's and ALBERT's do.
 *
 * Reading accepts any file whose model is WordPiece, BPE or Unigram and whose components
 * `@huggingface/tokenizers` implements. Special roles come from the added tokens' surface
 * forms (`[CLS]`, `<s>`, `<pad>`, …, see specials.ts), `cls`/`sep` from the post-processor when
 * it names them, `unk` from the model. Anything unsupported is a {@link TokenizerFormatError}
 * naming the field.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { FileReadError, readJsonFile } from "../../io/read-file.js";
import { dirname } from "node:path";
import type { TokenizerKind } from "../../model/model.js";
import { TokenizerFormatError } from "./errors.js";
import { HfTokenizer } from "./hf-tokenizer.js";
import type { AddedTokenJson } from "./pipeline.js";
import { roleOfSurface, type SpecialToken } from "./specials.js";
import type { Tokenizer } from "./tokenizer.js";

/** The continuation prefix of WordPiece tokens. */
export const WORDPIECE_PREFIX = "##";
/** A word longer than this (in characters) is one unknown token, as in BERT. */
export const MAX_INPUT_CHARS_PER_WORD = 100;
/** SentencePiece's word-boundary mark. */
export const METASPACE = "\u2581";

type Json = Record<string, unknown>;

/** The normalizer and pre-tokenizer a trained `kind` tokenizer uses (training and encoding share them). */
export function familyComponents(kind: TokenizerKind, lowercase: boolean): { normalizer: Json | null; pre_tokenizer: Json } {
  switch (kind) {
    case "wordpiece":
      return {
        normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase },
        pre_tokenizer: { type: "BertPreTokenizer" },
      };
    case "bpe":
      return {
        normalizer: lowercase ? { type: "Lowercase" } : null,
        pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
      };
    case "sentencepiece":
      return {
        normalizer: {
          type: "Sequence",
          normalizers: [
            ...(lowercase ? [{ type: "NFKD" }, { type: "StripAccents" }, { type: "Lowercase" }] : [{ type: "NFKC" }]),
            { type: "Replace", pattern: { Regex: "\\s+" }, content: " " },
            { type: "Strip", strip_left: true, strip_right: true },
          ],
        },
        pre_tokenizer: { type: "Metaspace", replacement: METASPACE, prepend_scheme: "always", split: true },
      };
  }
}

/** `added_tokens` for a trained tokenizer's special tokens. */
export function addedTokensJson(kind: TokenizerKind, specials: SpecialToken[]): AddedTokenJson[] {
  return specials.map((s) => ({
    id: s.id,
    content: s.content,
    single_word: false,
    lstrip: kind !== "wordpiece" && s.roles.includes("mask"),
    rstrip: false,
    normalized: false,
    special: true,
  }));
}

/** What training produced; `vocab[id]` is the token with that id (specials included). */
export interface TrainedVocab {
  kind: TokenizerKind;
  lowercase: boolean;
  specials: SpecialToken[];
  vocab: string[];
  /** bpe: merges in rank order. */
  merges?: [string, string][];
  /** sentencepiece: log probability per id (0 for special tokens). */
  scores?: number[];
}

/** The tokenizer.json object for a trained vocabulary. */
export function buildTokenizerJson(t: TrainedVocab): Json {
  const { kind, specials } = t;
  const byRole = (role: string) => specials.find((s) => s.roles.includes(role));
  const cls = byRole("cls");
  const sep = byRole("sep");
  const unk = byRole("unk");
  const { normalizer, pre_tokenizer } = familyComponents(kind, t.lowercase);
  let post_processor: Json | null = null;
  let decoder: Json;
  let model: Json;
  switch (kind) {
    case "wordpiece":
      post_processor = cls && sep ? templateProcessing(cls, sep) : null;
      decoder = { type: "WordPiece", prefix: WORDPIECE_PREFIX, cleanup: true };
      model = {
        type: "WordPiece",
        unk_token: unk!.content,
        continuing_subword_prefix: WORDPIECE_PREFIX,
        max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
        vocab: vocabObject(t.vocab),
      };
      break;
    case "bpe":
      post_processor =
        cls && sep
          ? {
              type: "RobertaProcessing",
              sep: [sep.content, sep.id],
              cls: [cls.content, cls.id],
              trim_offsets: true,
              add_prefix_space: false,
            }
          : null;
      decoder = { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true };
      model = {
        type: "BPE",
        dropout: null,
        unk_token: unk?.content ?? null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab: vocabObject(t.vocab),
        merges: (t.merges ?? []).map(([a, b]) => `${a} ${b}`),
      };
      break;
    case "sentencepiece":
      post_processor = cls && sep ? templateProcessing(cls, sep) : null;
      decoder = { type: "Metaspace", replacement: METASPACE, prepend_scheme: "always", split: true };
      model = {
        type: "Unigram",
        unk_id: unk!.id,
        vocab: t.vocab.map((piece, id) => [piece, t.scores![id]!]),
        byte_fallback: false,
      };
      break;
  }
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokensJson(kind, specials),
    normalizer,
    pre_tokenizer,
    post_processor,
    decoder,
    model,
  };
}

function templateProcessing(cls: SpecialToken, sep: SpecialToken): Json {
  const special = (s: SpecialToken, typeId: number) => ({ SpecialToken: { id: s.content, type_id: typeId } });
  const sequence = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const specialTokens: Json = Object.create(null) as Json;
  for (const s of [cls, sep]) specialTokens[s.content] = { id: s.content, ids: [s.id], tokens: [s.content] };
  return {
    type: "TemplateProcessing",
    single: [special(cls, 0), sequence("A", 0), special(sep, 0)],
    pair: [special(cls, 0), sequence("A", 0), special(sep, 0), sequence("B", 1), special(sep, 1)],
    special_tokens: specialTokens,
  };
}

/** `{token: id}` in id order, safe for any token (a null-prototype object, so `__proto__` is a key). */
function vocabObject(vocab: string[]): Json {
  const out = Object.create(null) as Json;
  vocab.forEach((token, id) => {
    out[token] = id;
  });
  return out;
}

/** The Hugging Face tokenizer.json object of `t`. */
export function toTokenizerJson(t: Tokenizer): unknown {
  return t.toJSON();
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Component types `@huggingface/tokenizers` 0.2.0 implements (anything else cannot be encoded). */
const SUPPORTED: Record<"normalizer" | "pre_tokenizer" | "post_processor" | "decoder", string[]> = {
  normalizer: [
    "BertNormalizer",
    "Precompiled",
    "Sequence",
    "Replace",
    "NFC",
    "NFD",
    "NFKC",
    "NFKD",
    "Strip",
    "StripAccents",
    "Lowercase",
    "Prepend",
  ],
  pre_tokenizer: [
    "BertPreTokenizer",
    "Sequence",
    "Whitespace",
    "WhitespaceSplit",
    "Metaspace",
    "ByteLevel",
    "Split",
    "Punctuation",
    "Digits",
    "Replace",
    "FixedLength",
  ],
  post_processor: ["TemplateProcessing", "ByteLevel", "BertProcessing", "RobertaProcessing", "Sequence"],
  decoder: ["ByteLevel", "WordPiece", "Metaspace", "BPEDecoder", "CTC", "Sequence", "Replace", "Fuse", "Strip", "ByteFallback"],
};
/** Where a `Sequence` keeps its parts, per component. */
const SEQUENCE_FIELD = {
  normalizer: "normalizers",
  pre_tokenizer: "pretokenizers",
  post_processor: "processors",
  decoder: "decoders",
} as const;

const MODEL_KINDS: Record<string, TokenizerKind> = { WordPiece: "wordpiece", BPE: "bpe", Unigram: "sentencepiece" };

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  return typeof v === "object" ? "an object" : String(v);
}

/**
 * A {@link Tokenizer} for a tokenizer.json object (ours, or a Hugging Face one with a
 * WordPiece, BPE or Unigram model). `label` (a path, say) starts every error message.
 */
export function tokenizerFromJson(json: unknown, label: string): HfTokenizer {
  const fail = (message: string): never => {
    throw new TokenizerFormatError(`${label}: ${message}`);
  };
  if (!isObject(json)) return fail(`not a tokenizer.json (expected an object, found ${describe(json)})`);
  if (!isObject(json.model)) return fail(`model: expected an object, found ${describe(json.model)}`);
  const model = json.model;
  const type = model.type;
  if (typeof type !== "string") return fail(`model.type is missing (expected "WordPiece", "BPE" or "Unigram")`);
  const kind = MODEL_KINDS[type];
  if (kind === undefined) return fail(`model.type "${type}" is not supported (supported: WordPiece, BPE, Unigram)`);

  for (const field of ["normalizer", "pre_tokenizer", "post_processor", "decoder"] as const) {
    checkComponent(json[field], field, field, fail);
  }
  const added = checkAddedTokens(json.added_tokens, fail);
  const ids = checkModel(model, kind, fail);
  let vocabSize = kind === "sentencepiece" ? (model.vocab as unknown[]).length : 0;
  for (const id of ids.values()) vocabSize = Math.max(vocabSize, id + 1);
  for (const t of added) vocabSize = Math.max(vocabSize, t.id + 1);

  const special = recoverSpecials(json, model, kind, added, ids);
  const lowercase = hasLowercase(json.normalizer);
  try {
    // A copy, so that later changes to the caller's object cannot desynchronize the tokenizer.
    return new HfTokenizer(JSON.parse(JSON.stringify(json)) as Json, { kind, lowercase, special, vocabSize });
  } catch (e) {
    if (e instanceof TokenizerFormatError) throw e;
    return fail(`@huggingface/tokenizers cannot load it: ${(e as Error).message}`);
  }
}

function checkComponent(value: unknown, component: keyof typeof SUPPORTED, path: string, fail: (m: string) => never): void {
  if (value === null || value === undefined) return;
  if (!isObject(value)) return fail(`${path}: expected an object or null, found ${describe(value)}`);
  const type = value.type;
  if (typeof type !== "string") return fail(`${path}.type is missing`);
  if (!SUPPORTED[component].includes(type)) {
    return fail(`${path}.type "${type}" is not supported (supported: ${SUPPORTED[component].join(", ")})`);
  }
  if (type === "Sequence") {
    const field = SEQUENCE_FIELD[component];
    const parts = value[field];
    if (!Array.isArray(parts)) return fail(`${path}.${field}: expected an array, found ${describe(parts)}`);
    parts.forEach((part, i) => checkComponent(part, component, `${path}.${field}[${i}]`, fail));
    return;
  }
  // @huggingface/tokenizers treats these as "Isolated" (its README lists them as not reproduced).
  if (component === "pre_tokenizer" && type === "Split") {
    const behavior = value.behavior;
    if (typeof behavior === "string" && ["MergedWithPrevious", "MergedWithNext", "Contiguous"].includes(behavior)) {
      return fail(`${path}.behavior "${behavior}" is not supported (supported: Removed, Isolated)`);
    }
  }
  if (
    (component === "pre_tokenizer" || component === "normalizer" || component === "decoder") &&
    (type === "Replace" || type === "Split")
  ) {
    const pattern = value.pattern;
    if (!isObject(pattern) || (typeof pattern.String !== "string" && typeof pattern.Regex !== "string")) {
      return fail(`${path}.pattern: expected {"String": …} or {"Regex": …}, found ${describe(pattern)}`);
    }
  }
}

function checkAddedTokens(value: unknown, fail: (m: string) => never): AddedTokenJson[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail(`added_tokens: expected an array, found ${describe(value)}`);
  return value.map((t, i): AddedTokenJson => {
    const path = `added_tokens[${i}]`;
    if (!isObject(t)) return fail(`${path}: expected an object, found ${describe(t)}`);
    if (!Number.isInteger(t.id) || (t.id as number) < 0)
      return fail(`${path}.id: expected a non-negative integer, found ${describe(t.id)}`);
    if (typeof t.content !== "string" || t.content.length === 0)
      return fail(`${path}.content: expected a non-empty string, found ${describe(t.content)}`);
    // @huggingface/tokenizers ignores single_word; matching it anywhere would change the ids.
    if (t.single_word === true) return fail(`${path}.single_word true is not supported`);
    return t as unknown as AddedTokenJson;
  });
}

/** Validates the model and returns its vocab (token → id). */
function checkModel(model: Json, kind: TokenizerKind, fail: (m: string) => never): Map<string, number> {
  const ids = new Map<string, number>();
  if (kind === "sentencepiece") {
    if (!Array.isArray(model.vocab)) return fail(`model.vocab: expected an array of [piece, score], found ${describe(model.vocab)}`);
    model.vocab.forEach((entry, id) => {
      if (
        !Array.isArray(entry) ||
        entry.length !== 2 ||
        typeof entry[0] !== "string" ||
        typeof entry[1] !== "number" ||
        !Number.isFinite(entry[1])
      ) {
        fail(`model.vocab[${id}]: expected [piece, score], found ${JSON.stringify(entry)}`);
      }
      if (!ids.has(entry[0] as string)) ids.set(entry[0] as string, id);
    });
    const unkId = model.unk_id;
    if (
      unkId !== null &&
      unkId !== undefined &&
      (!Number.isInteger(unkId) || (unkId as number) < 0 || (unkId as number) >= model.vocab.length)
    ) {
      return fail(`model.unk_id: expected an id in the vocab (0..${model.vocab.length - 1}), found ${describe(unkId)}`);
    }
    if (model.byte_fallback === true) return fail(`model.byte_fallback true is not supported for Unigram`);
    return ids;
  }
  if (!isObject(model.vocab)) return fail(`model.vocab: expected an object {token: id}, found ${describe(model.vocab)}`);
  const seen = new Map<number, string>();
  for (const [token, id] of Object.entries(model.vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0)
      return fail(`model.vocab[${JSON.stringify(token)}]: expected a non-negative integer id, found ${describe(id)}`);
    const other = seen.get(id as number);
    if (other !== undefined) return fail(`model.vocab: tokens ${JSON.stringify(other)} and ${JSON.stringify(token)} both have id ${id}`);
    seen.set(id as number, token);
    ids.set(token, id as number);
  }
  if (model.unk_token !== null && model.unk_token !== undefined && typeof model.unk_token !== "string") {
    return fail(`model.unk_token: expected a string or null, found ${describe(model.unk_token)}`);
  }
  if (kind === "wordpiece") {
    if (typeof model.unk_token !== "string" || !ids.has(model.unk_token))
      return fail(`model.unk_token: expected a token of the vocab, found ${describe(model.unk_token)}`);
    if (model.continuing_subword_prefix !== undefined && typeof model.continuing_subword_prefix !== "string") {
      return fail(`model.continuing_subword_prefix: expected a string, found ${describe(model.continuing_subword_prefix)}`);
    }
    const max = model.max_input_chars_per_word;
    if (max !== undefined && max !== null && (!Number.isInteger(max) || (max as number) < 1)) {
      return fail(`model.max_input_chars_per_word: expected a positive integer, found ${describe(max)}`);
    }
    return ids;
  }
  // BPE
  if (model.dropout !== null && model.dropout !== undefined && model.dropout !== 0) {
    return fail(`model.dropout ${describe(model.dropout)} is not supported (BPE dropout makes encoding random)`);
  }
  if (typeof model.continuing_subword_prefix === "string" && model.continuing_subword_prefix !== "") {
    return fail(`model.continuing_subword_prefix ${describe(model.continuing_subword_prefix)} is not supported for BPE`);
  }
  if (!Array.isArray(model.merges)) return fail(`model.merges: expected an array, found ${describe(model.merges)}`);
  model.merges.forEach((merge, i) => {
    let pair: unknown[];
    if (typeof merge === "string") {
      const space = merge.indexOf(" ");
      pair = space < 0 ? [merge] : [merge.slice(0, space), merge.slice(space + 1)];
    } else {
      pair = Array.isArray(merge) ? merge : [merge];
    }
    if (pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") {
      fail(`model.merges[${i}]: expected "a b" or ["a", "b"], found ${JSON.stringify(merge)}`);
    }
    for (const part of pair as string[]) {
      if (!ids.has(part)) fail(`model.merges[${i}]: ${JSON.stringify(part)} is not in model.vocab`);
    }
  });
  return ids;
}

/** Special roles by id: from added tokens' surface forms, the post-processor (cls, sep) and the model (unk). */
function recoverSpecials(
  json: Json,
  model: Json,
  kind: TokenizerKind,
  added: AddedTokenJson[],
  ids: Map<string, number>,
): Record<string, number> {
  const special: Record<string, number> = {};
  for (const t of added) {
    if (!t.special) continue;
    const role = roleOfSurface(t.content);
    if (role !== undefined && special[role] === undefined) special[role] = t.id;
  }
  const post = postProcessorClsSep(json.post_processor, added, ids);
  if (post.cls !== undefined) special.cls = post.cls;
  if (post.sep !== undefined) special.sep = post.sep;
  if (special.cls === undefined && special.bos !== undefined) special.cls = special.bos;
  if (special.sep === undefined && special.eos !== undefined) special.sep = special.eos;
  if (kind === "sentencepiece") {
    if (Number.isInteger(model.unk_id)) special.unk = model.unk_id as number;
  } else if (typeof model.unk_token === "string") {
    const id = added.find((t) => t.content === model.unk_token)?.id ?? ids.get(model.unk_token);
    if (id !== undefined) special.unk = id;
  }
  return special;
}

function postProcessorClsSep(post: unknown, added: AddedTokenJson[], ids: Map<string, number>): { cls?: number; sep?: number } {
  if (!isObject(post)) return {};
  const idOf = (token: string) => added.find((t) => t.content === token)?.id ?? ids.get(token);
  switch (post.type) {
    case "BertProcessing":
    case "RobertaProcessing": {
      const pick = (v: unknown) => (Array.isArray(v) && Number.isInteger(v[1]) ? (v[1] as number) : undefined);
      return { cls: pick(post.cls), sep: pick(post.sep) };
    }
    case "TemplateProcessing": {
      if (!Array.isArray(post.single)) return {};
      const specialTokens = isObject(post.special_tokens) ? post.special_tokens : {};
      const resolve = (item: unknown): number | undefined => {
        if (!isObject(item) || !isObject(item.SpecialToken)) return undefined;
        const name = item.SpecialToken.id;
        if (typeof name !== "string") return undefined;
        const entry = specialTokens[name];
        if (isObject(entry) && Array.isArray(entry.ids) && Number.isInteger(entry.ids[0])) return entry.ids[0] as number;
        return idOf(name);
      };
      const a = post.single.findIndex((item) => isObject(item) && isObject(item.Sequence));
      if (a < 0) return {};
      const before = post.single
        .slice(0, a)
        .map(resolve)
        .filter((x) => x !== undefined);
      const after = post.single
        .slice(a + 1)
        .map(resolve)
        .filter((x) => x !== undefined);
      return { cls: before[0], sep: after[0] };
    }
    case "Sequence":
      for (const p of Array.isArray(post.processors) ? post.processors : []) {
        const found = postProcessorClsSep(p, added, ids);
        if (found.cls !== undefined || found.sep !== undefined) return found;
      }
      return {};
    default:
      return {};
  }
}

function hasLowercase(normalizer: unknown): boolean {
  if (!isObject(normalizer)) return false;
  if (normalizer.type === "Lowercase") return true;
  if (normalizer.type === "BertNormalizer") return normalizer.lowercase !== false;
  if (normalizer.type === "Sequence" && Array.isArray(normalizer.normalizers)) return normalizer.normalizers.some(hasLowercase);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Files

/**
 * Writes `t` as tokenizer.json at `path` atomically: into `${path}.tmp-<pid>` first, then
 * renamed over `path` (the folder is created if missing).
 */
export function saveTokenizer(t: Tokenizer, path: string): void {
  const text = `${JSON.stringify(t.toJSON(), null, 2)}\n`;
  const temp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(temp, text);
    renameSync(temp, path);
  } catch (e) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // the folder itself is unusable; nothing was written
    }
    throw new TokenizerFormatError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Reads a tokenizer.json file (ours or a Hugging Face checkpoint's). */
export function loadTokenizer(path: string): HfTokenizer {
  let json: unknown;
  try {
    json = readJsonFile(path);
  } catch (e) {
    if (e instanceof FileReadError) throw new TokenizerFormatError(e.message);
    throw e;
  }
  return tokenizerFromJson(json, path);
}
