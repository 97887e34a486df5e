"""Seeded randomness for the data pipeline, bit for bit that of src/runtime/data/random.ts.

Nothing here reads a global generator: every draw is a function of a 32-bit seed, and seeds are
hashed from what a draw depends on (`seed_from(seed, "mask", epoch, index)`), so the torch
engine draws the very masks and batch orders the TypeScript trainer draws, and any stage can be
replayed. All integer arithmetic is modulo 2^32, as JavaScript's `>>> 0` and `Math.imul` are.
"""

from __future__ import annotations

import math
from typing import Callable, MutableSequence, TypeVar, Union

from .js import imul, js_string, to_uint32

T = TypeVar("T")
Uniform = Callable[[], float]
"""A generator of floats in [0, 1)."""


def mulberry32(seed: Union[int, float]) -> Uniform:
    """mulberry32: a small 32-bit generator (period 2^32); each call returns a float in [0, 1).

    The float is a multiple of 2^-32, so it is exact in a double on both sides.
    """
    state = to_uint32(seed)

    def next_float() -> float:
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        # JavaScript adds two int32s as doubles (exact below 2^33), then `^=` wraps the sum.
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return (t ^ (t >> 14)) / 4294967296

    return next_float


def random_int(rng: Uniform, n: int) -> int:
    """An integer in [0, n), n ≥ 1: floor(u · n), clamped to n - 1 as the TypeScript does."""
    if not n >= 1:
        raise ValueError(f"random_int needs n >= 1, got {js_string(n)}")
    return min(n - 1, math.floor(rng() * n))


class Rng:
    """A seeded uniform generator (mulberry32): `rng()` and `rng.next()` draw a float in [0, 1), `rng.int(n)` an int in [0, n)."""

    def __init__(self, seed: Union[int, float]) -> None:
        self._next = mulberry32(seed)

    def __call__(self) -> float:
        return self._next()

    def next(self) -> float:
        return self._next()

    def int(self, n: int) -> int:
        return random_int(self._next, n)


def create_rng(seed: Union[int, float]) -> Rng:
    """A seeded generator, as `createRng(seed)`: the same sequence of draws."""
    return Rng(seed)


def fmix32(h: int) -> int:
    """murmur3's 32-bit finaliser: full avalanche, so nearby inputs give unrelated seeds."""
    h ^= h >> 16
    h = imul(h, 0x85EBCA6B)
    h ^= h >> 13
    h = imul(h, 0xC2B2AE35)
    h ^= h >> 16
    return h


def seed_from(*parts: Union[int, float, str]) -> int:
    """Hash parts into a 32-bit seed: FNV-1a over a typed, separated encoding, then fmix32.

    A number is encoded as `n` + JavaScript's `String(number)`, a string as `s` + itself, each
    UTF-16 code unit as its low then its high byte (which is exactly UTF-16-LE), and 0xFF closes
    every part, so order matters, `1` and `"1"` differ, and ("ab", "c") ≠ ("a", "bc").
    """
    h = 0x811C9DC5
    for part in parts:
        if isinstance(part, str):
            text = "s" + part
        elif isinstance(part, (int, float)) and not isinstance(part, bool):
            text = "n" + js_string(part)
        else:
            raise TypeError(f"seed_from takes numbers and strings, not {type(part).__name__}")
        # surrogatepass: a lone surrogate is one code unit in JavaScript, and encodes as one here.
        for byte in text.encode("utf-16-le", "surrogatepass") + b"\xff":
            h = imul(h ^ byte, 0x01000193)
    return fmix32(h)


def shuffle(array: MutableSequence[T], rng: Uniform) -> MutableSequence[T]:
    """Fisher–Yates, in place, drawing j for i = n-1 down to 1; returns the same list."""
    for i in range(len(array) - 1, 0, -1):
        j = random_int(rng, i + 1)
        array[i], array[j] = array[j], array[i]
    return array
