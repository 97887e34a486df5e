"""A checkpoint's optimizer state: optimizer.json (kind and step counts) and optimizer.safetensors
(the moments `m.NAME` and `v.NAME`, float32, each the parameter's shape).

Both engines write these files the same way, byte for byte (the tfjs engine's `RunFolder.saveStep`
and this module), and read them with the same checks (its `readOptimizerState`), so that a run
started by either engine resumes on the other. A file that is damaged or belongs to another model
is refused with a CheckpointError naming it and its first problem, before a resume changes anything.
"""

from __future__ import annotations

import errno
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, Union

import torch

from .errors import CheckpointError
from .optim import OptimizerState, ParamState
from .safetensors import NAMES, read_safetensors, write_safetensors

OPTIMIZER_WEIGHTS = "optimizer.safetensors"
OPTIMIZER_META = "optimizer.json"

MAX_SAFE_INTEGER = 2**53 - 1


class ParameterSpec(Protocol):
    """A row of the parameter table, as a compiled module's `PARAMETERS` holds them."""

    @property
    def name(self) -> str: ...

    @property
    def shape(self) -> Sequence[int]: ...


def save_optimizer_files(folder: Union[str, Path], state: OptimizerState) -> None:
    """Writes `state` into `folder` as optimizer.safetensors and optimizer.json.

    Each file is replaced atomically; a checkpoint folder as a whole is made atomic by writing
    it under a temporary name and renaming it, as the tfjs engine's saveCheckpoint does.
    """
    moments: dict[str, torch.Tensor] = {}
    for name, p in state["params"].items():
        for slot in ("m", "v"):
            moments[f"{slot}.{name}"] = _moment(f"{slot}.{name}", p[slot], p["shape"])
    # The order the tfjs engine's writer (and Hugging Face's) uses: by name, as UTF-8 bytes,
    # which is the order of the names' code points.
    write_safetensors(os.path.join(folder, OPTIMIZER_WEIGHTS), dict(sorted(moments.items())))
    slots = {
        "kind": state["kind"],
        "step": state["step"],
        "params": {name: {"step": p["step"], "shape": list(p["shape"])} for name, p in state["params"].items()},
    }
    _write_text(os.path.join(folder, OPTIMIZER_META), _stringify(slots))


def read_optimizer_files(folder: Union[str, Path], table: Iterable[ParameterSpec], kind: str) -> OptimizerState:
    """The optimizer state saved in checkpoint folder `folder`, for parameters `table` and optimizer `kind`.

    A parameter of the table without an entry is left out (it never had a gradient, so it has no
    moments yet); an entry of a parameter the table lacks is an error.
    """
    meta_path = _join(folder, OPTIMIZER_META)
    try:
        with open(meta_path, encoding="utf-8") as f:
            slots = json.load(f)
    except OSError as e:
        raise CheckpointError(f"{meta_path} is damaged: cannot be read ({_code(e)})") from e
    except ValueError as e:
        raise CheckpointError(f"{meta_path} is damaged: not valid JSON ({e})") from e
    if not isinstance(slots, dict) or not isinstance(slots.get("params"), dict):
        raise CheckpointError(f"{meta_path} is damaged: expected an object with 'kind', 'step' and 'params'")
    if slots.get("kind") != kind:
        raise CheckpointError(f"{meta_path} holds {_js_json(slots, 'kind')} optimizer state; the model trains with {kind}")
    if not _is_count(slots.get("step")):
        raise CheckpointError(f"{meta_path} is damaged: 'step' is not a non-negative integer")
    saved: dict[str, Any] = slots["params"]

    weights_path = _join(folder, OPTIMIZER_WEIGHTS)
    try:
        moments = read_safetensors(weights_path)
    except OSError as e:
        raise CheckpointError(f"{weights_path} is damaged: {weights_path}: {_open_failure(e)}") from e
    except (ValueError, KeyError, TypeError, RuntimeError) as e:  # what a damaged header or body raises
        raise CheckpointError(f"{weights_path} is damaged: {e}") from e

    params: dict[str, ParamState] = {}
    names: set[str] = set()
    for spec in table:
        names.add(spec.name)
        shape = [int(d) for d in spec.shape]
        if spec.name not in saved:
            continue
        s = saved[spec.name]
        if not isinstance(s, dict) or not _is_count(s.get("step")):
            raise CheckpointError(f"{meta_path} is damaged: the entry of '{spec.name}' has no step count")
        m, v = moments.get(f"m.{spec.name}"), moments.get(f"v.{spec.name}")
        if m is None or v is None:
            raise CheckpointError(f"{weights_path} lacks the moments of '{spec.name}'")
        for moment_name, t in ((f"m.{spec.name}", m), (f"v.{spec.name}", v)):
            if t.dtype != torch.float32 or list(t.shape) != shape:
                raise CheckpointError(
                    f"{weights_path}: '{moment_name}' is {NAMES[t.dtype]} [{', '.join(map(str, t.shape))}]; "
                    f"'{spec.name}' needs F32 [{', '.join(map(str, shape))}]"
                )
        params[spec.name] = {"step": int(s["step"]), "shape": shape, "m": m, "v": v}
    unknown = [name for name in saved if name not in names]
    if unknown:
        raise CheckpointError(f"{meta_path} holds state of '{unknown[0]}', which the model does not have")
    return {"kind": kind, "step": int(slots["step"]), "params": params}


def _moment(name: str, values: Any, shape: Sequence[int]) -> torch.Tensor:
    """A moment as a row-major float32 CPU tensor of `shape`; its number of values must be the shape's."""
    t = torch.as_tensor(values, dtype=torch.float32).detach().to("cpu")
    size = math.prod(shape)
    if t.numel() != size:
        raise ValueError(f"tensor '{name}': shape {list(shape)} has {size} elements but {t.numel()} values were given")
    return t.reshape(list(shape)).contiguous()


def _stringify(value: Any) -> str:
    """JSON as JavaScript's `JSON.stringify(value, null, 2) + "\\n"` writes it (for strings, numbers, lists, objects)."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _write_text(path: str, text: str) -> None:
    """Writes `text` atomically: a temporary file beside `path`, synced, then renamed over it."""
    temporary = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def _join(folder: Union[str, Path], name: str) -> str:
    """The file's path as Node's path.join writes it (normalised), so both engines' messages name it alike."""
    return os.path.normpath(os.path.join(folder, name))


def _code(e: OSError) -> str:
    """ENOENT, EACCES, …: how Node names an operating system error."""
    return errno.errorcode.get(e.errno, str(e)) if e.errno is not None else str(e)


def _open_failure(e: OSError) -> str:
    """Why a file cannot be opened, in the tfjs engine's words."""
    if isinstance(e, IsADirectoryError):
        return "is a directory, not a file"
    code = _code(e)
    if code in ("ENOENT", "ENOTDIR"):
        return "no such file"
    if code in ("EACCES", "EPERM"):
        return "permission denied"
    if code == "ELOOP":
        return "too many levels of symbolic links"
    return f"cannot open ({code})"


def _js_json(obj: dict[str, Any], key: str) -> str:
    """`JSON.stringify(obj[key])`: the value as JSON, or `undefined` where the key is absent."""
    return json.dumps(obj[key], ensure_ascii=False, separators=(",", ":")) if key in obj else "undefined"


def _is_count(x: object) -> bool:
    """A non-negative safe integer (JavaScript's Number.isSafeInteger, where JSON's 3.0 is 3)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    return float(x).is_integer() and 0 <= x <= MAX_SAFE_INTEGER
