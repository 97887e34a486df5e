"""Masked-LM masking, draw for draw that of src/runtime/data/masking.ts.

The mask of an example is a pure function of (seed, epoch, index), and of the training step only
through a ramped rate; `schedule static duplicates D` draws from epoch mod D. Selection follows
BERT's create_masked_lm_predictions and its variants (whole words, ALBERT's n-grams with
p(n) ∝ 1/n, SpanBERT's geometric spans); each selected token (each span, for `unit span`) then
becomes [MASK], a random non-special id, or stays, with the config's probabilities. The module
comment of masking.ts says why each step is as it is; this file only keeps the same steps in the
same order, consuming the generator exactly as the TypeScript does, so that the torch engine
trains on the masks the tfjs engine would.

The config is the plain dict a compiled module carries as `CONFIG["masking"]`:
`{"rate": 0.15 | {"from", "to", "steps"}, "mask", "random", "keep",
"unit": {"kind": "token" | "word" | "ngram" (+ "n") | "span" (+ "p", "max")},
"schedule": {"kind": "dynamic"} | {"kind": "static", "duplicates": D}}`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Union

from .examples import Example, MaskedExample
from .js import js_round, js_string
from .random import Rng, Uniform, create_rng, seed_from, shuffle

NOT_PREDICTED = -100
"""The label of a position that is not predicted."""

MaskingConfig = Mapping[str, Any]
Rate = Union[int, float, Mapping[str, Any]]


@dataclass(frozen=True)
class MaskContext:
    """What a mask depends on besides the example and the config."""

    seed: int
    epoch: int
    """0-based: how many times the example list has been walked before."""
    index: int
    """The example's index in the (unshuffled) example list."""
    step: int
    """The training step, for a ramped rate."""
    vocab: int
    """Random replacements are drawn from [0, vocab)."""
    special: Mapping[str, int]
    """Special ids by role; `mask` is required."""


def masking_rate(rate: Rate, step: int) -> float:
    """The rate at `step`: a ramp moves linearly from `from` to `to` over `steps` steps, then stays at `to`."""
    if not isinstance(rate, Mapping):
        return rate
    start, end, steps = rate["from"], rate["to"], rate["steps"]
    if steps <= 0 or step >= steps:
        return end
    if step <= 0:
        return start
    # Doubles, in the TypeScript's order of operations, even where the dict holds ints.
    return float(start) + ((float(end) - float(start)) * float(step)) / float(steps)


def mask_seed(cfg: MaskingConfig, ctx: MaskContext) -> int:
    """The seed an example's mask is drawn from: (seed, epoch, index), the epoch taken mod D for static masks."""
    epoch = ctx.epoch
    schedule = cfg["schedule"]
    if schedule["kind"] == "static":
        d = max(1, math.floor(schedule["duplicates"]))
        epoch = epoch % d  # Python's % is already the TypeScript's ((e % d) + d) % d for d > 0
    return seed_from(ctx.seed, "mask", epoch, ctx.index)


def prediction_budget(rate: float, maskable: int) -> int:
    """How many tokens are predicted: max(1, round(rate · maskable)), at most all; 0 when none is maskable."""
    if maskable <= 0:
        return 0
    return min(maskable, max(1, js_round(rate * maskable)))


def _non_maskable_ids(special: Mapping[str, int]) -> set[int]:
    """The ids of every special role but `unk`: an unknown word is still a word to predict."""
    return {token for role, token in special.items() if role != "unk"}


def maskable_positions(ex: Example, special: Mapping[str, int]) -> list[int]:
    """Positions that may be masked: those of a word (index ≥ 0) whose id is not special."""
    never = _non_maskable_ids(special)
    words = ex.words
    return [i for i, token in enumerate(ex.ids) if (words[i] if i < len(words) else -1) >= 0 and token not in never]


def _units(ex: Example, maskable: list[int], by_word: bool) -> list[list[int]]:
    """Units of masking in position order: single tokens, or the maskable tokens of each word."""
    if not by_word:
        return [[p] for p in maskable]
    groups: dict[int, list[int]] = {}  # insertion order = order of each word's first position
    for p in maskable:
        groups.setdefault(ex.words[p], []).append(p)
    return list(groups.values())


def _adjacent(units: list[list[int]]) -> list[bool]:
    """adjacent[k]: unit k+1 starts right after unit k ends (no special token or gap between)."""
    return [k + 1 < len(units) and u[-1] + 1 == units[k + 1][0] for k, u in enumerate(units)]


def _sample_n(rng: Rng, max_n: int) -> int:
    """An n-gram length in 1..max_n with p(n) ∝ 1/n, by one draw against the running sum."""
    total = 0.0
    for n in range(1, max_n + 1):
        total += 1 / n
    u = rng() * total
    for n in range(1, max_n):
        u -= 1 / n
        if u < 0:
            return n
    return max_n


def span_length_probabilities(p: float, max_length: float) -> list[float]:
    """P(L = l) for l in 1..max_length: Geo(p), p(1-p)^(l-1), truncated and renormalized.

    (1-p)^(l-1) is a running product, as in the TypeScript, not `**`: a product rounds alike
    everywhere, while pow differs between V8 and C's libm in the last bit.
    """
    weights: list[float] = []
    power = 1.0
    length = 1
    while length <= max_length:
        weights.append(p * power)
        power *= 1 - p
        length += 1
    total = 0.0
    for w in weights:  # left to right, as Array.reduce adds (sum() may compensate)
        total += w
    return [w / total for w in weights]


def sample_span_length(rng: Uniform, p: float, max_length: float) -> int:
    """One span length in words, by inverting the truncated geometric's CDF with one draw."""
    probabilities = span_length_probabilities(p, max(1, math.floor(max_length)))
    u = rng()
    for length in range(1, len(probabilities)):
        u -= probabilities[length - 1]
        if u < 0:
            return length
    return len(probabilities)


def _select_spans(units: list[list[int]], adjacent: list[bool], budget: int, p: float, max_length: float, rng: Rng) -> list[list[int]]:
    """SpanBERT: a length, then a start uniform over the free words that fit, then up to that many words."""
    covered = [False] * len(units)
    spans: list[list[int]] = []
    count = 0
    while count < budget:
        length = sample_span_length(rng, p, max_length)
        starts = [k for k, u in enumerate(units) if not covered[k] and count + len(u) <= budget]
        if not starts:
            break  # nothing left fits the remaining budget
        start = starts[rng.int(len(starts))]
        span: list[int] = []
        k = start
        while k < start + length and k < len(units):
            if covered[k] or (k > start and not adjacent[k - 1]) or count + len(units[k]) > budget:
                break
            covered[k] = True
            span.extend(units[k])
            count += len(units[k])
            k += 1
        spans.append(span)
    return spans


def _select_ngrams(units: list[list[int]], adjacent: list[bool], budget: int, max_n: int, rng: Rng) -> list[list[int]]:
    """Tokens, words or n-grams of words: units in a shuffled order, n drawn first, shortened only when nothing fits."""
    order = shuffle(list(range(len(units))), rng)
    covered = [False] * len(units)
    spans: list[list[int]] = []
    count = 0
    lo = 0  # order[:lo] are all covered

    def fits(k: int, n: int) -> int:
        """The tokens of units k..k+n-1 if they are free, adjacent and within the budget, else -1."""
        tokens = 0
        for m in range(n):
            if k + m >= len(units) or covered[k + m] or (m > 0 and not adjacent[k + m - 1]):
                return -1
            tokens += len(units[k + m])
        return tokens if count + tokens <= budget else -1

    while count < budget:
        while lo < len(order) and covered[order[lo]]:
            lo += 1
        placed = False
        n = _sample_n(rng, max_n) if max_n > 1 else 1
        while n >= 1 and not placed:
            for o in range(lo, len(order)):
                k = order[o]
                tokens = fits(k, n)
                if tokens < 0:
                    continue
                span: list[int] = []
                for m in range(n):
                    covered[k + m] = True
                    span.extend(units[k + m])
                spans.append(span)
                count += tokens
                placed = True
                break
            n -= 1
        if not placed:
            break  # nothing left fits the remaining budget
    return spans


def _select(ex: Example, cfg: MaskingConfig, ctx: MaskContext, rng: Rng) -> list[list[int]]:
    maskable = maskable_positions(ex, ctx.special)
    budget = prediction_budget(masking_rate(cfg["rate"], ctx.step), len(maskable))
    unit = cfg["unit"]
    units = _units(ex, maskable, unit["kind"] != "token")
    if unit["kind"] == "span":
        return _select_spans(units, _adjacent(units), budget, unit["p"], unit["max"], rng)
    max_n = max(1, math.floor(unit["n"])) if unit["kind"] == "ngram" else 1
    return _select_ngrams(units, _adjacent(units), budget, max_n, rng)


def select_masked_spans(ex: Example, cfg: MaskingConfig, ctx: MaskContext) -> list[list[int]]:
    """The spans an example's mask selects (token positions, each ascending), in the order chosen."""
    return _select(ex, cfg, ctx, create_rng(mask_seed(cfg, ctx)))


def mask_example(ex: Example, cfg: MaskingConfig, ctx: MaskContext) -> MaskedExample:
    """Mask one example: a pure function of its arguments, equal to the TypeScript's maskExample."""
    mask_id = ctx.special.get("mask")
    if mask_id is None:
        raise ValueError("special tokens need a 'mask' id")
    specials = set(ctx.special.values())
    drawable = ctx.vocab - sum(1 for token in specials if 0 <= token < ctx.vocab)
    rng = create_rng(mask_seed(cfg, ctx))
    spans = _select(ex, cfg, ctx, rng)  # the same generator goes on to draw the replacements
    # Groups that share one mask/random/keep draw: a whole span for `unit span`, else each token.
    if cfg["unit"]["kind"] == "span":
        groups = sorted((sorted(s) for s in spans), key=lambda s: s[0])
    else:
        groups = [[p] for p in sorted(p for s in spans for p in s)]
    input_ids = list(ex.ids)
    labels = [NOT_PREDICTED] * len(ex.ids)
    to_mask = cfg["mask"]
    to_random = cfg["mask"] + cfg["random"]
    for group in groups:
        u = rng()
        for p in group:
            labels[p] = ex.ids[p]
            if u < to_mask:
                input_ids[p] = mask_id
            elif u < to_random:
                if drawable <= 0:
                    raise ValueError(f"no non-special id in [0, {js_string(ctx.vocab)}) to draw a random replacement from")
                token = rng.int(ctx.vocab)
                while token in specials:
                    token = rng.int(ctx.vocab)
                input_ids[p] = token
            # else keep: the input stays the original token
    return MaskedExample(
        input_ids=input_ids,
        labels=labels,
        token_types=list(ex.token_types),
        sentence_label=ex.sentence_label,
        documents=None if ex.documents is None else list(ex.documents),
    )
