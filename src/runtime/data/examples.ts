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
 */
import type { ResolvedModel, SentencePairObjective } from "../../model/model.js";
import { createRng, seedFrom, type Rng } from "./random.js";
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
}

/** Which sentence-pair objective a model trains: `nsp`, `sop`, or null (pack full sentences). */
export function sentencePairsFor(model: Pick<ResolvedModel, "objectives">): SentencePairs {
  const nsp = model.objectives.some((o) => o.name === "nsp");
  const sop = model.objectives.some((o) => o.name === "sop");
  if (nsp && sop) throw new Error("'nsp' and 'sop' build sentence pairs in incompatible ways; a model trains one of them");
  return nsp ? "nsp" : sop ? "sop" : null;
}

/** A run of tokens with corpus-wide unique word ids. */
interface Span {
  ids: number[];
  words: number[];
}

export function buildExamples(documents: Document[], encode: (text: string) => Encoding, opts: ExampleOptions): Example[] {
  const cls = opts.special.cls ?? opts.special.bos;
  const sep = opts.special.sep ?? opts.special.eos;
  if (cls === undefined || sep === undefined) throw new Error("special tokens need a 'cls' and a 'sep' (or 'bos' and 'eos') id");
  const minSeq = opts.sentencePairs ? 5 : 3;
  if (!Number.isInteger(opts.seq) || opts.seq < minSeq) throw new Error(`seq must be an integer >= ${minSeq}, got ${opts.seq}`);
  const docs = encodeDocuments(documents, encode);
  const kind = opts.sentencePairs;
  if (kind === null) return pack(docs, opts.seq - 2, cls, sep);
  // Documents a random B may come from (those with a sentence), and each one's place among them.
  const nonEmpty = docs.flatMap((doc, d) => (doc.length > 0 ? [d] : []));
  const out: Example[] = [];
  nonEmpty.forEach((d, rank) => {
    const rng = createRng(seedFrom(opts.seed, "examples", d));
    // A document other than d, uniformly: skip over d's own place in `nonEmpty`.
    const other = (): Span[] => {
      const k = rng.int(nonEmpty.length - 1);
      return docs[nonEmpty[k >= rank ? k + 1 : k]!]!;
    };
    pairsFromDocument(docs[d]!, kind, opts.seq - 3, rng, other, nonEmpty.length > 1, cls, sep, out);
  });
  return out;
}

/** Encode every sentence once; drop empty ones; give every word in the corpus its own id. */
function encodeDocuments(documents: Document[], encode: (text: string) => Encoding): Span[][] {
  let nextWord = 0;
  return documents.map((doc) => {
    const sentences: Span[] = [];
    for (const text of doc.sentences) {
      const enc = encode(text);
      if (enc.ids.length === 0) continue;
      const local = new Map<number, number>();
      const words = enc.ids.map((_, i) => {
        const w = enc.words[i];
        if (w === undefined || w < 0) return nextWord++; // a token from no word: its own unit
        let g = local.get(w);
        if (g === undefined) local.set(w, (g = nextWord++));
        return g;
      });
      sentences.push({ ids: [...enc.ids], words });
    }
    return sentences;
  });
}

function concat(spans: Span[]): Span {
  return { ids: spans.flatMap((s) => s.ids), words: spans.flatMap((s) => s.words) };
}

function slice(s: Span, start: number, end: number): Span {
  return { ids: s.ids.slice(start, end), words: s.words.slice(start, end) };
}

class ExampleWriter {
  readonly ids: number[] = [];
  readonly words: number[] = [];
  readonly tokenTypes: number[] = [];
  private readonly renumber = new Map<number, number>();

  special(id: number, type: number): void {
    this.ids.push(id);
    this.words.push(-1);
    this.tokenTypes.push(type);
  }

  span(s: Span, type: number): void {
    for (let i = 0; i < s.ids.length; i++) {
      const g = s.words[i]!;
      let w = this.renumber.get(g);
      if (w === undefined) this.renumber.set(g, (w = this.renumber.size));
      this.ids.push(s.ids[i]!);
      this.words.push(w);
      this.tokenTypes.push(type);
    }
  }

  get length(): number {
    return this.ids.length;
  }

  example(sentenceLabel?: number): Example {
    const ex: Example = { ids: this.ids, words: this.words, tokenTypes: this.tokenTypes };
    if (sentenceLabel !== undefined) ex.sentenceLabel = sentenceLabel;
    return ex;
  }
}

function pairExample(a: Span, b: Span, label: number, cls: number, sep: number): Example {
  const w = new ExampleWriter();
  w.special(cls, 0);
  w.span(a, 0);
  w.special(sep, 0);
  w.span(b, 1);
  w.special(sep, 1);
  return w.example(label);
}

/** BERT's truncate_seq_pair: trim the longer side, from the front or back at random, until both fit. */
function truncatePair(a: Span, b: Span, maxTokens: number, rng: Rng): [Span, Span] {
  let [aStart, aEnd, bStart, bEnd] = [0, a.ids.length, 0, b.ids.length];
  while (aEnd - aStart + (bEnd - bStart) > maxTokens) {
    const trimA = aEnd - aStart > bEnd - bStart;
    const front = rng() < 0.5;
    if (trimA) {
      if (front) aStart++;
      else aEnd--;
    } else if (front) bStart++;
    else bEnd--;
  }
  return [slice(a, aStart, aEnd), slice(b, bStart, bEnd)];
}

function pairsFromDocument(
  doc: Span[],
  kind: SentencePairObjective,
  maxTokens: number,
  rng: Rng,
  /** A uniformly chosen other document; only called when `hasOthers`. */
  randomDocument: () => Span[],
  hasOthers: boolean,
  cls: number,
  sep: number,
  out: Example[],
): void {
  const target = maxTokens;
  let chunk: Span[] = [];
  let length = 0;
  for (let i = 0; i < doc.length; i++) {
    const sentence = doc[i]!;
    chunk.push(sentence);
    length += sentence.ids.length;
    if (i !== doc.length - 1 && length < target) continue;

    if (kind === "nsp") {
      const aEnd = chunk.length >= 2 ? 1 + rng.int(chunk.length - 1) : 1;
      const a = concat(chunk.slice(0, aEnd));
      let b: Span | undefined;
      let label = 0;
      if ((chunk.length === 1 || rng() < 0.5) && hasOthers) {
        label = 1;
        const targetB = target - a.ids.length;
        const random = randomDocument();
        const parts: Span[] = [];
        let lengthB = 0;
        for (let j = rng.int(random.length); j < random.length; j++) {
          parts.push(random[j]!);
          lengthB += random[j]!.ids.length;
          if (lengthB >= targetB) break;
        }
        b = concat(parts);
        i -= chunk.length - aEnd; // the sentences not used for A are read again
      } else if (chunk.length >= 2) {
        b = concat(chunk.slice(aEnd));
      }
      if (b) {
        const [ta, tb] = truncatePair(a, b, maxTokens, rng);
        out.push(pairExample(ta, tb, label, cls, sep));
      }
    } else {
      let a: Span | undefined;
      let b: Span | undefined;
      if (chunk.length >= 2) {
        const aEnd = 1 + rng.int(chunk.length - 1);
        a = concat(chunk.slice(0, aEnd));
        b = concat(chunk.slice(aEnd));
      } else {
        const s = chunk[0]!;
        const boundaries: number[] = [];
        for (let p = 1; p < s.ids.length; p++) if (s.words[p] !== s.words[p - 1]) boundaries.push(p);
        if (boundaries.length > 0) {
          const p = boundaries[rng.int(boundaries.length)]!;
          a = slice(s, 0, p);
          b = slice(s, p, s.ids.length);
        }
      }
      if (a && b) {
        const [ta, tb] = truncatePair(a, b, maxTokens, rng);
        const swap = rng() < 0.5;
        out.push(swap ? pairExample(tb, ta, 1, cls, sep) : pairExample(ta, tb, 0, cls, sep));
      }
    }
    chunk = [];
    length = 0;
  }
}

/** RoBERTa FULL-SENTENCES: [CLS] s1 s2 … [SEP] [doc sep] … [SEP], at most maxTokens between the outer two. */
function pack(docs: Span[][], maxTokens: number, cls: number, sep: number): Example[] {
  const out: Example[] = [];
  let w = new ExampleWriter();
  w.special(cls, 0);
  const flush = () => {
    if (w.length <= 1) return;
    w.special(sep, 0);
    out.push(w.example());
    w = new ExampleWriter();
    w.special(cls, 0);
  };
  for (const doc of docs) {
    if (doc.length === 0) continue;
    let docSep = w.length > 1; // a separator before this document, unless it opens an example
    for (const sentence of doc) {
      for (let start = 0; start < sentence.ids.length; start += maxTokens) {
        const piece = slice(sentence, start, Math.min(sentence.ids.length, start + maxTokens));
        const content = w.length - 1;
        if (content + piece.ids.length + (docSep ? 1 : 0) > maxTokens) {
          flush();
          docSep = false;
        }
        if (docSep) w.special(sep, 0);
        docSep = false;
        w.span(piece, 0);
      }
    }
  }
  flush();
  return out;
}
