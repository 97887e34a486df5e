"""A compiled model's module (`build/NAME.py`): loading it from its path, its weights into its Model, and
what its `encode` takes beside the ids and the mask."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

import torch
from torch import Tensor, nn

from .errors import InputError


def load_module(path: str | Path, name: str = "bdl_model") -> ModuleType:
    """The module at `path`, registered as `name` (dataclasses look their module up by name)."""
    spec = importlib.util.spec_from_file_location(name, str(path))
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_weights(model: nn.Module, weights: dict[str, Tensor], label: str) -> None:
    """Copies `weights` (named as the parameter table names them) into `model`; `label` names them in a refusal."""
    ours = dict(model.named_parameters())
    missing = sorted(set(ours) - set(weights))
    extra = sorted(set(weights) - set(ours))
    if missing or extra:
        raise InputError(f"{label}: the weights do not fit the model (missing {missing[:5]}, unexpected {extra[:5]})")
    with torch.no_grad():
        for name, p in ours.items():
            if tuple(weights[name].shape) != tuple(p.shape):
                raise InputError(f"{label}: {name} is {list(weights[name].shape)}, the model's is {list(p.shape)}")
            p.copy_(weights[name].to(p.dtype))


def encode_args(module: ModuleType, batch: Any) -> dict[str, Optional[Tensor]]:
    """The optional arguments of the module's `encode` (token types, document ids) that its `Batch` declares, from `batch`."""
    names = {f.name for f in dataclasses.fields(module.Batch)}
    return {key: getattr(batch, key) for key in ("token_type_ids", "document_ids") if key in names}
