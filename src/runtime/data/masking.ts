/**
 * Masked-LM masking, exactly as a model's `masking` block says.
 *
 * The mask of an example is a pure function of (seed, epoch, sequence index) — and of the
 * training step only through the rate, when the rate is a ramp. `schedule dynamic` draws
 * from (seed, epoch, index): a fresh mask every epoch. `schedule static duplicates D` draws
 * from (seed, epoch mod D, index): D masks per sequence, cycling with period D epochs (with a
 * ramped rate, a repeat uses the rate of its own step). A resumed run therefore replays the
 * masks an uninterrupted run would have drawn.
 *
 * Selection (BERT's create_masked_lm_predictions, ALBERT's n-gram variant): the budget is
 * max(1, round(rate · maskable)) tokens, maskable = tokens that are not special (word -1, or
 * a special id other than `unk`). Units are tokens (`unit token`), whole words (`unit word`)
 * or n-grams of whole words (`unit ngram N`, n ∈ 1..N with p(n) ∝ 1/n, never across a
 * special token). Units are visited in a random order; one that would overshoot the budget
 * is skipped, so a word is never split. For n-grams each span draws n first and takes the
 * first start (in the random order) where n free, adjacent words fit; only when none does is
 * n reduced — so span lengths follow 1/n instead of being biased short by collisions.
 * SpanBERT's spans (`unit span p P max M`): each span draws a length L in whole words from
 * Geo(P) truncated to 1..M and renormalized (P 0.2, M 10: mean ≈ 3.8), then a start word
 * uniformly among the words not yet masked whose tokens fit the remaining budget; the span
 * takes L adjacent words from there, stopping early at a special token, a masked word, the
 * end, or a word that would overshoot the budget — so the budget is met unless no free
 * word fits it, and a word is never split.
 * Each selected token becomes [MASK] with probability `mask`, a uniformly random non-special
 * id in [0, vocab) with probability `random`, and stays itself with probability `keep`;
 * its label is the original id (-100 elsewhere). For `unit span` the choice is made once
 * per span, as SpanBERT does: all of a span's tokens become [MASK], all become random ids
 * (each its own), or all stay.
 */
import type { MaskingConfig, Schedule } from "../../model/model.js";
import { createRng, seedFrom, shuffle, type Rng } from "./random.js";
import type { Example, MaskedExample } from "./types.js";

/** The label of a position that is not predicted. */
export const NOT_PREDICTED = -100;

export interface MaskContext {
  seed: number;
  /** 0-based epoch: how many times the example list has been walked before. */
  epoch: number;
  /** Index of the example in the (unshuffled) example list. */
  index: number;
  /** Training step, for a ramped rate. */
  step: number;
  /** Vocabulary size; random replacements are drawn from [0, vocab). */
  vocab: number;
  /** Special ids by role; `mask` is required. */
  special: Record<string, number>;
}

/** The masking rate at `step`: a ramp moves linearly from `from` to `to` over `steps` steps, then stays at `to`. */
export function maskingRate(rate: Schedule, step: number): number {
  if (typeof rate === "number") return rate;
  if (rate.steps <= 0 || step >= rate.steps) return rate.to;
  if (step <= 0) return rate.from;
  return rate.from + ((rate.to - rate.from) * step) / rate.steps;
}

/** The seed an example's mask is drawn from: (seed, epoch, index), with epoch taken mod D for static masks. */
export function maskSeed(cfg: Pick<MaskingConfig, "schedule">, ctx: Pick<MaskContext, "seed" | "epoch" | "index">): number {
  let epoch = ctx.epoch;
  if (cfg.schedule.kind === "static") {
    const d = Math.max(1, Math.floor(cfg.schedule.duplicates));
    epoch = ((epoch % d) + d) % d;
  }
  return seedFrom(ctx.seed, "mask", epoch, ctx.index);
}

/** How many tokens are predicted: max(1, round(rate · maskable)), or 0 when nothing is maskable. */
export function predictionBudget(rate: number, maskable: number): number {
  return maskable > 0 ? Math.min(maskable, Math.max(1, Math.round(rate * maskable))) : 0;
}

function nonMaskableIds(special: Record<string, number>): Set<number> {
  return new Set(
    Object.entries(special)
      .filter(([role]) => role !== "unk")
      .map(([, id]) => id),
  );
}

/** Positions that may be masked: not a special token. */
export function maskablePositions(ex: Example, special: Record<string, number>): number[] {
  const never = nonMaskableIds(special);
  const out: number[] = [];
  for (let i = 0; i < ex.ids.length; i++) if ((ex.words[i] ?? -1) >= 0 && !never.has(ex.ids[i]!)) out.push(i);
  return out;
}

/** Units of masking in position order: single tokens, or all maskable tokens of a word. */
function units(ex: Example, maskable: number[], byWord: boolean): number[][] {
  if (!byWord) return maskable.map((p) => [p]);
  const groups = new Map<number, number[]>();
  for (const p of maskable) {
    const w = ex.words[p]!;
    const g = groups.get(w);
    if (g) g.push(p);
    else groups.set(w, [p]);
  }
  return [...groups.values()]; // insertion order = order of first position
}

function sampleN(rng: Rng, maxN: number): number {
  let total = 0;
  for (let n = 1; n <= maxN; n++) total += 1 / n;
  let u = rng() * total;
  for (let n = 1; n < maxN; n++) {
    u -= 1 / n;
    if (u < 0) return n;
  }
  return maxN;
}

/**
 * P(L = l) for l in 1..max: Geo(p), p(1-p)^(l-1), truncated to 1..max and renormalized.
 * (1-p)^(l-1) is a running product, not Math.pow: V8's pow and C's differ in the last bit for
 * about one argument in ten, products round alike everywhere, and the torch engine's port
 * (python/bdl_torch/masking.py) must draw the same span lengths.
 */
export function spanLengthProbabilities(p: number, max: number): number[] {
  const weights: number[] = [];
  let power = 1;
  for (let l = 1; l <= max; l++, power *= 1 - p) weights.push(p * power);
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

/** One span length in words, by inverting the truncated geometric's CDF with one draw. */
export function sampleSpanLength(rng: () => number, p: number, max: number): number {
  const probabilities = spanLengthProbabilities(p, Math.max(1, Math.floor(max)));
  let u = rng();
  for (let l = 1; l < probabilities.length; l++) {
    u -= probabilities[l - 1]!;
    if (u < 0) return l;
  }
  return probabilities.length;
}

/** SpanBERT's selection over whole-word units `us` (see the file comment). */
function selectSpans(us: number[][], adjacent: boolean[], budget: number, p: number, max: number, rng: Rng): number[][] {
  const covered = new Uint8Array(us.length);
  const spans: number[][] = [];
  let count = 0;
  while (count < budget) {
    const length = sampleSpanLength(rng, p, max);
    // Uniform over the free starts: the same law as drawing any start and redrawing a masked one.
    const starts: number[] = [];
    for (let k = 0; k < us.length; k++) if (!covered[k] && count + us[k]!.length <= budget) starts.push(k);
    if (starts.length === 0) break; // nothing left fits the remaining budget
    const start = starts[rng.int(starts.length)]!;
    const span: number[] = [];
    for (let k = start; k < start + length && k < us.length; k++) {
      if (covered[k] || (k > start && !adjacent[k - 1]) || count + us[k]!.length > budget) break;
      covered[k] = 1;
      span.push(...us[k]!);
      count += us[k]!.length;
    }
    spans.push(span);
  }
  return spans;
}

function select(ex: Example, cfg: MaskingConfig, ctx: MaskContext, rng: Rng): number[][] {
  const maskable = maskablePositions(ex, ctx.special);
  const budget = predictionBudget(maskingRate(cfg.rate, ctx.step), maskable.length);
  const us = units(ex, maskable, cfg.unit.kind !== "token");
  if (cfg.unit.kind === "span") {
    const adjacentWords = us.map((u, k) => k + 1 < us.length && u[u.length - 1]! + 1 === us[k + 1]![0]);
    return selectSpans(us, adjacentWords, budget, cfg.unit.p, cfg.unit.max, rng);
  }
  const maxN = cfg.unit.kind === "ngram" ? Math.max(1, Math.floor(cfg.unit.n)) : 1;
  // adjacent[k]: unit k+1 starts right after unit k ends (no special token or gap between).
  const adjacent = us.map((u, k) => k + 1 < us.length && u[u.length - 1]! + 1 === us[k + 1]![0]);
  const order = shuffle(
    us.map((_, k) => k),
    rng,
  );
  const covered = new Uint8Array(us.length);
  const spans: number[][] = [];
  let count = 0;
  let lo = 0; // order[0..lo) are all covered
  const fits = (k: number, n: number): number => {
    let tokens = 0;
    for (let m = 0; m < n; m++) {
      const u = us[k + m];
      if (!u || covered[k + m] || (m > 0 && !adjacent[k + m - 1])) return -1;
      tokens += u.length;
    }
    return count + tokens <= budget ? tokens : -1;
  };
  while (count < budget) {
    while (lo < order.length && covered[order[lo]!]) lo++;
    let placed = false;
    for (let n = maxN > 1 ? sampleN(rng, maxN) : 1; n >= 1 && !placed; n--) {
      for (let o = lo; o < order.length; o++) {
        const k = order[o]!;
        const tokens = fits(k, n);
        if (tokens < 0) continue;
        const span: number[] = [];
        for (let m = 0; m < n; m++) {
          covered[k + m] = 1;
          span.push(...us[k + m]!);
        }
        spans.push(span);
        count += tokens;
        placed = true;
        break;
      }
    }
    if (!placed) break; // nothing left fits the remaining budget
  }
  return spans;
}

/** The spans an example's mask selects (token positions, each span ascending), in the order chosen. Pure. */
export function selectMaskedSpans(ex: Example, cfg: MaskingConfig, ctx: MaskContext): number[][] {
  return select(ex, cfg, ctx, createRng(maskSeed(cfg, ctx)));
}

/** Mask one example. A pure function of its arguments. */
export function maskExample(ex: Example, cfg: MaskingConfig, ctx: MaskContext): MaskedExample {
  const maskId = ctx.special.mask;
  if (maskId === undefined) throw new Error("special tokens need a 'mask' id");
  const specials = new Set(Object.values(ctx.special));
  let drawable = ctx.vocab;
  for (const id of specials) if (id >= 0 && id < ctx.vocab) drawable--;
  const rng = createRng(maskSeed(cfg, ctx));
  const spans = select(ex, cfg, ctx, rng);
  // Groups that share one mask/random/keep draw: a whole span for `unit span`, else each token.
  const groups =
    cfg.unit.kind === "span"
      ? spans.map((s) => [...s].sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!)
      : spans
          .flat()
          .sort((a, b) => a - b)
          .map((p) => [p]);
  const inputIds = [...ex.ids];
  const labels = ex.ids.map(() => NOT_PREDICTED);
  for (const group of groups) {
    const u = rng();
    for (const p of group) {
      labels[p] = ex.ids[p]!;
      if (u < cfg.mask) inputIds[p] = maskId;
      else if (u < cfg.mask + cfg.random) {
        if (drawable <= 0) throw new Error(`no non-special id in [0, ${ctx.vocab}) to draw a random replacement from`);
        let id: number;
        do id = rng.int(ctx.vocab);
        while (specials.has(id));
        inputIds[p] = id;
      } // else keep: the input stays the original token
    }
  }
  const out: MaskedExample = { inputIds, labels, tokenTypes: [...ex.tokenTypes] };
  if (ex.sentenceLabel !== undefined) out.sentenceLabel = ex.sentenceLabel;
  if (ex.documents) out.documents = [...ex.documents];
  return out;
}

/**
 * A masked example as text, for `bdlc mask-preview`: tokens joined by spaces; a position
 * replaced by [MASK] shows the mask token, a random replacement `<orig→new>`, a position
 * predicted but kept `{orig}`. Pass `maskId` to tell [MASK] from a random replacement;
 * without it a replacement whose surface is `[MASK]` or `<mask>` counts as the mask.
 */
export function describeMasked(m: MaskedExample, idToToken: (id: number) => string, maskId?: number): string {
  const isMask = (id: number) => (maskId !== undefined ? id === maskId : /^(\[MASK\]|<mask>)$/i.test(idToToken(id)));
  return (
    m.inputIds
      .map((id, i) => {
        const label = m.labels[i] ?? NOT_PREDICTED;
        if (label === NOT_PREDICTED) return idToToken(id);
        if (id === label) return `{${idToToken(label)}}`;
        if (isMask(id)) return idToToken(id);
        return `<${idToToken(label)}→${idToToken(id)}>`;
      })
      // With a document mask, ‖ marks where one packed document ends and the next begins.
      .map((text, i) => (i > 0 && m.documents && m.documents[i] !== m.documents[i - 1] ? `‖ ${text}` : text))
      .join(" ")
  );
}
