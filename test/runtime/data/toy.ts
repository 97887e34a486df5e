/**
 * Test helpers: a toy whitespace tokenizer whose words split into 1–3 tokens, every token
 * id unique in the corpus (so a token id tells which word, sentence and document it came
 * from), and synthetic documents.
 */
import { createRng } from "../../../src/runtime/data/random.js";
import type { Document, Encoding } from "../../../src/runtime/data/types.js";

export const SPECIAL = { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 } as const;
const SURFACE = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

export interface ToyTokenizer {
  encode(text: string): Encoding;
  idToToken(id: number): string;
  /** The word (surface text) a token id came from. */
  wordOf(id: number): string | undefined;
  /** Ids seen so far, specials included. */
  size(): number;
}

/** Pieces per word: 1 + (a hash of the word) mod 3. */
function piecesOf(word: string): number {
  let h = 7;
  for (let i = 0; i < word.length; i++) h = (h * 31 + word.charCodeAt(i)) >>> 0;
  return 1 + (h % 3);
}

export function toyTokenizer(): ToyTokenizer {
  const tokens: string[] = [...SURFACE];
  const words: (string | undefined)[] = SURFACE.map(() => undefined);
  const ids = new Map<string, number>();
  const idOf = (token: string, word: string) => {
    let id = ids.get(token);
    if (id === undefined) {
      id = tokens.length;
      ids.set(token, id);
      tokens.push(token);
      words.push(word);
    }
    return id;
  };
  return {
    encode(text) {
      const out: Encoding = { ids: [], words: [] };
      text
        .split(/\s+/)
        .filter(Boolean)
        .forEach((word, k) => {
          const n = piecesOf(word);
          for (let j = 0; j < n; j++) {
            out.ids.push(idOf(j === 0 ? word : `##${word}#${j}`, word));
            out.words.push(k);
          }
        });
      return out;
    },
    idToToken: (id) => tokens[id] ?? `<${id}>`,
    wordOf: (id) => words[id],
    size: () => tokens.length,
  };
}

/** Documents d0…: sentences of `minWords`–`maxWords` words `d{d}s{s}w{k}` (unique in the corpus). */
export function syntheticDocuments(
  count: number,
  opts: { seed?: number; minSentences?: number; maxSentences?: number; minWords?: number; maxWords?: number } = {},
): Document[] {
  const { seed = 1, minSentences = 6, maxSentences = 14, minWords = 3, maxWords = 9 } = opts;
  const rng = createRng(seed);
  const docs: Document[] = [];
  for (let d = 0; d < count; d++) {
    const sentences: string[] = [];
    const s = minSentences + rng.int(maxSentences - minSentences + 1);
    for (let i = 0; i < s; i++) {
      const w = minWords + rng.int(maxWords - minWords + 1);
      sentences.push(Array.from({ length: w }, (_, k) => `d${d}s${i}w${k}`).join(" "));
    }
    docs.push({ id: `doc${d}`, sentences });
  }
  return docs;
}
