"""The learning-rate schedule: linear warmup, then linear, cosine or constant decay.

The same function as the tfjs engine's `learningRate` (src/runtime/optim/schedule.ts, which
states the formulas and their Hugging Face counterparts), computed in the same float64
operations in the same order, so that both engines train with the same rate at every step.
`step` counts from 0; during warmup the first rate is 0.
"""

from __future__ import annotations

import math

DECAYS = ("linear", "cosine", "constant")


def learning_rate(step: float, lr: float, warmup: float, decay: str, steps: float) -> float:
    """The rate of update `step` (from 0) of a run of `steps` updates, `warmup` of them warming up to `lr`."""
    if not math.isfinite(step) or step < 0:
        raise ValueError(f"learningRate: invalid step {step}")
    if not math.isfinite(warmup) or warmup < 0:
        raise ValueError(f"learningRate: invalid warmup {warmup}")
    if not math.isfinite(steps) or steps < 0:
        raise ValueError(f"learningRate: invalid steps {steps}")
    if not math.isfinite(lr):
        raise ValueError(f"learningRate: invalid lr {lr}")
    if step < warmup:
        return (lr * step) / max(1, warmup)
    if decay == "constant":
        return float(lr)
    if decay == "linear":
        return lr * max(0.0, (steps - step) / max(1, steps - warmup))
    if decay == "cosine":
        progress = (step - warmup) / max(1, steps - warmup)
        return lr * max(0.0, 0.5 * (1 + math.cos(math.pi * progress)))
    raise ValueError(f"learningRate: unknown decay {decay!r}")
