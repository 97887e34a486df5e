/** What every tokenizer (trained here or loaded from a Hugging Face tokenizer.json) offers. */
import type { TokenizerKind } from "../../model/model.js";
import type { Encoding } from "../data/types.js";

export interface Tokenizer {
  kind: TokenizerKind;
  vocabSize: number;
  lowercase: boolean;
  /** Special token ids by role (pad, unk, cls, sep, mask, bos, eos), as the model declares them. */
  special: Record<string, number>;
  /** Text → ids, without special tokens. */
  encode(text: string): Encoding;
  /** Ids → text, special tokens kept as their surface form. */
  decode(ids: number[]): string;
  idToToken(id: number): string;
  /** The id of a token as the vocab writes it (`##ing`, `Ġthe`, `▁the`, `[CLS]`), if it has one. */
  tokenToId(token: string): number | undefined;
  /** What the tokenizer's normalizer makes of `text` (case folding, accents, whitespace). */
  normalize(text: string): string;
  /** The Hugging Face `tokenizer.json` object for this tokenizer. */
  toJSON(): unknown;
}
