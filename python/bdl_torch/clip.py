"""Gradient clipping by global norm, as the tfjs engine measures and applies it.

The norm is √(Σ over every tensor, every element, of g²), computed the way the tfjs engine's
`globalNorm` computes it on its reference (cpu) backend, so that both engines report the same
number and clip by the same factor:

- each element's square is a float32;
- each tensor's squares are summed in float64 and the sum rounded to float32;
- the tensors' sums are added in float32, in the order of the gradients;
- the square root is taken in float32.

The float64 sum here is torch's (pairwise) rather than tfjs's (left to right); the two differ far
below float32's resolution, so the rounded sums agree except in a near-tie, with odds of about
one in a billion. The clipping factor follows torch.nn.utils.clip_grad_norm_ (norm type 2),
computed in float64 as the TypeScript `clipCoefficient` is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor

from .float32 import fround

EPSILON = 1e-6
"""Added to the norm before dividing, as torch.nn.utils.clip_grad_norm_ does."""


def global_norm(grads: Iterable[Tensor]) -> float:
    """√(Σ g²) over every element of every tensor, rounded as the tfjs engine rounds it (see the module)."""
    total = 0.0
    for g in grads:
        squares = fround(float(torch.sum(g * g, dtype=torch.float64)))
        total = fround(total + squares)
    return fround(math.sqrt(total))


def clip_coefficient(norm: float, max_norm: float) -> float:
    """The factor every gradient is multiplied by: min(max_norm / (norm + 1e-6), 1); NaN for a NaN norm, as in torch."""
    if not (max_norm > 0) or not math.isfinite(max_norm):
        raise ValueError(f"clipByGlobalNorm: max_norm must be a positive number, got {max_norm}")
    coefficient = max_norm / (norm + EPSILON)
    return coefficient if math.isnan(coefficient) else min(coefficient, 1.0)
