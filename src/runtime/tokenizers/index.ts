/** Tokenizers: training the declared kind on a corpus, and Hugging Face tokenizer.json files. */
export type { Tokenizer } from "./tokenizer.js";
export { TokenizerFormatError, TokenizerTrainingError } from "./errors.js";
export { trainTokenizer, type TrainTokenizerOptions } from "./train.js";
export { loadTokenizer, saveTokenizer, toTokenizerJson, tokenizerFromJson } from "./hf-json.js";
export { HfTokenizer, type TokenizerInfo } from "./hf-tokenizer.js";
