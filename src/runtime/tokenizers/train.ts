/**
 * Training a model's declared tokenizer on a corpus, at the declared vocab size, with the
 * special tokens at the declared ids.
 *
 * - wordpiece (BERT): Hugging Face's WordPiece training — BPE-style merges on words split by
 *   `BertNormalizer` + `BertPreTokenizer`, with the `##` continuation prefix (train-merges.ts).
 *   Words over 100 characters are left out (encoding makes them one [UNK] anyway).
 * - bpe (RoBERTa / GPT-2 byte-level): the same merges on `ByteLevel` pre-tokens, starting from
 *   all 256 byte symbols, so any text encodes without an unknown token.
 * - sentencepiece (ALBERT): a unigram language model trained by EM with pruning on `Metaspace`
 *   words (train-unigram.ts).
 *
 * Normalization and pre-tokenization are those of the tokenizer.json written for the family
 * (hf-json.ts), run by `@huggingface/tokenizers`, so training sees exactly what encoding will.
 *
 * Ids: special tokens take their declared ids; the learned tokens fill every other id in
 * order (wordpiece, bpe: the alphabet in code point order, then merge results in merge order;
 * sentencepiece: by score, best first). Training is deterministic: the same texts and options
 * give the same tokenizer.json (ties are broken by the rules documented in the trainers).
 */
import { TOKENIZER_KINDS, type TokenizerKind } from "../../model/model.js";
import { TokenizerTrainingError } from "./errors.js";
import { addedTokensJson, buildTokenizerJson, familyComponents, MAX_INPUT_CHARS_PER_WORD, WORDPIECE_PREFIX } from "./hf-json.js";
import { HfTokenizer } from "./hf-tokenizer.js";
import { makeNormalizer, makePreTokenizer, metaspaceSplit, Pipeline } from "./pipeline.js";
import { specialTokenLayout } from "./specials.js";
import { trainMerges } from "./train-merges.js";
import { trainUnigram } from "./train-unigram.js";

export { TokenizerTrainingError } from "./errors.js";

export interface TrainTokenizerOptions {
  /** Total ids, special tokens included. */
  vocabSize: number;
  lowercase: boolean;
  /** Special token ids by role (pad, unk, cls, sep, mask, bos, eos), as the model declares them. */
  special: Record<string, number>;
}

/** GPT-2's byte-to-symbol map: printable bytes stand for themselves, the rest map to U+0100 and up. */
export function byteLevelAlphabet(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(printable(b) ? b : 256 + n++));
  return out;
}

/**
 * Trains a `kind` tokenizer on `texts`. Throws {@link TokenizerTrainingError} when the corpus
 * cannot fill `vocabSize`, when the vocab cannot even hold the alphabet, or when the special
 * ids are unusable (outside the vocab, or two roles that need different tokens on one id).
 */
export function trainTokenizer(kind: TokenizerKind, texts: Iterable<string>, options: TrainTokenizerOptions): HfTokenizer {
  const { vocabSize, lowercase, special } = options;
  if (!TOKENIZER_KINDS.includes(kind))
    throw new TokenizerTrainingError(`unknown tokenizer kind '${kind}' (expected ${TOKENIZER_KINDS.join(", ")})`);
  if (!Number.isInteger(vocabSize) || vocabSize < 1) throw new TokenizerTrainingError(`vocab must be a positive integer, not ${vocabSize}`);
  const specials = specialTokenLayout(kind, special, vocabSize);
  if (kind !== "bpe" && special.unk === undefined) {
    throw new TokenizerTrainingError(`a ${kind} tokenizer needs an unk special token (for characters it has never seen)`);
  }
  const components = familyComponents(kind, lowercase);
  const pipeline = new Pipeline(
    makeNormalizer(components.normalizer),
    makePreTokenizer(components.pre_tokenizer),
    addedTokensJson(kind, specials),
    metaspaceSplit(components.pre_tokenizer),
  );
  const words = new Map<string, number>();
  for (const text of texts) {
    for (const segment of pipeline.segments(text)) {
      if (!("words" in segment)) continue;
      for (const w of segment.words) words.set(w, (words.get(w) ?? 0) + 1);
    }
  }

  const target = vocabSize - specials.length;
  const reserved = new Set(specials.map((s) => s.content));
  const cannotFill = (available: number): never => {
    const have = specials.length + available;
    throw new TokenizerTrainingError(
      `the corpus yields only ${have} distinct tokens; vocab ${vocabSize} needs ${vocabSize - have} more — use a smaller vocab or a larger corpus`,
    );
  };
  const tooSmall = (what: string, need: number): never => {
    throw new TokenizerTrainingError(
      `vocab ${vocabSize} is too small: the ${specials.length} special tokens and ${what} alone need ${need} ids — use a larger vocab`,
    );
  };

  let learned: string[];
  let merges: [string, string][] | undefined;
  let learnedScores: number[] | undefined;
  switch (kind) {
    case "wordpiece":
    case "bpe": {
      if (kind === "wordpiece") {
        for (const w of words.keys()) if ([...w].length > MAX_INPUT_CHARS_PER_WORD) words.delete(w);
      }
      const prefix = kind === "wordpiece" ? WORDPIECE_PREFIX : "";
      const result = trainMerges(words, { target, prefix, reserved, ...(kind === "bpe" ? { initialAlphabet: byteLevelAlphabet() } : {}) });
      if (result.alphabetSize > target) {
        tooSmall(
          kind === "bpe"
            ? "the 256 byte symbols"
            : `the corpus's alphabet (${result.alphabetSize} characters and ${WORDPIECE_PREFIX}-continuations)`,
          specials.length + result.alphabetSize,
        );
      }
      learned = result.tokens;
      merges = result.merges;
      break;
    }
    case "sentencepiece": {
      const result = trainUnigram(words, target, reserved);
      if (result.characters > target)
        tooSmall(`the corpus's ${result.characters} distinct characters`, specials.length + result.characters);
      if (result.seeds < target) cannotFill(result.seeds);
      learned = result.pieces;
      learnedScores = result.scores;
      break;
    }
  }
  if (learned.length < target) cannotFill(learned.length);

  const vocab: string[] = [];
  const scores: number[] = [];
  const specialAt = new Map(specials.map((s) => [s.id, s]));
  let next = 0;
  for (let id = 0; id < vocabSize; id++) {
    const s = specialAt.get(id);
    if (s !== undefined) {
      vocab.push(s.content);
      scores.push(0);
    } else {
      vocab.push(learned[next]!);
      scores.push(learnedScores?.[next] ?? 0);
      next++;
    }
  }
  const json = buildTokenizerJson({
    kind,
    lowercase,
    specials,
    vocab,
    ...(merges ? { merges } : {}),
    ...(learnedScores ? { scores } : {}),
  });
  return new HfTokenizer(json, { kind, lowercase, special: { ...special }, vocabSize });
}
