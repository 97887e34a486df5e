"""Checkpoints in this project's layout, so that `bdlc eval`, `finetune`, `export-hf` and `--resume`
read a torch run as they read a tfjs one:

    checkpoints/step-N/model.safetensors   every tensor of the parameter table, F32, in its order
    checkpoints/step-N/bdl.json            {"format": 1, "model": ..., "teacher": ..., "step": N, ...meta}
    checkpoints/step-N/optimizer.*         the optimizer's moments and step counts (optimizer_files.py)

A checkpoint is written into `step-N.tmp-PID/` and renamed into place (the one it replaces is
renamed to `step-N.old-PID/` first and removed after), so a kill leaves the previous one whole.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Optional

import torch

from .optimizer_files import read_optimizer_files, save_optimizer_files
from .safetensors import read_safetensors, write_safetensors

CHECKPOINT_FORMAT = 1
WEIGHTS_FILE = "model.safetensors"
META_FILE = "bdl.json"


def write_json(path: Path, value: Any) -> None:
    """JSON as bdl writes it (two-space indent, a final newline), written durably under a temporary name and renamed."""
    temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def saved_steps(checkpoints: Path) -> list[int]:
    """Steps with a complete checkpoint (one whose bdl.json was written), ascending."""
    if not checkpoints.is_dir():
        return []
    steps = []
    for entry in checkpoints.iterdir():
        name = entry.name
        if name.startswith("step-") and name[5:].isdigit() and (entry / META_FILE).exists():
            steps.append(int(name[5:]))
    return sorted(steps)


def save_step(
    checkpoints: Path,
    step: int,
    config: dict[str, Any],
    teacher_config: Optional[dict[str, Any]],
    weights: dict[str, torch.Tensor],
    optimizer_state: dict[str, Any],
    meta: dict[str, Any],
    keep: int,
) -> Path:
    """Writes checkpoint `step` (weights in the order given: the parameter table's), then keeps the newest `keep`."""
    target = checkpoints / f"step-{step}"
    temporary = checkpoints / f"step-{step}.tmp-{os.getpid()}"
    old = checkpoints / f"step-{step}.old-{os.getpid()}"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    try:
        write_safetensors(temporary / WEIGHTS_FILE, {n: t.detach().float() for n, t in weights.items()}, {"format": "bdl"})
        save_optimizer_files(temporary, optimizer_state)
        record: dict[str, Any] = {"format": CHECKPOINT_FORMAT, "model": config}
        if teacher_config is not None:
            record["teacher"] = teacher_config
        record["step"] = step
        record.update(meta)
        write_json(temporary / META_FILE, record)
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(temporary, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    for stale in saved_steps(checkpoints)[: -max(1, keep)]:
        shutil.rmtree(checkpoints / f"step-{stale}", ignore_errors=True)
    return target


def load_step(checkpoints: Path, step: int, table: list[Any], kind: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Checkpoint `step`'s weights (by table name) and optimizer state."""
    folder = checkpoints / f"step-{step}"
    with open(folder / META_FILE, encoding="utf-8") as f:
        record = json.load(f)
    if record.get("step") != step:
        raise ValueError(f"{folder / META_FILE}: 'step' is {record.get('step')!r}, not {step}")
    weights = read_safetensors(folder / WEIGHTS_FILE)
    return weights, read_optimizer_files(folder, table, kind)
