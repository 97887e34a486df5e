/**
 * The files beside `tokenizer.json` that transformers reads to build a model's tokenizer:
 * `tokenizer_config.json` (which class, how long a sequence may be, which token is which
 * special role) and `special_tokens_map.json`. Without them `AutoTokenizer` falls back to the
 * family's slow tokenizer, which needs a vocab.txt bdl never writes, and `pipeline("fill-mask")`
 * finds no mask token.
 *
 * The class is `PreTrainedTokenizerFast` for every family: it takes the whole pipeline
 * (normalizer, pre-tokenizer, model, post-processor) from tokenizer.json as bdl wrote it, so
 * it encodes exactly as bdl does, where a family's own class would re-derive parts of it.
 */
import { SPECIAL_ROLES, type ResolvedModel, type SpecialRole } from "../model.js";

/** transformers' name for each role's token in these files. */
const ROLE_KEYS: Record<SpecialRole, string> = {
  pad: "pad_token",
  unk: "unk_token",
  cls: "cls_token",
  sep: "sep_token",
  mask: "mask_token",
  bos: "bos_token",
  eos: "eos_token",
};

export interface HfTokenizerFiles {
  tokenizerConfig: Record<string, unknown>;
  specialTokensMap: Record<string, string>;
}

/**
 * The two files for `model`'s tokenizer; `surface(id)` is the token text of an id (from the
 * run's tokenizer.json). Only the roles the model declares are named.
 */
export function hfTokenizerFiles(model: ResolvedModel, surface: (id: number) => string): HfTokenizerFiles {
  const specialTokensMap: Record<string, string> = {};
  for (const role of SPECIAL_ROLES) {
    const id = model.special[role];
    if (id !== undefined) specialTokensMap[ROLE_KEYS[role]] = surface(id);
  }
  // Models without segment embeddings take no token_type_ids (RoBERTa's single type counts as none, as transformers has it).
  const inputs = model.embeddings.segments > 1 ? ["input_ids", "token_type_ids", "attention_mask"] : ["input_ids", "attention_mask"];
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: "PreTrainedTokenizerFast",
    model_max_length: model.embeddings.positions,
    model_input_names: inputs,
    padding_side: "right",
    truncation_side: "right",
    clean_up_tokenization_spaces: false,
    do_lower_case: model.tokenizer.lowercase,
    ...specialTokensMap,
  };
  return { tokenizerConfig, specialTokensMap };
}
