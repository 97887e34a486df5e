/**
 * Tokenized documents in compact typed arrays: what a corpus becomes before examples are
 * cut from it, built while the corpus is read so that no document's text is kept.
 *
 * A token costs 3 bytes (a 16-bit id and a word-start byte) while the vocabulary fits in 16
 * bits, 5 bytes otherwise, where JavaScript arrays of ids and word indices cost 16 or more,
 * plus the sentence strings they came from: a 500 MB text corpus held as strings and number
 * arrays took several GB. Arrays grow in fixed chunks, so growing never copies what is
 * already stored (a doubling array would briefly need three times its size).
 *
 * Layout: tokens sentence after sentence, document after document. A sentence that encodes
 * to no token is not stored; a document may have no sentences (it keeps its index, which
 * seeds its examples' randomness).
 */
import type { Encoding } from "./types.js";

const CHUNK_BITS = 20;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;
/** Token and sentence offsets are 32-bit: about 4 billion tokens, some 16 GB of text. */
const MAX_OFFSET = 2 ** 32 - 1;

type Chunk = Uint8Array | Uint16Array | Uint32Array;

/** An append-only array of unsigned integers stored in fixed-size typed-array chunks. */
export class ChunkedArray {
  private readonly chunks: Chunk[] = [];
  private size = 0;

  constructor(private readonly make: (length: number) => Chunk) {}

  get length(): number {
    return this.size;
  }

  push(value: number): void {
    const at = this.size & MASK;
    if (at === 0) this.chunks.push(this.make(CHUNK));
    this.chunks[this.chunks.length - 1]![at] = value;
    this.size++;
  }

  get(index: number): number {
    return this.chunks[index >>> CHUNK_BITS]![index & MASK]!;
  }

  /** Bytes held, counting the unused tail of the last chunk. */
  get bytes(): number {
    return this.chunks.reduce((n, c) => n + c.byteLength, 0);
  }
}

const uint8 = (n: number) => new Uint8Array(n);
const uint16 = (n: number) => new Uint16Array(n);
const uint32 = (n: number) => new Uint32Array(n);

/** Documents of sentences of tokens, read-only once built (see {@link TokenStoreBuilder}). */
export interface TokenStore {
  /** Documents stored, including those without sentences. */
  readonly documents: number;
  /** Token id at a token offset. */
  id(token: number): number;
  /** Whether the token at this offset begins a word (every sentence's first token does). */
  startsWord(token: number): boolean;
  /** The sentence offsets of document d: [first, end). */
  documentSentences(d: number): { first: number; end: number };
  /** The token offsets of sentence s: [start, end). */
  sentenceTokens(s: number): { start: number; end: number };
  /** Bytes held by the arrays. */
  readonly bytes: number;
}

/** Fills a {@link TokenStore} one document at a time. */
export class TokenStoreBuilder implements TokenStore {
  private readonly ids: ChunkedArray;
  private readonly wordStarts = new ChunkedArray(uint8);
  /** sentenceStarts[s] is sentence s's first token; one more entry marks the end. */
  private readonly sentenceStarts = new ChunkedArray(uint32);
  /** documentStarts[d] is document d's first sentence; one more entry marks the end. */
  private readonly documentStarts = new ChunkedArray(uint32);

  constructor(private readonly vocabSize: number) {
    this.ids = new ChunkedArray(vocabSize <= 0x10000 ? uint16 : uint32);
    this.sentenceStarts.push(0);
    this.documentStarts.push(0);
  }

  /**
   * Appends a document of encoded sentences. Tokens of one word are consecutive in an
   * encoding (every pre-tokenizer cuts text into words before their pieces), so a word is
   * stored as the flag on its first token; a token from no word is a word of its own.
   */
  addDocument(sentences: Iterable<Encoding>): void {
    for (const enc of sentences) {
      if (enc.ids.length === 0) continue;
      if (this.ids.length + enc.ids.length > MAX_OFFSET) throw new RangeError(`the corpus has more than ${MAX_OFFSET} tokens`);
      for (let i = 0; i < enc.ids.length; i++) {
        const id = enc.ids[i]!;
        if (!(id >= 0 && id < this.vocabSize)) throw new RangeError(`token id ${id} is outside the vocabulary of ${this.vocabSize}`);
        const w = enc.words[i];
        const starts = i === 0 || w === undefined || w < 0 || w !== enc.words[i - 1];
        this.ids.push(id);
        this.wordStarts.push(starts ? 1 : 0);
      }
      this.sentenceStarts.push(this.ids.length);
    }
    this.documentStarts.push(this.sentenceStarts.length - 1);
  }

  get documents(): number {
    return this.documentStarts.length - 1;
  }

  id(token: number): number {
    return this.ids.get(token);
  }

  startsWord(token: number): boolean {
    return this.wordStarts.get(token) === 1;
  }

  documentSentences(d: number): { first: number; end: number } {
    return { first: this.documentStarts.get(d), end: this.documentStarts.get(d + 1) };
  }

  sentenceTokens(s: number): { start: number; end: number } {
    return { start: this.sentenceStarts.get(s), end: this.sentenceStarts.get(s + 1) };
  }

  get bytes(): number {
    return this.ids.bytes + this.wordStarts.bytes + this.sentenceStarts.bytes + this.documentStarts.bytes;
  }
}
