/** Errors of the tokenizer module. */

/**
 * Training cannot produce the requested tokenizer: the corpus cannot fill the vocabulary,
 * the vocabulary cannot hold the corpus's alphabet, or the special token ids are unusable.
 */
export class TokenizerTrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenizerTrainingError";
  }
}

/**
 * A tokenizer.json that cannot be read or uses something this runtime does not support.
 * The message starts with the file (or label) and names the offending field.
 */
export class TokenizerFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenizerFormatError";
  }
}
