/**
 * The shapes data takes on its way to a batch: documents of sentences (corpus), token ids
 * with word boundaries (tokenizer), training examples (segment pairs or packed sentences),
 * and masked inputs (masking). Each stage is a pure function of its inputs and a seed.
 */

/** A document: consecutive sentences. NSP and SOP build their segment pairs from these. */
export interface Document {
  /** Stable identifier (e.g. a WordNet synset offset, or a line number), used for the held-out split. */
  id: string;
  sentences: string[];
}

export interface Corpus {
  /** `wordnet`, or the path it was read from. */
  name: string;
  /** Its documents in order, read again on each call: a file corpus is never held in memory. */
  documents(): Iterable<Document>;
}

/** A labelled text for sequence classification (fine-tuning). */
export interface LabelledText {
  text: string;
  label: string;
}

export interface Task {
  name: string;
  /** Label names; a label's index is its class id. */
  labels: string[];
  train: LabelledText[];
  test: LabelledText[];
}

/** A tokenized text: ids, and the index of the word each token belongs to (for whole-word masking). */
export interface Encoding {
  ids: number[];
  /** words[i] is the index of the word token i came from; tokens of one word share it. */
  words: number[];
}

/** One training sequence before masking: [CLS] A [SEP] (B [SEP]), with segment ids. */
export interface Example {
  ids: number[];
  /** Word index per token; -1 for special tokens, which are never masked. */
  words: number[];
  tokenTypes: number[];
  /** NSP: 1 = B is random, 0 = B followed A. SOP: 1 = swapped, 0 = in order. Absent without NSP/SOP. */
  sentenceLabel?: number;
  /**
   * With `document_mask`: per token, the index (0, 1, …) of the document it belongs to among
   * those packed into the sequence; a document's closing [SEP] is its own, [CLS] the first's.
   */
  documents?: number[];
}

/** An example after masking: the model's inputs and MLM labels (-100 where not predicted). */
export interface MaskedExample {
  inputIds: number[];
  labels: number[];
  tokenTypes: number[];
  sentenceLabel?: number;
  documents?: number[];
}
