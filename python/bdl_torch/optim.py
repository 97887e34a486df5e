"""Adam, AdamW and LAMB over named parameters: the tfjs engine's optimizers, in float32 torch ops.

The update is the one `src/runtime/optim/optimizer.ts` defines (its header gives the formulas and
their sources); this port exists so that a run trained by the torch engine is the run the tfjs
engine would have trained. To that end it keeps the TypeScript code's arithmetic exactly:

- every elementwise operation is one float32 operation, in the order of the TypeScript loop
  (which rounds with `Math.fround` after each), so the moments and weights agree bit for bit;
- scalar coefficients (bias corrections, lr/(1−β1^t), 1 − lr·λ, …) are computed in float64
  Python floats, as there in JavaScript numbers, and rounded to float32 once where they enter;
- LAMB's norms ‖p‖ and ‖u‖ are summed in float64 and rounded to float32, as there.

Two float64 results can still differ in their last bit: β^t (Python's `**` is glibc's pow,
JavaScript's Math.pow is V8's own) and the summation order of the norms. Both are rounded to
float32 before they are used, which removes the difference except in a near-tie, with odds of
about one in a million per coefficient.

What the state holds is what TypeScript's `OptimizerState` holds (kind, step count, and per
parameter its own step count, shape and moments), so that either engine resumes the other's
checkpoint (`optimizer_files.py`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Union

import torch
from torch import Tensor

from .clip import clip_coefficient, global_norm
from .float32 import divide, fround

KINDS = ("adam", "adamw", "lamb")


class ParamState(TypedDict):
    """One parameter's slots."""

    step: int
    """How many updates this parameter has had (t of its last update)."""
    shape: list[int]
    m: Tensor
    """First moment, float32, the parameter's shape."""
    v: Tensor
    """Second moment, float32, the parameter's shape."""


class OptimizerState(TypedDict):
    """An optimizer checkpoint, as TypeScript's `OptimizerState`."""

    kind: str
    step: int
    """Number of `step()` (or `update()`) calls so far."""
    params: dict[str, ParamState]


class ParamStateInput(TypedDict):
    """One parameter's slots as `load` accepts them: moments as tensors or flat sequences of numbers (from JSON)."""

    step: int
    shape: Sequence[int]
    m: Union[Tensor, Sequence[float]]
    v: Union[Tensor, Sequence[float]]


class OptimizerStateInput(TypedDict):
    """What `load` accepts, as TypeScript's `OptimizerStateInput`."""

    kind: str
    step: int
    params: Mapping[str, ParamStateInput]


@dataclass(frozen=True)
class OptimizerConfig:
    """The optimizer's hyperparameters, as a model's `train` block states them (`kind` is its `optimizer`)."""

    kind: str
    lr: float
    """Peak learning rate; `step()` uses the rate it is given (from the schedule)."""
    beta1: float
    beta2: float
    eps: float
    weight_decay: float

    @classmethod
    def from_train(cls, train: Mapping[str, Any]) -> OptimizerConfig:
        """The config of a model's `train` block (keys optimizer, lr, beta1, beta2, eps, weight_decay)."""
        return cls(
            train["optimizer"], train["lr"], train["beta1"], train["beta2"], train["eps"], train["weight_decay"]
        )

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown optimizer kind {self.kind!r}")
        for name, ok in (
            ("lr", self.lr >= 0),
            ("beta1", 0 <= self.beta1 < 1),
            ("beta2", 0 <= self.beta2 < 1),
            ("eps", self.eps >= 0),
            ("weight_decay", self.weight_decay >= 0),
        ):
            value = getattr(self, name)
            if not math.isfinite(value) or not ok:
                raise ValueError(f"optimizer {self.kind}: invalid {name} {value}")


class NonFiniteGradient(ArithmeticError):
    """A gradient holds a NaN or an infinity: the step was refused before any weight changed."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the gradient of '{name}' is not finite")
        self.name = name


@dataclass
class _Slot:
    step: int
    m: Tensor
    v: Tensor


class Optimizer:
    """Adam, AdamW or LAMB over `params`, updating them in place.

    `config` is an OptimizerConfig or a model's `train` block (as JSON gives it).
    `no_decay(name)` is true for the parameters that get no weight decay (biases and LayerNorm
    weights: the parameter table's `decay` is false); under LAMB they are also left out of layer
    adaptation (trust ratio 1), as tensorflow_addons' LAMB does by default.
    """

    def __init__(
        self,
        params: Mapping[str, torch.nn.Parameter],
        config: Union[OptimizerConfig, Mapping[str, Any]],
        no_decay: Callable[[str], bool],
    ) -> None:
        self.params = dict(params)
        self.config = config if isinstance(config, OptimizerConfig) else OptimizerConfig.from_train(config)
        self._no_decay = no_decay
        self._excluded: dict[str, bool] = {}
        self._slots: dict[str, _Slot] = {}
        self._steps = 0

    def step(self, grads: Mapping[str, Tensor], lr: float, clip_norm: float, micro_batches: int = 1) -> float:
        """One training step as the tfjs trainer's `applyGradients` takes it; returns the gradient norm.

        `grads` are summed over `micro_batches` micro-batches and are averaged here first. The
        global norm of the averaged gradients is what is returned (before clipping); clipping
        enters as a factor on every gradient as the update reads it. A non-finite gradient raises
        NonFiniteGradient, naming the first (in the order of `params`), before anything changes.
        The caller's gradients are not modified.
        """
        if micro_batches > 1:
            grads = {name: divide(g, micro_batches) for name, g in grads.items()}
        norm = global_norm(grads.values())
        if not math.isfinite(norm):
            for name in self.params:
                g = grads.get(name)
                if g is not None and not bool(torch.isfinite(g).all()):
                    raise NonFiniteGradient(name)
            # Every gradient is finite and only their squares overflowed: the factor is 0, as in tfjs and torch.
        self.update(grads, lr, clip_coefficient(norm, clip_norm))
        return norm

    @torch.no_grad()
    def update(self, grads: Mapping[str, Tensor], lr: float, grad_scale: float = 1.0) -> None:
        """One update at learning rate `lr`, every gradient multiplied by `grad_scale` as it is read.

        This is TypeScript's `Optimizer.step`: parameters without a gradient are left alone and
        their step count does not advance (as torch skips a `.grad` of None). Everything is
        checked before any state changes, so a bad call changes nothing.
        """
        if not math.isfinite(lr) or lr < 0:
            raise ValueError(f"optimizer: invalid learning rate {lr}")
        for name, g in grads.items():
            p = self.params.get(name)
            if p is None:
                raise ValueError(f"optimizer: gradient for unknown parameter {name}")
            if g.shape != p.shape:
                raise ValueError(f"optimizer: gradient for {name} has shape {list(g.shape)}, parameter has {list(p.shape)}")
            if p.dtype != torch.float32 or g.dtype != torch.float32:
                raise ValueError(f"optimizer: {name} must be float32 (parameter {p.dtype}, gradient {g.dtype})")
            if g.device != p.device:
                raise ValueError(f"optimizer: gradient for {name} is on {g.device}, parameter on {p.device}")
        for name, g in grads.items():
            p = self.params[name]
            s = self._slot(name, p)
            t = s.step + 1
            self._update(p, g, s, t, lr, grad_scale, self._is_excluded(name))
            s.step = t
        self._steps += 1

    def _is_excluded(self, name: str) -> bool:
        if name not in self._excluded:
            self._excluded[name] = bool(self._no_decay(name))
        return self._excluded[name]

    def _slot(self, name: str, p: Tensor) -> _Slot:
        s = self._slots.get(name)
        if s is None:
            s = _Slot(0, _zeros_like(p), _zeros_like(p))
            self._slots[name] = s
        elif s.m.shape != p.shape:
            raise ValueError(f"optimizer: parameter {name} has shape {list(p.shape)} but its moments have {list(s.m.shape)}")
        elif s.m.device != p.device:
            s.m, s.v = s.m.to(p.device), s.v.to(p.device)
        return s

    def _update(self, p: Tensor, grad: Tensor, s: _Slot, t: int, lr: float, grad_scale: float, excluded: bool) -> None:
        """One parameter's update, in the operations (and order) of the TypeScript loop."""
        c = self.config
        wd = 0.0 if excluded else c.weight_decay
        scale = fround(grad_scale)
        g = grad if scale == 1 else grad * scale
        if c.kind == "adam" and wd != 0:
            # torch.optim.Adam's coupled L2 penalty: g ← g + λ·p.
            g = g + p * fround(wd)
        # m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
        s.m.mul_(fround(c.beta1)).add_(g * fround(1 - c.beta1))
        s.v.mul_(fround(c.beta2)).add_((g * g).mul_(fround(1 - c.beta2)))
        bc1 = 1 - c.beta1**t
        bc2 = 1 - c.beta2**t
        if c.kind != "lamb":
            if c.kind == "adamw" and wd != 0:
                # AdamW's decoupled decay p ← p − lr·λ·p, as the factor (1 − lr·λ), before the step.
                shrink = fround(1 - lr * wd)
                if shrink != 1:
                    p.mul_(shrink)
            # torch's form of p ← p − lr·m̂/(√v̂ + ε):  p ← p − (lr/(1−β1^t)) · m / (√v/√(1−β2^t) + ε)
            denom = divide(s.v.sqrt(), math.sqrt(bc2)).add_(fround(c.eps))
            p.sub_(torch.div(s.m, denom).mul_(fround(lr / bc1)))
            return
        # LAMB: u = m̂/(√v̂ + ε) + λ·p;  r = ‖p‖/‖u‖;  p ← p − lr·r·u
        u = divide(s.m, bc1).div_(divide(s.v, bc2).sqrt_().add_(fround(c.eps)))
        if wd != 0:
            u.add_(p * fround(wd))
        p_norm, u_norm = _norm(p), _norm(u)
        r = fround(p_norm / u_norm) if not excluded and p_norm > 0 and u_norm > 0 else 1.0
        p.sub_(u.mul_(fround(r * fround(lr))))

    def state(self) -> OptimizerState:
        """The step counts and moments by parameter name; the moments are the live tensors: save them before the next step."""
        params: dict[str, ParamState] = {
            name: {"step": s.step, "shape": list(s.m.shape), "m": s.m, "v": s.v} for name, s in self._slots.items()
        }
        return {"kind": self.config.kind, "step": self._steps, "params": params}

    def load(self, state: OptimizerStateInput) -> None:
        """Replaces the state with `state` (as `state()` gives it, or read from a checkpoint), checked first."""
        if state["kind"] != self.config.kind:
            raise ValueError(f"optimizer: cannot load {state['kind']} state into a {self.config.kind} optimizer")
        if not _is_count(state["step"]):
            raise ValueError(f"optimizer: invalid step {state['step']}")
        loaded: dict[str, _Slot] = {}
        for name, ps in state["params"].items():
            shape = [int(d) for d in ps["shape"]]
            size = math.prod(shape)
            if not _is_count(ps["step"]):
                raise ValueError(f"optimizer: invalid step {ps['step']} for {name}")
            m, v = (torch.as_tensor(x, dtype=torch.float32).reshape(-1) for x in (ps["m"], ps["v"]))
            if m.numel() != size or v.numel() != size:
                raise ValueError(
                    f"optimizer: {name} has shape {shape} ({size} values) but m has {m.numel()} and v {v.numel()}"
                )
            p = self.params.get(name)
            device = p.device if p is not None else m.device
            # Copies: the optimizer updates its moments in place, and the caller's stay theirs.
            loaded[name] = _Slot(int(ps["step"]), m.reshape(shape).to(device, copy=True), v.reshape(shape).to(device, copy=True))
        self._slots = loaded
        self._steps = int(state["step"])


def _zeros_like(p: Tensor) -> Tensor:
    """A moment's initial value: contiguous, so that it is saved as the row-major array it is."""
    return torch.zeros_like(p, memory_format=torch.contiguous_format)


def _norm(t: Tensor) -> float:
    """‖t‖₂ summed in float64, rounded to float32 (as LAMB's norms are in TypeScript)."""
    return fround(float(torch.linalg.vector_norm(t, dtype=torch.float64)))


def _is_count(x: object) -> bool:
    """A non-negative integer, 3.0 included (as JavaScript's Number.isInteger sees numbers read from JSON)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and float(x).is_integer() and x >= 0
