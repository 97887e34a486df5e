/**
 * Unigram language-model training (Kudo 2018), as SentencePiece and Hugging Face's
 * `UnigramTrainer` do it, on `▁`-initial words with counts:
 *
 * 1. Seed vocabulary: every character, then every substring of 2..16 characters that occurs
 *    at least twice (counting word frequency), ranked by frequency × length (ties: UTF-16 code
 *    unit order), at most 1,000,000 pieces; initial score = log(frequency share). SentencePiece
 *    and Hugging Face find these with a suffix array over distinct words; counting substrings
 *    of the (short) words directly gives the same candidates, weighted by word frequency.
 * 2. EM, in rounds: two EM steps — E: expected piece counts by forward-backward over each
 *    word's lattice; M: drop pieces with expected count < 0.5, score the rest with the
 *    Bayesian (digamma) update `ψ(count) − ψ(total)` — then, while there are more than
 *    1.1 × the wanted pieces, prune: for each piece, the loss in likelihood if its Viterbi
 *    occurrences were re-segmented by its second-best segmentation; keep the pieces with the
 *    largest loss (single characters always stay), shrinking by at most 25% per round.
 * 3. Final vocabulary: every character of the corpus (a character the EM dropped gets the
 *    lowest score, plus 0.0001 per such character before it, as Hugging Face does), then the surviving pieces in their
 *    ranked order up to the wanted size; sorted by score (descending; ties: code unit order).
 *
 * A character with no live single-character piece is the unknown token in a lattice, scored
 * at the lowest score − 10 (as at encoding time).
 *
 * Lattices are built once, over the seed pieces (later vocabularies are subsets), as flat
 * typed arrays of edges (start, end, piece) in start order, so each EM step is a linear pass.
 */

export interface UnigramTraining {
  /** Learned pieces, best score first. Fewer than wanted when the corpus cannot supply them. */
  pieces: string[];
  /** Log probability of each piece. */
  scores: number[];
  /** Distinct characters of the corpus (all of them are in `pieces` when it is complete). */
  characters: number;
  /** Seed pieces: the most distinct pieces the corpus could give. */
  seeds: number;
}

export const MAX_PIECE_LENGTH = 16;
const SEED_SIZE = 1_000_000;
const SHRINKING_FACTOR = 0.75;
const SUB_ITERATIONS = 2;
const EXPECTED_FREQUENCY_THRESHOLD = 0.5;
const UNK_PENALTY = 10;
const MISSING_CHARACTER_PENALTY = 0.0001;

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** ψ(x), the digamma function (asymptotic series after shifting x to at least 7). */
export function digamma(x: number): number {
  let result = 0;
  while (x < 7) {
    result -= 1 / x;
    x += 1;
  }
  x -= 0.5;
  const xx = 1 / x;
  const xx2 = xx * xx;
  const xx4 = xx2 * xx2;
  result += Math.log(x) + xx2 / 24 - (7 / 960) * xx4 + (31 / 8064) * xx4 * xx2 - (127 / 30720) * xx4 * xx4;
  return result;
}

function logAddExp(x: number, y: number): number {
  if (x === -Infinity) return y;
  if (y === -Infinity) return x;
  return x > y ? x + Math.log1p(Math.exp(y - x)) : y + Math.log1p(Math.exp(x - y));
}

/** Checks the words cheaply, before training: how many seeds and characters the corpus gives. */
export function unigramSeedCounts(words: Map<string, number>): { seeds: number; characters: number } {
  const { seedStrings, characters } = seeds(words);
  return { seeds: seedStrings.length, characters: characters.length };
}

function seeds(words: Map<string, number>): { seedStrings: string[]; seedScores: number[]; characters: string[] } {
  const charCount = new Map<string, number>();
  const subCount = new Map<string, number>();
  for (const [word, count] of words) {
    const chars = [...word];
    for (let i = 0; i < chars.length; i++) {
      let s = chars[i]!;
      charCount.set(s, (charCount.get(s) ?? 0) + count);
      const end = Math.min(chars.length, i + MAX_PIECE_LENGTH);
      for (let j = i + 1; j < end; j++) {
        s += chars[j]!;
        subCount.set(s, (subCount.get(s) ?? 0) + count);
      }
    }
  }
  const characters = [...charCount.keys()].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const byChar = [...charCount].sort((x, y) => y[1] - x[1] || x[0].codePointAt(0)! - y[0].codePointAt(0)!);
  const subs: [string, number][] = [];
  for (const [s, count] of subCount) if (count >= 2) subs.push([s, count * [...s].length]);
  subs.sort((x, y) => y[1] - x[1] || compareStrings(x[0], y[0]));
  const all = [...byChar, ...subs.slice(0, Math.max(0, SEED_SIZE - byChar.length))];
  let total = 0;
  for (const [, score] of all) total += score;
  const logTotal = Math.log(total);
  return { seedStrings: all.map(([s]) => s), seedScores: all.map(([, score]) => Math.log(score) - logTotal), characters };
}

/**
 * Trains a unigram model with `target` pieces on `words` (`▁`-initial, with counts), never
 * learning a `reserved` string. Returns fewer pieces when the corpus cannot supply `target`
 * (none at all when it has more characters than `target`); the caller reports that.
 */
export function trainUnigram(words: Map<string, number>, target: number, reserved: Set<string> = new Set()): UnigramTraining {
  const { seedStrings, seedScores, characters } = seeds(words);
  const S = seedStrings.length;
  if (characters.length > target || S < target) {
    return { pieces: [], scores: [], characters: characters.length, seeds: S };
  }
  const seedId = new Map<string, number>();
  seedStrings.forEach((s, i) => seedId.set(s, i));
  const pieceLength = new Int32Array(S);
  seedStrings.forEach((s, i) => (pieceLength[i] = [...s].length));

  // Lattices: per word, edges (start, end, seed) in start order, then length order.
  const wordList = [...words.keys()];
  const W = wordList.length;
  const wordCount = new Float64Array(W);
  const wordLength = new Int32Array(W);
  const wordEdges = new Int32Array(W + 1);
  const starts: number[] = [];
  const ends: number[] = [];
  const pieceOf: number[] = [];
  /** One occurrence of each multi-character seed: word and start, to find its sub-lattice. */
  const occurrenceWord = new Int32Array(S).fill(-1);
  const occurrenceStart = new Int32Array(S);
  let maxLength = 0;
  wordList.forEach((word, w) => {
    wordCount[w] = words.get(word)!;
    const chars = [...word];
    wordLength[w] = chars.length;
    maxLength = Math.max(maxLength, chars.length);
    wordEdges[w] = starts.length;
    for (let i = 0; i < chars.length; i++) {
      let s = "";
      const end = Math.min(chars.length, i + MAX_PIECE_LENGTH);
      for (let j = i; j < end; j++) {
        s += chars[j]!;
        const id = seedId.get(s);
        if (id === undefined) continue;
        starts.push(i);
        ends.push(j + 1);
        pieceOf.push(id);
        if (j > i && occurrenceWord[id] === -1) {
          occurrenceWord[id] = w;
          occurrenceStart[id] = i;
        }
      }
    }
  });
  wordEdges[W] = starts.length;
  const E = starts.length;
  const edgeStart = Int32Array.from(starts);
  const edgeEnd = Int32Array.from(ends);
  const edgePiece = Int32Array.from(pieceOf);
  let totalWords = 0;
  for (let w = 0; w < W; w++) totalWords += wordCount[w]!;

  // The model: score per seed (NaN = dropped), and the live pieces in ranked order.
  const score = Float64Array.from(seedScores);
  let order: number[] = seedStrings.map((_, i) => i);
  const minScore = () => {
    let min = Infinity;
    for (const id of order) if (score[id]! < min) min = score[id]!;
    return min;
  };
  const edgeScore = new Float64Array(E);
  /** Fills edgeScore: the piece's score, the unknown score for a dropped character, NaN for a dropped piece. */
  const scoreEdges = () => {
    const unk = minScore() - UNK_PENALTY;
    for (let e = 0; e < E; e++) {
      const s = score[edgePiece[e]!]!;
      edgeScore[e] = Number.isNaN(s) && edgeEnd[e]! - edgeStart[e]! === 1 ? unk : s;
    }
  };
  const isLive = (id: number) => !Number.isNaN(score[id]!);

  const alpha = new Float64Array(maxLength + 1);
  const beta = new Float64Array(maxLength + 1);

  const eStep = (): Float64Array => {
    scoreEdges();
    const expected = new Float64Array(S);
    for (let w = 0; w < W; w++) {
      const L = wordLength[w]!;
      const first = wordEdges[w]!;
      const last = wordEdges[w + 1]!;
      alpha.fill(-Infinity, 0, L + 1);
      alpha[0] = 0;
      for (let e = first; e < last; e++) {
        const sc = edgeScore[e]!;
        if (Number.isNaN(sc)) continue;
        const t = edgeEnd[e]!;
        alpha[t] = logAddExp(alpha[t]!, alpha[edgeStart[e]!]! + sc);
      }
      beta.fill(-Infinity, 0, L + 1);
      beta[L] = 0;
      for (let e = last - 1; e >= first; e--) {
        const sc = edgeScore[e]!;
        if (Number.isNaN(sc)) continue;
        const s = edgeStart[e]!;
        beta[s] = logAddExp(beta[s]!, sc + beta[edgeEnd[e]!]!);
      }
      const z = alpha[L]!;
      const count = wordCount[w]!;
      for (let e = first; e < last; e++) {
        const id = edgePiece[e]!;
        if (!isLive(id)) continue;
        expected[id] = expected[id]! + count * Math.exp(alpha[edgeStart[e]!]! + edgeScore[e]! + beta[edgeEnd[e]!]! - z);
      }
    }
    return expected;
  };

  const mStep = (expected: Float64Array) => {
    const kept: number[] = [];
    let sum = 0;
    for (const id of order) {
      if (expected[id]! < EXPECTED_FREQUENCY_THRESHOLD) {
        score[id] = NaN;
        continue;
      }
      kept.push(id);
      sum += expected[id]!;
    }
    const logSum = digamma(sum);
    for (const id of kept) score[id] = digamma(expected[id]!) - logSum;
    order = kept;
  };

  const best = new Float64Array(maxLength + 1);
  const back = new Int32Array(maxLength + 1);
  /**
   * Viterbi over edges [first, last) of one word, restricted to positions [from, to) and
   * leaving out edge `skip`; returns the path's edges (empty if none) and its score.
   */
  const viterbi = (first: number, last: number, from: number, to: number, skip: number): { path: number[]; score: number } => {
    const L = to - from;
    best.fill(-Infinity, 0, L + 1);
    best[0] = 0;
    for (let e = first; e < last; e++) {
      const s = edgeStart[e]! - from;
      if (s < 0) continue;
      if (s >= L) break;
      const t = edgeEnd[e]! - from;
      if (t > L || e === skip) continue;
      const sc = edgeScore[e]!;
      if (Number.isNaN(sc) || best[s] === -Infinity) continue;
      const v = best[s]! + sc;
      if (v > best[t]!) {
        best[t] = v;
        back[t] = e;
      }
    }
    if (best[L] === -Infinity) return { path: [], score: -Infinity };
    const path: number[] = [];
    for (let p = L; p > 0; p = edgeStart[back[p]!]! - from) path.push(back[p]!);
    return { path: path.reverse(), score: best[L]! };
  };

  const UNK = -1;
  const pieceOfEdge = (e: number) => (isLive(edgePiece[e]!) ? edgePiece[e]! : UNK);

  const prune = () => {
    scoreEdges();
    // Second-best segmentation of each piece (what replaces it if it goes).
    const alternatives = new Map<number, number[]>();
    const alwaysKeep = new Set<number>();
    for (const id of order) {
      if (pieceLength[id] === 1) {
        alwaysKeep.add(id);
        continue;
      }
      const w = occurrenceWord[id]!;
      const from = occurrenceStart[id]!;
      const to = from + pieceLength[id]!;
      let self = -1;
      for (let e = wordEdges[w]!; e < wordEdges[w + 1]!; e++) {
        if (edgeStart[e] === from && edgeEnd[e] === to) {
          self = e;
          break;
        }
      }
      const second = viterbi(wordEdges[w]!, wordEdges[w + 1]!, from, to, self);
      if (score[id]! >= second.score) {
        alwaysKeep.add(id);
        alternatives.set(id, second.path.map(pieceOfEdge));
      }
    }
    // Viterbi frequencies over the corpus.
    const freq = new Float64Array(S);
    let unkFreq = 0;
    for (let w = 0; w < W; w++) {
      const { path } = viterbi(wordEdges[w]!, wordEdges[w + 1]!, 0, wordLength[w]!, -1);
      for (const e of path) {
        const id = pieceOfEdge(e);
        if (id === UNK) unkFreq += wordCount[w]!;
        else freq[id] = freq[id]! + wordCount[w]!;
      }
    }
    let sum = unkFreq;
    for (const id of order) sum += freq[id]!;
    const logSum = Math.log(sum);
    const freqOf = (id: number) => (id === UNK ? unkFreq : freq[id]!);
    const kept: number[] = [];
    const candidates: { id: number; loss: number; rank: number }[] = [];
    order.forEach((id, rank) => {
      const alts = alternatives.get(id);
      if (freq[id] === 0 && !alwaysKeep.has(id)) return;
      if (alts === undefined || alts.length === 0) {
        kept.push(id);
        return;
      }
      if (freq[id] === 0) return;
      const f = freq[id]! / totalWords;
      const logProb = Math.log(freq[id]!) - logSum;
      const logSumAlt = Math.log(sum + freq[id]! * (alts.length - 1));
      let logProbAlt = 0;
      for (const alt of alts) logProbAlt += Math.log(freqOf(alt) + freq[id]!) - logSumAlt;
      candidates.push({ id, loss: f * (logProb - logProbAlt), rank });
    });
    const desired = Math.floor(target * 1.1);
    const size = Math.max(desired, Math.floor(order.length * SHRINKING_FACTOR));
    candidates.sort((x, y) => y.loss - x.loss || x.rank - y.rank);
    const next = kept;
    for (const c of candidates) {
      if (next.length >= size) break;
      next.push(c.id);
    }
    const live = new Set(next);
    for (const id of order) if (!live.has(id)) score[id] = NaN;
    order = next;
  };

  const desired = Math.floor(target * 1.1);
  for (let round = 0; ; round++) {
    for (let i = 0; i < SUB_ITERATIONS; i++) mStep(eStep());
    if (order.length <= desired) break;
    const before = order.length;
    prune();
    if (order.length >= before || round > 100) break;
  }

  // Final vocabulary.
  const min = minScore();
  let penalty = 0;
  const pieces: [string, number][] = [];
  const inserted = new Set<string>(reserved);
  for (const ch of characters) {
    const id = seedId.get(ch)!;
    if (isLive(id)) {
      pieces.push([ch, score[id]!]);
    } else {
      pieces.push([ch, min + penalty]);
      penalty += MISSING_CHARACTER_PENALTY;
    }
    inserted.add(ch);
  }
  for (const id of order) {
    if (pieces.length >= target) break;
    const s = seedStrings[id]!;
    if (inserted.has(s)) continue;
    inserted.add(s);
    pieces.push([s, score[id]!]);
  }
  pieces.sort((x, y) => y[1] - x[1] || compareStrings(x[0], y[0]));
  return { pieces: pieces.map(([s]) => s), scores: pieces.map(([, sc]) => sc), characters: characters.length, seeds: S };
}
