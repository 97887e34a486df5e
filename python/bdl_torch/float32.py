"""Float32 arithmetic that rounds exactly where the TypeScript optimizers round.

The tfjs engine's optimizers compute in JavaScript doubles and round every result to float32
(`Math.fround`); scalar coefficients are computed in doubles and rounded once. For the torch
engine to reproduce those numbers bit for bit, every elementwise operation here must be one
correctly rounded float32 operation, and every scalar must enter it already rounded.

Two things in PyTorch would break that and are avoided:

- A Python float given to a float32 op is converted by torch itself; `fround` rounds it first,
  so the conversion is exact and the rounding is the one `Math.fround` performs.
- On CUDA, dividing a tensor by a CPU scalar is computed as a multiplication by its reciprocal
  (one rounding more). `divide` divides by a 0-dim tensor on the operand's device instead, which
  is a true division on every device.
"""

from __future__ import annotations

import math
import struct

import torch
from torch import Tensor


def fround(x: float) -> float:
    """`x` rounded to the nearest float32 (ties to even), as JavaScript's `Math.fround`; ±inf past float32's range."""
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:  # finite in float64, beyond float32: Math.fround gives an infinity
        return math.copysign(math.inf, x)


def divide(t: Tensor, x: float) -> Tensor:
    """`t / x` as one correctly rounded float32 division (`x` rounded to float32 first), on any device."""
    return torch.div(t, torch.tensor(fround(x), dtype=torch.float32, device=t.device))
