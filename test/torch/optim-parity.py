"""The Python half of test/torch/optim-parity.test.ts: runs the torch engine's optimizers, schedule
and optimizer files on the job the test wrote, and writes what they gave.

    python3 optim-parity.py JOB.json OUT.json      (with python/ on PYTHONPATH)

JOB.json holds, per optimizer kind, the parameters, the gradients of each step and where to write
the final state; the schedule points to evaluate; and checkpoint folders to read (some damaged on
purpose). Every number travels as a JSON number, which holds a float32 (or float64) exactly.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NamedTuple

import torch

from bdl_torch.errors import CheckpointError
from bdl_torch.optim import Optimizer, OptimizerConfig, OptimizerState
from bdl_torch.optimizer_files import read_optimizer_files, save_optimizer_files
from bdl_torch.schedule import learning_rate


class Spec(NamedTuple):
    """A parameter-table row, as a compiled module's `Spec` (only what the optimizer files need)."""

    name: str
    shape: tuple[int, ...]


def tensor(values: list[float], shape: list[int]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).reshape(shape)


def plain(state: OptimizerState) -> dict[str, Any]:
    """The state with its moments as flat lists, for JSON."""
    params = {
        name: {"step": p["step"], "shape": p["shape"], "m": p["m"].reshape(-1).tolist(), "v": p["v"].reshape(-1).tolist()}
        for name, p in state["params"].items()
    }
    return {"kind": state["kind"], "step": state["step"], "params": params}


def train(run: dict[str, Any]) -> dict[str, Any]:
    """The run's steps on the torch engine: the norms and rates of each, then the weights and state."""
    shapes = {p["name"]: p["shape"] for p in run["params"]}
    params = {p["name"]: torch.nn.Parameter(tensor(p["values"], p["shape"])) for p in run["params"]}
    no_decay = set(run["noDecay"])
    optimizer = Optimizer(params, OptimizerConfig.from_train(run["train"]), lambda name: name in no_decay)
    schedule = run["schedule"]
    norms, rates = [], []
    for t, step in enumerate(run["steps"]):
        lr = learning_rate(t, schedule["lr"], schedule["warmup"], schedule["decay"], schedule["steps"])
        grads = {name: tensor(values, shapes[name]) for name, values in step["grads"].items()}
        norms.append(optimizer.step(grads, lr, run["clipNorm"], step["micro"]))
        rates.append(lr)
    save_optimizer_files(run["writeTo"], optimizer.state())
    weights = {name: p.detach().reshape(-1).tolist() for name, p in params.items()}
    return {"norms": norms, "rates": rates, "weights": weights, "state": plain(optimizer.state())}


def read(job: dict[str, Any]) -> dict[str, Any]:
    """The state in a checkpoint folder, or the message it is refused with."""
    table = [Spec(row["name"], tuple(row["shape"])) for row in job["table"]]
    try:
        return {"state": plain(read_optimizer_files(job["dir"], table, job["kind"]))}
    except CheckpointError as e:
        return {"error": str(e)}


def main(job_path: str, out_path: str) -> None:
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    out = {
        "runs": [train(run) for run in job["runs"]],
        "schedule": [learning_rate(p["step"], p["lr"], p["warmup"], p["decay"], p["steps"]) for p in job["schedule"]],
        "reads": [read(r) for r in job["reads"]],
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
