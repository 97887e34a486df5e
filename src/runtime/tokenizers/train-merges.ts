/**
 * Merge training, shared by byte-level BPE and WordPiece (as Hugging Face's `BpeTrainer` and
 * `WordPieceTrainer`, which is a `BpeTrainer` with a continuation prefix):
 *
 * 1. The alphabet: every character of the corpus words plus `initialAlphabet` (byte-level BPE
 *    passes all 256 byte symbols), in code point order (no `limit_alphabet`). With a prefix
 *    (`##`), also `##c` for each character that occurs inside a word, in code point order.
 * 2. Each distinct word is a sequence of symbols (`w`, `##o`, `##r`, `##d` with a prefix).
 * 3. Repeatedly merge the adjacent pair with the highest count (count = sum of the counts of
 *    the words it occurs in, once per occurrence); the new symbol is the left one followed by
 *    the right one without its prefix. Ties go to the pair whose left symbol, then right symbol,
 *    comes first in UTF-16 code unit order — the documented rule that makes training
 *    deterministic. A merge whose result is already a token adds no token (but is still a merge).
 *    Stops when there are `target` tokens, or when no pair is left (every word is one symbol).
 *
 * Pair counts are updated incrementally (only the words containing the merged pair are
 * revisited) with a lazily cleaned max-heap, as in Hugging Face's trainer.
 */

export interface MergeTraining {
  /** Learned tokens in id order: the alphabet, continuation symbols, then merge results (none reserved). */
  tokens: string[];
  /** Merges in rank order. */
  merges: [string, string][];
  /** How many tokens the alphabet (with continuation symbols) takes. */
  alphabetSize: number;
}

/** Code point order for single characters. */
function byCodePoint(a: string, b: string): number {
  return a.codePointAt(0)! - b.codePointAt(0)!;
}

interface HeapEntry {
  count: number;
  a: number;
  b: number;
}

/** Pair key: token ids stay below 2^21 (a vocab of two million). */
const KEY = 2 ** 21;

export function trainMerges(
  words: Map<string, number>,
  options: { target: number; prefix: string; initialAlphabet?: Iterable<string>; reserved?: Set<string> },
): MergeTraining {
  const { target, prefix } = options;
  const reserved = options.reserved ?? new Set<string>();
  // Symbols; a reserved one (a special token's text) can be merged into but is not learned.
  const tokens: string[] = [];
  const index = new Map<string, number>();
  let learned = 0;
  const add = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = tokens.length;
      tokens.push(s);
      index.set(s, i);
      if (!reserved.has(s)) learned++;
    }
    return i;
  };
  const result = (alphabetSize: number, merges: [string, string][]): MergeTraining => ({
    tokens: tokens.filter((t) => !reserved.has(t)),
    merges,
    alphabetSize,
  });

  const chars = new Set<string>(options.initialAlphabet ?? []);
  const inner = new Set<string>();
  for (const word of words.keys()) {
    let first = true;
    for (const ch of word) {
      chars.add(ch);
      if (!first) inner.add(ch);
      first = false;
    }
  }
  for (const ch of [...chars].sort(byCodePoint)) add(ch);
  if (prefix !== "") for (const ch of [...inner].sort(byCodePoint)) add(prefix + ch);
  const alphabetSize = learned;
  const merges: [string, string][] = [];
  if (learned >= target) return result(alphabetSize, merges);

  // Words of two or more symbols (single symbols have no pairs to merge).
  const symbols: number[][] = [];
  const counts: number[] = [];
  for (const [word, count] of words) {
    const chs = [...word];
    if (chs.length < 2) continue;
    symbols.push(chs.map((ch, i) => index.get(i === 0 || prefix === "" ? ch : prefix + ch)!));
    counts.push(count);
  }

  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const noteWord = (key: number, w: number) => {
    const list = pairWords.get(key);
    if (list === undefined) pairWords.set(key, [w]);
    else if (list[list.length - 1] !== w) list.push(w);
  };
  symbols.forEach((syms, w) => {
    const c = counts[w]!;
    for (let i = 0; i + 1 < syms.length; i++) {
      const key = syms[i]! * KEY + syms[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + c);
      noteWord(key, w);
    }
  });

  // Max-heap on (count desc, left token asc, right token asc).
  const heap: HeapEntry[] = [];
  const before = (x: HeapEntry, y: HeapEntry): boolean => {
    if (x.count !== y.count) return x.count > y.count;
    if (x.a !== y.a) return tokens[x.a]! < tokens[y.a]!;
    return tokens[x.b]! < tokens[y.b]!;
  };
  const push = (e: HeapEntry) => {
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const pop = (): HeapEntry | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < heap.length && before(heap[l]!, heap[best]!)) best = l;
        if (r < heap.length && before(heap[r]!, heap[best]!)) best = r;
        if (best === i) break;
        [heap[i], heap[best]] = [heap[best]!, heap[i]!];
        i = best;
      }
    }
    return top;
  };
  for (const [key, count] of pairCount) push({ count, a: Math.floor(key / KEY), b: key % KEY });

  while (learned < target) {
    let top: HeapEntry | undefined;
    while ((top = pop()) !== undefined && pairCount.get(top.a * KEY + top.b) !== top.count);
    if (top === undefined) break; // nothing left to merge
    const { a, b } = top;
    const left = tokens[a]!;
    const right = tokens[b]!;
    const n = add(left + (prefix !== "" && right.startsWith(prefix) ? right.slice(prefix.length) : right));
    merges.push([left, right]);
    const mergedKey = a * KEY + b;
    const delta = new Map<number, number>();
    for (const w of pairWords.get(mergedKey) ?? []) {
      const syms = symbols[w]!;
      const out: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(n);
          i++;
        } else {
          out.push(syms[i]!);
        }
      }
      if (out.length === syms.length) continue; // a stale entry: the pair is gone from this word
      const c = counts[w]!;
      for (let i = 0; i + 1 < syms.length; i++) {
        const key = syms[i]! * KEY + syms[i + 1]!;
        delta.set(key, (delta.get(key) ?? 0) - c);
      }
      for (let i = 0; i + 1 < out.length; i++) {
        const key = out[i]! * KEY + out[i + 1]!;
        delta.set(key, (delta.get(key) ?? 0) + c);
        if (out[i] === n || out[i + 1] === n) noteWord(key, w);
      }
      symbols[w] = out;
    }
    for (const [key, d] of delta) {
      if (d === 0) continue;
      const count = (pairCount.get(key) ?? 0) + d;
      if (count > 0) {
        pairCount.set(key, count);
        push({ count, a: Math.floor(key / KEY), b: key % KEY });
      } else {
        pairCount.delete(key);
      }
    }
    pairCount.delete(mergedKey);
    pairWords.delete(mergedKey);
  }
  return result(alphabetSize, merges);
}
