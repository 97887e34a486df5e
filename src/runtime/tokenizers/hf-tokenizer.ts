/**
 * The runtime tokenizer: a Hugging Face tokenizer.json, encoded with word boundaries.
 *
 * The per-component work (normalizers, pre-tokenizers, the WordPiece / BPE / Unigram models,
 * decoders) is done by `@huggingface/tokenizers`, the reference JavaScript implementation of
 * tokenizer.json. That library returns ids and token strings only; this class adds what the
 * data pipeline needs and the library lacks: the index of the word each token came from (for
 * whole-word masking). It does so by running the library's own steps (see {@link Pipeline})
 * and its model one pre-tokenized word at a time, which gives the same ids as the library's
 * `encode` (the tests check this on held-out text).
 */
import type { TokenizerKind } from "../../model/model.js";
import type { Encoding } from "../data/types.js";
import { HfLibTokenizer, type LibModel, type LibTokenizer } from "./hf-lib.js";
import { makeNormalizer, makePreTokenizer, metaspaceSplit, Pipeline, type AddedTokenJson } from "./pipeline.js";
import type { Tokenizer } from "./tokenizer.js";

/** What the tokenizer.json does not say directly: family, case folding, special roles, size. */
export interface TokenizerInfo {
  kind: TokenizerKind;
  lowercase: boolean;
  special: Record<string, number>;
  vocabSize: number;
}

/** Distinct words whose ids are remembered (the cache is emptied when it grows past this). */
const WORD_CACHE_LIMIT = 100_000;

export class HfTokenizer implements Tokenizer {
  readonly kind: TokenizerKind;
  readonly lowercase: boolean;
  readonly special: Record<string, number>;
  readonly vocabSize: number;
  private readonly json: Record<string, unknown>;
  private readonly lib: LibTokenizer;
  private readonly model: LibModel;
  private readonly pipeline: Pipeline;
  private readonly cache = new Map<string, number[]>();

  /** `json` must already be validated (see `tokenizerFromJson`); it is kept, not copied. */
  constructor(json: Record<string, unknown>, info: TokenizerInfo) {
    this.json = json;
    this.kind = info.kind;
    this.lowercase = info.lowercase;
    this.special = { ...info.special };
    this.vocabSize = info.vocabSize;
    const complete = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json };
    this.lib = new HfLibTokenizer(complete, { clean_up_tokenization_spaces: false });
    if (this.lib.model === null) throw new Error("tokenizer.json has no model");
    this.model = this.lib.model;
    this.pipeline = new Pipeline(
      makeNormalizer(complete.normalizer),
      makePreTokenizer(complete.pre_tokenizer),
      complete.added_tokens as AddedTokenJson[],
      metaspaceSplit(complete.pre_tokenizer),
    );
  }

  encode(text: string): Encoding {
    const ids: number[] = [];
    const words: number[] = [];
    let word = 0;
    for (const segment of this.pipeline.segments(text)) {
      if ("added" in segment) {
        ids.push(segment.added.id);
        words.push(word++);
        continue;
      }
      for (const w of segment.words) {
        const wordIds = this.encodeWord(w);
        if (wordIds.length === 0) continue;
        for (const id of wordIds) {
          ids.push(id);
          words.push(word);
        }
        word++;
      }
    }
    return { ids, words };
  }

  /** The normalized form of `text` (added tokens not treated specially). */
  normalize(text: string): string {
    return this.pipeline.normalize(text);
  }

  decode(ids: number[]): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize || this.lib.id_to_token(id) === undefined) {
        throw new RangeError(`token id ${id} is not in the vocab (0..${this.vocabSize - 1})`);
      }
    }
    if (ids.length === 0) return "";
    return this.lib.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  idToToken(id: number): string {
    const token = Number.isInteger(id) ? this.lib.id_to_token(id) : undefined;
    if (token === undefined) throw new RangeError(`token id ${id} is not in the vocab (0..${this.vocabSize - 1})`);
    return token;
  }

  /** The id of a token string (as the vocab writes it, e.g. `##ing`, `Ġthe`, `▁the`), if any. */
  tokenToId(token: string): number | undefined {
    return this.lib.token_to_id(token);
  }

  /** A copy of the tokenizer.json object. */
  toJSON(): unknown {
    return JSON.parse(JSON.stringify(this.json)) as unknown;
  }

  private encodeWord(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    const model = this.model;
    const ids: number[] = [];
    for (const token of model([word])) {
      const id = this.pipeline.added.get(token)?.id ?? model.tokens_to_ids.get(token) ?? model.unk_token_id;
      // A model without an unknown token (byte-level BPE) drops what it cannot encode, as the library does.
      if (id !== undefined) ids.push(id);
    }
    if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, ids);
    return ids;
  }
}
