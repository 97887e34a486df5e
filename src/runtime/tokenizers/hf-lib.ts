/**
 * The parts of `@huggingface/tokenizers` (0.2.0) this module uses, with their types.
 *
 * The package's own declarations re-export from extension-less relative paths, which
 * TypeScript's NodeNext resolution cannot follow (every import comes out as `any`), so the
 * shapes used here are declared by hand from `types/core/*.d.ts`.
 */
import * as hf from "@huggingface/tokenizers";

export interface LibNormalizer {
  normalize(text: string): string;
}

export interface LibPreTokenizer {
  pre_tokenize(text: string, options?: { section_index?: number }): string[];
}

/** A tokenizer model (WordPiece, BPE, Unigram): called with pre-tokenized words, returns token strings. */
export interface LibModel {
  (words: string[]): string[];
  tokens_to_ids: Map<string, number>;
  unk_token_id?: number;
  vocab: string[];
}

export interface LibEncoding {
  ids: number[];
  tokens: string[];
  attention_mask: number[];
}

export interface LibTokenizer {
  model: LibModel | null;
  encode(text: string, options?: { text_pair?: string | null; add_special_tokens?: boolean }): LibEncoding;
  decode(ids: number[], options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean | null }): string;
  id_to_token(id: number): string | undefined;
  token_to_id(token: string): number | undefined;
}

interface LibModule {
  Tokenizer: new (tokenizerJson: object, tokenizerConfig: object) => LibTokenizer;
  SequenceNormalizer: new (config: { type: "Sequence"; normalizers: unknown[] }) => LibNormalizer;
  SequencePreTokenizer: new (config: { type: "Sequence"; pretokenizers: unknown[] }) => LibPreTokenizer;
}

const lib = hf as unknown as LibModule;

/** `new Tokenizer(tokenizerJson, tokenizerConfig)` of `@huggingface/tokenizers`. */
export const HfLibTokenizer = lib.Tokenizer;
export const HfSequenceNormalizer = lib.SequenceNormalizer;
export const HfSequencePreTokenizer = lib.SequencePreTokenizer;
