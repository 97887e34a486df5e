/**
 * Documents → training examples (before masking).
 *
 * - `nsp` (BERT's create_pretraining_data): consecutive sentences of a document fill a target
 *   of seq − 3 tokens, are split at a random sentence boundary into A and B; half the time B
 *   is replaced by sentences from a random other document (label 1, "IsRandom"; the unused
 *   sentences go back to be read again), and the longer side is truncated from a random end
 *   until the pair fits. A chunk of a single sentence always gets a random B, as in BERT.
 *   BERT's `short_seq_prob` (10% of pairs aimed at a random shorter length) is omitted: the
 *   target is always seq − 3.
 * - `sop` (ALBERT): the same chunks, A and B both from the chunk (in order, label 0), swapped
 *   half the time (label 1). A chunk of a single sentence is split at a random word boundary
 *   instead (ALBERT would take a random B from another document, which is not an order
 *   question); a single one-word sentence yields no pair.
 * - neither (RoBERTa FULL-SENTENCES): consecutive sentences are packed up to seq − 2 tokens,
 *   crossing document boundaries with an extra separator between documents. A sentence longer
 *   than seq − 2 is cut into pieces that fit.
 *
 * Layout: [CLS] A [SEP] B [SEP] with token types 0 for [CLS] A [SEP] and 1 for B [SEP], or
 * [CLS] … [SEP] with types 0 when packing. `cls`/`sep` are the `special` roles (RoBERTa
 * declares cls 0 / sep 2, its <s> / </s>); `bos`/`eos` stand in when they are absent.
 * Word indices are renumbered 0, 1, … by first appearance in each example, so tokens share
 * an index exactly when they come from the same word of the same sentence; special tokens
 * get -1. Examples come out in document order (the batcher shuffles); the result is a
 * function of (documents, encode, options) alone, randomness drawn per document from
 * (seed, document index).
 *
 * The documents are first tokenized into a {@link TokenStore}; an example is kept as the
 * runs of stored tokens it is made of and materialized when asked for, so a large corpus
 * costs a few bytes per token, not its text and number arrays.
 */
import type { ResolvedModel, SentencePairObjective } from "../../model/model.js";
import { createRng, seedFrom, type Rng } from "./random.js";
import { ChunkedArray, TokenStoreBuilder, type TokenStore } from "./token-store.js";
import type { Document, Encoding, Example } from "./types.js";

/** The sentence-pair objective a model trains, if any. */
export type SentencePairs = SentencePairObjective | null;

export interface ExampleOptions {
  /** Maximum example length, special tokens included (`train.seq`). */
  seq: number;
  /** Special ids by role; `cls` and `sep` (or `bos` and `eos`) are used. */
  special: Record<string, number>;
  sentencePairs: SentencePairs;
  seed: number;
  /** Packed examples say which document each token belongs to (`train { document_mask true }`). */
  documentMask?: boolean;
}

/** The example options of `model` (its seq, special ids and document mask) with these sentence pairs and seed. */
export function exampleOptionsFor(
  model: Pick<ResolvedModel, "train" | "special">,
  sentencePairs: SentencePairs,
  seed: number,
): ExampleOptions {
  return { seq: model.train.seq, special: model.special, sentencePairs, seed, documentMask: model.train.document_mask === true };
}

/** Which sentence-pair objective a model trains: `nsp`, `sop`, or null (pack full sentences). */
export function sentencePairsFor(model: Pick<ResolvedModel, "objectives">): SentencePairs {
  const nsp = model.objectives.some((o) => o.name === "nsp");
  const sop = model.objectives.some((o) => o.name === "sop");
  if (nsp && sop) throw new Error("'nsp' and 'sop' build sentence pairs in incompatible ways; a model trains one of them");
  return nsp ? "nsp" : sop ? "sop" : null;
}

/** Training examples, built as they are asked for from a {@link TokenStore}. */
export interface Examples {
  readonly length: number;
  get(index: number): Example;
}

/** A run of consecutive stored tokens: [start, end). */
interface Span {
  start: number;
  end: number;
}

const NO_LABEL = 255;

/**
 * Examples as runs of stored tokens, about 25 bytes each: an example is
 * [CLS] run₁ [SEP] run₂ [SEP] …, its tokens read from the store when it is asked for.
 * A pair's runs are A and B (token types 0 and 1); packed sentences have one run per
 * document they cross (all type 0).
 */
class RunExamples implements Examples {
  private readonly runs = new ChunkedArray((n) => new Uint32Array(n));
  /** firstRun[e] is example e's first entry in `runs` (two per run); one more marks the end. */
  private readonly firstRun = new ChunkedArray((n) => new Uint32Array(n));
  private readonly labels = new ChunkedArray((n) => new Uint8Array(n));

  constructor(
    private readonly store: TokenStore,
    private readonly cls: number,
    private readonly sep: number,
    private readonly pairs: boolean,
    private readonly withDocuments: boolean,
  ) {
    this.firstRun.push(0);
  }

  add(runs: readonly Span[], sentenceLabel?: number): void {
    for (const r of runs) {
      this.runs.push(r.start);
      this.runs.push(r.end);
    }
    this.firstRun.push(this.runs.length);
    this.labels.push(sentenceLabel ?? NO_LABEL);
  }

  get length(): number {
    return this.labels.length;
  }

  /**
   * Word indices are numbered 0, 1, … by first appearance in the example: tokens share one
   * exactly when they come from the same word of the same sentence (a run always begins a
   * word, even when truncation cut into one); special tokens get -1.
   */
  get(index: number): Example {
    if (!(index >= 0 && index < this.length)) throw new RangeError(`example ${index} of ${this.length}`);
    const ids = [this.cls];
    const words = [-1];
    const tokenTypes = [0];
    // Packed examples hold one run per document: run r and the [SEP] after it are document r.
    const documents = this.withDocuments ? [0] : null;
    let word = -1;
    const end = this.firstRun.get(index + 1);
    for (let r = this.firstRun.get(index), run = 0; r < end; r += 2, run++) {
      const type = this.pairs ? run : 0;
      for (let t = this.runs.get(r), stop = this.runs.get(r + 1); t < stop; t++) {
        if (t === this.runs.get(r) || this.store.startsWord(t)) word++;
        ids.push(this.store.id(t));
        words.push(word);
        tokenTypes.push(type);
        documents?.push(run);
      }
      ids.push(this.sep);
      words.push(-1);
      tokenTypes.push(type);
      documents?.push(run);
    }
    const label = this.labels.get(index);
    const example: Example = { ids, words, tokenTypes };
    if (documents) example.documents = documents;
    if (label !== NO_LABEL) example.sentenceLabel = label;
    return example;
  }
}

/** The examples of a store of tokenized documents; see the module comment for how they are cut. */
export function examplesOf(store: TokenStore, opts: ExampleOptions): Examples {
  const cls = opts.special.cls ?? opts.special.bos;
  const sep = opts.special.sep ?? opts.special.eos;
  if (cls === undefined || sep === undefined) throw new Error("special tokens need a 'cls' and a 'sep' (or 'bos' and 'eos') id");
  const minSeq = opts.sentencePairs ? 5 : 3;
  if (!Number.isInteger(opts.seq) || opts.seq < minSeq) throw new Error(`seq must be an integer >= ${minSeq}, got ${opts.seq}`);
  const kind = opts.sentencePairs;
  if (opts.documentMask && kind !== null) throw new Error(`internal error: a document mask needs packed examples, not ${kind} pairs`);
  const out = new RunExamples(store, cls, sep, kind !== null, opts.documentMask ?? false);
  if (kind === null) {
    pack(store, opts.seq - 2, out);
    return out;
  }
  // Documents a random B may come from (those with a sentence), and each one's place among them.
  const nonEmpty = new ChunkedArray((n) => new Uint32Array(n));
  for (let d = 0; d < store.documents; d++) {
    const { first, end } = store.documentSentences(d);
    if (end > first) {
      nonEmpty.push(d);
    }
  }
  for (let rank = 0; rank < nonEmpty.length; rank++) {
    const d = nonEmpty.get(rank);
    const rng = createRng(seedFrom(opts.seed, "examples", d));
    // A document other than d, uniformly: skip over d's own place in `nonEmpty`.
    const other = (): number => {
      const k = rng.int(nonEmpty.length - 1);
      return nonEmpty.get(k >= rank ? k + 1 : k);
    };
    pairsFromDocument(store, d, kind, opts.seq - 3, rng, other, nonEmpty.length > 1, out);
  }
  return out;
}

/** Documents → examples in one call: tokenizes them into a store and builds every example. */
export function buildExamples(documents: Iterable<Document>, encode: (text: string) => Encoding, opts: ExampleOptions): Example[] {
  return firstExamples(examplesOf(tokenizeDocuments(documents, encode, 2 ** 32), opts), Infinity);
}

/** The first `count` examples (all, when there are fewer), built. */
export function firstExamples(examples: Examples, count: number): Example[] {
  return Array.from({ length: Math.min(count, examples.length) }, (_, i) => examples.get(i));
}

/** Encodes each document's sentences into a new {@link TokenStore}. */
export function tokenizeDocuments(documents: Iterable<Document>, encode: (text: string) => Encoding, vocabSize: number): TokenStore {
  const store = new TokenStoreBuilder(vocabSize);
  for (const doc of documents) store.addDocument(doc.sentences.map(encode));
  return store;
}

/**
 * The documents of both sides of a held-out split (`held[i]` 1: document i is held out),
 * encoded into a store each in one pass over them.
 */
export function tokenizeSplit(
  documents: Iterable<Document>,
  held: Uint8Array,
  encode: (text: string) => Encoding,
  vocabSize: number,
): { train: TokenStore; heldOut: TokenStore } {
  const train = new TokenStoreBuilder(vocabSize);
  const heldOut = new TokenStoreBuilder(vocabSize);
  let i = 0;
  for (const doc of documents) (held[i++] ? heldOut : train).addDocument(doc.sentences.map(encode));
  return { train, heldOut };
}

const length = (s: Span): number => s.end - s.start;

/** BERT's truncate_seq_pair: trim the longer side, from the front or back at random, until both fit. */
function truncatePair(a: Span, b: Span, maxTokens: number, rng: Rng): [Span, Span] {
  let [aStart, aEnd, bStart, bEnd] = [a.start, a.end, b.start, b.end];
  while (aEnd - aStart + (bEnd - bStart) > maxTokens) {
    const trimA = aEnd - aStart > bEnd - bStart;
    const front = rng() < 0.5;
    if (trimA) {
      if (front) aStart++;
      else aEnd--;
    } else if (front) bStart++;
    else bEnd--;
  }
  return [
    { start: aStart, end: aEnd },
    { start: bStart, end: bEnd },
  ];
}

function pairsFromDocument(
  store: TokenStore,
  d: number,
  kind: SentencePairObjective,
  maxTokens: number,
  rng: Rng,
  /** A uniformly chosen other document; only called when `hasOthers`. */
  randomDocument: () => number,
  hasOthers: boolean,
  out: RunExamples,
): void {
  const target = maxTokens;
  const { first, end } = store.documentSentences(d);
  /** The tokens of sentences [from, to) of the store, which are consecutive. */
  const sentences = (from: number, to: number): Span => ({
    start: store.sentenceTokens(from).start,
    end: store.sentenceTokens(to - 1).end,
  });
  let chunkStart = first;
  let length_ = 0;
  for (let i = first; i < end; i++) {
    length_ += length(store.sentenceTokens(i));
    if (i !== end - 1 && length_ < target) continue;
    const chunkLength = i + 1 - chunkStart;

    if (kind === "nsp") {
      const aEnd = chunkStart + (chunkLength >= 2 ? 1 + rng.int(chunkLength - 1) : 1);
      const a = sentences(chunkStart, aEnd);
      let b: Span | undefined;
      let label = 0;
      if ((chunkLength === 1 || rng() < 0.5) && hasOthers) {
        label = 1;
        const targetB = target - length(a);
        const random = store.documentSentences(randomDocument());
        let lengthB = 0;
        const from = random.first + rng.int(random.end - random.first);
        let to = from;
        while (to < random.end) {
          lengthB += length(store.sentenceTokens(to++));
          if (lengthB >= targetB) break;
        }
        b = sentences(from, to);
        i = aEnd - 1; // the sentences not used for A are read again
      } else if (chunkLength >= 2) {
        b = sentences(aEnd, i + 1);
      }
      if (b) {
        const [ta, tb] = truncatePair(a, b, maxTokens, rng);
        out.add([ta, tb], label);
      }
    } else {
      let a: Span | undefined;
      let b: Span | undefined;
      if (chunkLength >= 2) {
        const aEnd = chunkStart + 1 + rng.int(chunkLength - 1);
        a = sentences(chunkStart, aEnd);
        b = sentences(aEnd, i + 1);
      } else {
        const s = store.sentenceTokens(chunkStart);
        const boundaries: number[] = [];
        for (let p = s.start + 1; p < s.end; p++) if (store.startsWord(p)) boundaries.push(p);
        if (boundaries.length > 0) {
          const p = boundaries[rng.int(boundaries.length)]!;
          a = { start: s.start, end: p };
          b = { start: p, end: s.end };
        }
      }
      if (a && b) {
        const [ta, tb] = truncatePair(a, b, maxTokens, rng);
        const swap = rng() < 0.5;
        if (swap) out.add([tb, ta], 1);
        else out.add([ta, tb], 0);
      }
    }
    chunkStart = i + 1;
    length_ = 0;
  }
}

/** RoBERTa FULL-SENTENCES: [CLS] s1 s2 … [SEP] [doc sep] … [SEP], at most maxTokens between the outer two. */
function pack(store: TokenStore, maxTokens: number, out: RunExamples): void {
  let runs: Span[] = [];
  /** Tokens between [CLS] and the closing [SEP]: the runs and the separators between them. */
  let content = 0;
  const flush = () => {
    if (content === 0) return;
    out.add(runs);
    runs = [];
    content = 0;
  };
  for (let d = 0; d < store.documents; d++) {
    const { first, end } = store.documentSentences(d);
    if (end === first) continue;
    let docSep = content > 0; // a separator before this document, unless it opens an example
    for (let s = first; s < end; s++) {
      const sentence = store.sentenceTokens(s);
      for (let start = sentence.start; start < sentence.end; start += maxTokens) {
        const pieceEnd = Math.min(sentence.end, start + maxTokens);
        if (content + (pieceEnd - start) + (docSep ? 1 : 0) > maxTokens) {
          flush();
          docSep = false;
        }
        if (docSep || runs.length === 0) {
          if (docSep) content++;
          runs.push({ start, end: pieceEnd });
        } else {
          // The piece follows the last one in the same document: the run grows.
          runs[runs.length - 1]!.end = pieceEnd;
        }
        docSep = false;
        content += pieceEnd - start;
      }
    }
  }
  flush();
}
