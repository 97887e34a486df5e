/**
 * Corpora for pre-training: the built-in `wordnet` corpus, plain-text files and JSONL files,
 * read into documents of sentences; plus a deterministic held-out split.
 *
 * Formats (chosen by the spec string):
 * - `wordnet`: documents of up to {@link SYNSETS_PER_DOCUMENT} consecutive WordNet synsets
 *   of one lexicographer file (e.g. `noun.animal`), in file order noun, verb, adj, adv. Each
 *   synset gives the sentence "its words: its definition", then its examples. A document's
 *   id is its first synset's `${pos}${offset}` (e.g. `n00001740`).
 *   The name always means the built-in corpus, even if a file called `wordnet` exists
 *   (write `./wordnet` for the file).
 * - a path ending `.jsonl`: one JSON object per non-blank line, `{"text": string, "id"?: string|number}`;
 *   the text is cut into sentences by {@link splitSentences}; id defaults to the line number.
 * - any other path: plain UTF-8 text. If the file has blank lines, each blank-line-separated
 *   block is a document whose lines are its sentences (a line holding several sentences is
 *   cut by {@link splitSentences}). Without blank lines, each line is one sentence and
 *   consecutive lines are grouped into documents of up to {@link LINES_PER_DOCUMENT}.
 *   Plain-text ids are the 1-based line number of the document's first line.
 */

import { jsonObjects } from "./json-lines.js";
import { FileReadError, readTextFile as readStrictTextFile } from "../../io/read-file.js";
import { textLines } from "./text-lines.js";
import type { Corpus, Document } from "./types.js";
import { loadWordNet, type Synset } from "./wordnet.js";

/** Bad corpus input. The message starts with the path or spec it is about. */
export class CorpusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CorpusError";
  }
}

/** Sentences per document when a plain-text file has no blank lines (one sentence per line). */
export const LINES_PER_DOCUMENT = 8;

/** The largest text file read whole: a JavaScript string holds at most 2^29 - 24 characters. */
export const MAX_TEXT_FILE_BYTES = 512 * 1024 * 1024 - 64;

/**
 * Reads a UTF-8 text file for a loader, turning the ways it can be unusable into `makeError`
 * errors whose message starts with the path: missing, not a regular file, unreadable, too
 * large, or not strict UTF-8 text (a NUL byte or an invalid sequence, with its line and
 * column). A leading BOM is removed and CRLF/CR line ends become LF. Emptiness is left to
 * the caller (each format decides what empty is).
 */
export function readTextFile(path: string, makeError: (message: string) => Error): string {
  let text: string;
  try {
    text = readStrictTextFile(path, MAX_TEXT_FILE_BYTES);
  } catch (e) {
    if (e instanceof FileReadError) throw makeError(e.message);
    throw e;
  }
  return text.replace(/\r\n?/g, "\n");
}

/**
 * A deliberately simple sentence splitter: cuts after `.`, `!` or `?` (optionally followed
 * by closing quotes or brackets) when whitespace and then an uppercase letter or an opening
 * quote follow. So "It rained. Then it stopped." is two sentences, "e.g. this" is one; an
 * abbreviation before a capital ("Dr. Smith") is cut. Whitespace is collapsed around pieces;
 * empty pieces are dropped.
 */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?]["'”’)\]]*)\s+(?=[\p{Lu}"'“‘])/u)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Synsets per `wordnet` document. A lexicographer file lists related synsets next to each
 * other (the breeds of dog, then other canines…), so a run of them reads as a short text on
 * one topic. One synset alone is a gloss of about 20 tokens: its segment pairs would be
 * mostly padding, and NSP would learn "a short document gets a random B" (BERT always pairs
 * a one-sentence document with a random sentence) instead of what follows what.
 */
export const SYNSETS_PER_DOCUMENT = 8;

/** "dog, domestic dog, Canis familiaris: a member of the genus Canis …", then the examples. */
function synsetSentences(s: Synset): string[] {
  const clean = (t: string) => t.replace(/"/g, "").trim();
  const definition = clean(s.definition);
  const head = definition.length > 0 ? [s.words.length > 0 ? `${s.words.join(", ")}: ${definition}` : definition] : [];
  return [...head, ...s.examples.map(clean)].filter((t) => t.length > 0);
}

function wordnetDocuments(): Document[] {
  const documents: Document[] = [];
  let open: { lexname: string; synsets: number; document: Document } | null = null;
  for (const s of loadWordNet()) {
    const sentences = synsetSentences(s);
    if (sentences.length === 0) continue;
    if (open === null || open.lexname !== s.lexname || open.synsets === SYNSETS_PER_DOCUMENT) {
      open = { lexname: s.lexname, synsets: 0, document: { id: `${s.pos}${s.offset}`, sentences: [] } };
      documents.push(open.document);
    }
    open.synsets++;
    open.document.sentences.push(...sentences);
  }
  return documents;
}

/** The lines of a corpus file as it is read (never the whole file in memory). */
function* lineTexts(path: string): Generator<string> {
  for (const { text } of textLines(path, (m) => new CorpusError(m))) yield text;
}

function* jsonlDocuments(path: string): Generator<Document> {
  for (const { value: obj, at, line } of jsonObjects(
    lineTexts(path),
    path,
    (m) => new CorpusError(m),
    'a JSON object with a "text" string',
  )) {
    if (!("text" in obj))
      throw new CorpusError(`${at}: the object has no "text" field (found: ${Object.keys(obj).join(", ") || "no fields"})`);
    if (typeof obj.text !== "string") throw new CorpusError(`${at}: "text" must be a string, got ${typeof obj.text}`);
    let id = String(line);
    if (obj.id !== undefined) {
      if (typeof obj.id !== "string" && typeof obj.id !== "number") throw new CorpusError(`${at}: "id" must be a string or number`);
      id = String(obj.id);
    }
    const sentences = splitSentences(obj.text);
    if (sentences.length > 0) yield { id, sentences };
  }
}

const isBlank = (l: string): boolean => l.trim() === "";

/** Whether a blank line separates two non-blank lines (leading and trailing blank lines don't count): a first pass over the file. */
function hasSeparatingBlankLines(path: string): boolean {
  let seenText = false;
  let blankAfterText = false;
  for (const line of lineTexts(path)) {
    if (isBlank(line)) blankAfterText ||= seenText;
    else if (blankAfterText) return true;
    else seenText = true;
  }
  return false;
}

/**
 * The documents of a plain-text file, in order. `hasBlankLines` is the file's layout
 * ({@link hasSeparatingBlankLines}), found by a pass of its own.
 */
function* plainTextDocuments(path: string, hasBlankLines: boolean): Generator<Document> {
  let current: Document | undefined;
  for (const { text: line, line: number } of textLines(path, (m) => new CorpusError(m))) {
    if (hasBlankLines) {
      if (isBlank(line)) {
        if (current && current.sentences.length > 0) yield current;
        current = undefined;
        continue;
      }
      current ??= { id: String(number), sentences: [] };
      current.sentences.push(...splitSentences(line));
    } else {
      const sentence = line.trim();
      if (!sentence) continue;
      if (current && current.sentences.length >= LINES_PER_DOCUMENT) {
        yield current;
        current = undefined;
      }
      current ??= { id: String(number), sentences: [] };
      current.sentences.push(sentence);
    }
  }
  if (current && current.sentences.length > 0) yield current;
}

/**
 * Opens a corpus: `wordnet` (built in) or a file path (`.jsonl`, else plain text); see the
 * module comment for the formats. The file is read through once here, so that a missing
 * file, a directory, binary content, a bad JSONL line (with its line number) or a corpus
 * without sentences is a {@link CorpusError} before anything starts; its documents are then
 * read again, a chunk at a time, each time they are asked for.
 */
export function loadCorpus(spec: string): Corpus {
  let corpus: Corpus;
  if (spec === "wordnet") {
    const documents = wordnetDocuments();
    corpus = { name: spec, documents: () => documents };
  } else if (spec.toLowerCase().endsWith(".jsonl")) {
    corpus = { name: spec, documents: () => jsonlDocuments(spec) };
  } else {
    const hasBlankLines = hasSeparatingBlankLines(spec);
    corpus = { name: spec, documents: () => plainTextDocuments(spec, hasBlankLines) };
  }
  if (countSentences(corpus) === 0) throw new CorpusError(`${spec}: the corpus is empty (no sentences found)`);
  return corpus;
}

/** The number of sentences in a corpus. */
export function countSentences(corpus: Corpus): number {
  let n = 0;
  for (const d of corpus.documents()) n += d.sentences.length;
  return n;
}

/**
 * Throws a {@link CorpusError} "corpus X has only N sentences; training needs at least M"
 * when the corpus is smaller than `minSentences`; `what` names the need (default
 * `training`). Returns the sentence count.
 */
export function requireSize(corpus: Corpus, minSentences: number, what = "training"): number {
  const n = countSentences(corpus);
  if (n < minSentences) {
    throw new CorpusError(`corpus ${corpus.name} has only ${n} sentence${n === 1 ? "" : "s"}; ${what} needs at least ${minSentences}`);
  }
  return n;
}

/** 32-bit FNV-1a over the UTF-8 bytes of `text`. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(text, "utf8");
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The position in [0, 1) that decides a key's side of a split: FNV-1a of `${salt}:${key}`,
 * followed by a standard 32-bit finalizer (murmur3's fmix32) so that keys differing only in
 * their last characters (sequential ids such as line numbers) spread evenly.
 */
export function splitPosition(key: string, salt: string): number {
  let h = fnv1a(`${salt}:${key}`);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/**
 * Which side of a split each position falls on (1 = held out): a position below `fraction`
 * is held out. With at least 2 positions each side gets at least one: if the hash leaves a
 * side empty, the smallest (largest) position moves over — the only case where the others
 * matter.
 */
function splitSides(positions: readonly number[], fraction: number): Uint8Array {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`held-out fraction must be between 0 and 1 (exclusive), got ${fraction}`);
  const held = Uint8Array.from(positions, (p) => (p < fraction ? 1 : 0));
  if (positions.length >= 2) {
    const extreme = (want: number, better: (a: number, b: number) => boolean): number => {
      let best = -1;
      for (let i = 0; i < positions.length; i++) if (held[i] === want && (best < 0 || better(positions[i]!, positions[best]!))) best = i;
      return best;
    };
    if (!held.includes(1)) held[extreme(0, (a, b) => a < b)] = 1;
    else if (!held.includes(0)) held[extreme(1, (a, b) => a > b)] = 0;
  }
  return held;
}

/**
 * Splits items by a hash of each item's key: an item goes to `heldOut` iff its position
 * ({@link splitPosition}) is below `fraction`, so its side never depends on the other items
 * or their order (but for the one case {@link splitSides} names). Items keep their input
 * order on both sides.
 */
export function hashSplit<T>(items: readonly T[], key: (item: T) => string, fraction: number, salt: string): { train: T[]; heldOut: T[] } {
  const held = splitSides(
    items.map((item) => splitPosition(key(item), salt)),
    fraction,
  );
  const train: T[] = [];
  const heldOut: T[] = [];
  items.forEach((item, i) => (held[i] ? heldOut : train).push(item));
  return { train, heldOut };
}

/**
 * The deterministic held-out split of a corpus's documents: a document is held out iff the
 * hash of `${salt}:${doc.id}` falls below `fraction` (default 1%); see {@link hashSplit}.
 * At least one document is held out (and one kept) when there are 2 or more.
 */
export function splitHeldOut(documents: readonly Document[], fraction = 0.01, salt = "bdl"): { train: Document[]; heldOut: Document[] } {
  return hashSplit(documents, (d) => d.id, fraction, salt);
}

/**
 * The same split as {@link splitHeldOut} for a corpus read as a stream: which documents, by
 * their place in the corpus, are held out (1) or trained on (0). It costs one pass over the
 * corpus and 9 bytes a document.
 */
export function heldOutFlags(corpus: Corpus, fraction = 0.01, salt = "bdl"): Uint8Array {
  const positions: number[] = [];
  for (const d of corpus.documents()) positions.push(splitPosition(d.id, salt));
  return splitSides(positions, fraction);
}

/** How many documents a split made by {@link heldOutFlags} trains on. */
export function trainingDocuments(held: Uint8Array): number {
  return held.length - held.reduce((n, h) => n + h, 0);
}

/** The documents of one side of a split made by {@link heldOutFlags}, read from the corpus in order. */
export function* documentsOnSide(corpus: Corpus, held: Uint8Array, side: "train" | "heldOut"): Generator<Document> {
  const want = side === "heldOut" ? 1 : 0;
  let i = 0;
  for (const d of corpus.documents()) if (held[i++] === want) yield d;
}

/** The sentences of some documents, one after another. */
export function* sentencesOf(documents: Iterable<Document>): Generator<string> {
  for (const d of documents) yield* d.sentences;
}
