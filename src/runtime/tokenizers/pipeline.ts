/**
 * From text to pre-tokenized words, the way Hugging Face tokenizers do it, using the
 * normalizers and pre-tokenizers of `@huggingface/tokenizers` (the reference JavaScript
 * implementation of tokenizer.json) for the per-component work:
 *
 * 1. added (special) tokens are cut out of the raw text, longest match first, honouring
 *    `lstrip`/`rstrip` (whitespace next to the token is dropped);
 * 2. each remaining section is normalized, then cut again at added tokens whose `normalized`
 *    is true;
 * 3. each piece is pre-tokenized into words. A `Metaspace` pre-tokenizer with `split` (the
 *    default) yields one word per `▁`-initial run, as the Rust library does; the JavaScript one
 *    leaves the section whole, which tokenizes the same as long as no piece has a `▁` inside it
 *    (true of SentencePiece vocabularies, ours included) but loses the word boundaries
 *    whole-word masking needs.
 *
 * This mirrors `Tokenizer.encode_text` of `@huggingface/tokenizers` step for step, so that
 * encoding word by word gives the ids it gives, plus the word each id came from.
 */
import { HfSequenceNormalizer, HfSequencePreTokenizer, type LibNormalizer, type LibPreTokenizer } from "./hf-lib.js";

/** An entry of tokenizer.json's `added_tokens`. */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

/** A stretch of input: an added token, or the words of the text between added tokens. */
export type Segment = { added: AddedTokenJson } | { words: string[] };

/** A normalizer built by `@huggingface/tokenizers` from a tokenizer.json `normalizer` (null: none). */
export function makeNormalizer(config: unknown): LibNormalizer | null {
  if (config === null || config === undefined) return null;
  return new HfSequenceNormalizer({ type: "Sequence", normalizers: [config] });
}

/** A pre-tokenizer built by `@huggingface/tokenizers` from a tokenizer.json `pre_tokenizer` (null: none). */
export function makePreTokenizer(config: unknown): LibPreTokenizer | null {
  if (config === null || config === undefined) return null;
  return new HfSequencePreTokenizer({ type: "Sequence", pretokenizers: [config] });
}

/**
 * The `▁` replacement when a pre-tokenizer config splits words at it (a `Metaspace` with
 * `split` not false, alone or last in a `Sequence`), else null.
 */
export function metaspaceSplit(config: unknown): string | null {
  if (config === null || typeof config !== "object") return null;
  const c = config as Record<string, unknown>;
  if (c.type === "Metaspace") {
    if (c.split === false) return null;
    return typeof c.replacement === "string" ? c.replacement : "\u2581";
  }
  if (c.type === "Sequence" && Array.isArray(c.pretokenizers) && c.pretokenizers.length > 0) {
    return metaspaceSplit(c.pretokenizers[c.pretokenizers.length - 1]);
  }
  return null;
}

/** Cuts `text` at dictionary words, longest match first, scanning left to right (UTF-16 units). */
class Splitter {
  private readonly root: TrieNode = new Map();

  constructor(words: string[]) {
    for (const word of words) {
      let node = this.root;
      for (let i = 0; i < word.length; i++) {
        const ch = word[i]!;
        let child = node.get(ch);
        if (child === undefined || typeof child === "string") {
          child = new Map();
          node.set(ch, child);
        }
        node = child;
      }
      node.set(END, word);
    }
  }

  get empty(): boolean {
    return this.root.size === 0;
  }

  split(text: string): string[] {
    if (this.empty) return [text];
    const out: string[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      let node: TrieNode = this.root;
      let match: string | undefined;
      for (let j = i; j < text.length; j++) {
        const next: TrieNode | string | undefined = node.get(text[j]!);
        if (next === undefined || typeof next === "string") break;
        node = next;
        const end = node.get(END);
        if (typeof end === "string") match = end;
      }
      if (match !== undefined) {
        if (i > start) out.push(text.slice(start, i));
        out.push(match);
        i += match.length;
        start = i;
      } else {
        i++;
      }
    }
    if (start < text.length) out.push(text.slice(start));
    return out;
  }
}

const END = "\u0000end";
type TrieNode = Map<string, TrieNode | string>;

/** Splits `word` before every `marker`, keeping the marker with what follows (`▁a▁b` → `▁a`, `▁b`). */
export function splitBefore(word: string, marker: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = word.indexOf(marker, 1); i > 0; i = word.indexOf(marker, i + marker.length)) {
    out.push(word.slice(start, i));
    start = i;
  }
  out.push(word.slice(start));
  return out;
}

export class Pipeline {
  private readonly unnormalized: Splitter;
  private readonly normalizedSplitter: Splitter;
  /** Added tokens by content, and by normalized content for `normalized` ones. */
  readonly added = new Map<string, AddedTokenJson>();

  constructor(
    private readonly normalizer: LibNormalizer | null,
    private readonly preTokenizer: LibPreTokenizer | null,
    addedTokens: AddedTokenJson[],
    private readonly metaspace: string | null,
  ) {
    const raw: string[] = [];
    const normalized: string[] = [];
    for (const token of addedTokens) {
      this.added.set(token.content, token);
      const isNormalized = token.normalized ?? !(token.special ?? false);
      if (isNormalized && normalizer !== null) {
        const content = normalizer.normalize(token.content);
        normalized.push(content);
        this.added.set(content, token);
      } else {
        raw.push(token.content);
      }
    }
    this.unnormalized = new Splitter(raw);
    this.normalizedSplitter = new Splitter(normalized);
  }

  /** Normalized text (no added-token handling); what the tokenizer's normalizer makes of `text`. */
  normalize(text: string): string {
    return this.normalizer === null ? text : this.normalizer.normalize(text);
  }

  segments(text: string): Segment[] {
    const out: Segment[] = [];
    const sections = this.unnormalized.split(text);
    this.strip(sections);
    sections.forEach((section, sectionIndex) => {
      if (section.length === 0) return;
      const token = this.added.get(section);
      if (token !== undefined) {
        out.push({ added: token });
        return;
      }
      const normalized = this.normalize(section);
      if (normalized.length === 0) return;
      const pieces = this.normalizedSplitter.split(normalized);
      this.strip(pieces);
      for (const piece of pieces) {
        if (piece.length === 0) continue;
        const inner = this.added.get(piece);
        if (inner !== undefined) {
          out.push({ added: inner });
          continue;
        }
        let words = this.preTokenizer === null ? [piece] : this.preTokenizer.pre_tokenize(piece, { section_index: sectionIndex });
        if (this.metaspace !== null) words = words.flatMap((w) => splitBefore(w, this.metaspace!));
        out.push({ words: words.filter((w) => w.length > 0) });
      }
    });
    return out;
  }

  /** Drops whitespace beside added tokens that ask for it (`lstrip`: before, `rstrip`: after). */
  private strip(parts: string[]): void {
    parts.forEach((part, i) => {
      const token = this.added.get(part);
      if (token === undefined) return;
      if (token.lstrip && i > 0) parts[i - 1] = parts[i - 1]!.trimEnd();
      if (token.rstrip && i < parts.length - 1) parts[i + 1] = parts[i + 1]!.trimStart();
    });
  }
}
