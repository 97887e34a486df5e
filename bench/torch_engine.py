#!/usr/bin/env python3
"""The torch engine's side of the training benchmark: the PyTorch module bdl compiled for a bench
config (the same post-LN BERT with a tied MLM head that bench/train.mjs and bench/torch_reference.py
measure), stepped as `bdlc train --engine torch` steps it: the module's loss at the ~15% predicted
positions, backward, the support package's AdamW with global-norm clipping to 1. Inference: the
encoder and the MLM logits at every position, summed and read back. Dropout off.

    PYTHONPATH=python python3 bench/torch_engine.py --module M.py --config NAME --steps N [--warmup W]
        [--threads T] [--device cpu|cuda]

Prints one JSON line: {"suite": "torch-engine", "config", "device", "threads", "torch",
"train_tokens_per_s", "infer_tokens_per_s", "train_step_ms", "infer_step_ms", "params"}.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from bdl_torch.batches import Collated
from bdl_torch.module import load_module
from bdl_torch.optim import Optimizer

CONFIG_FILE = Path(__file__).resolve().parent / "configs.json"


def fixed_batch(c: dict, device: torch.device) -> dict:
    """Random ids and 15% of positions predicted, drawn as bench/train.mjs draws them."""
    seed = 1

    def rand() -> float:
        nonlocal seed
        seed = (seed * 1103515245 + 12345) % 2**32
        return seed / 2**32

    ids = [[5 + int(rand() * (c["vocab"] - 5)) for _ in range(c["seq"])] for _ in range(c["batch"])]
    labels = [[v if rand() < 0.15 else -100 for v in row] for row in ids]
    to = lambda rows: torch.tensor(rows, dtype=torch.long, device=device)  # noqa: E731
    return {"input_ids": to(ids), "attention_mask": torch.ones(c["batch"], c["seq"], dtype=torch.long, device=device), "labels": to(labels)}


def timed(fn, steps: int, warmup: int, device: torch.device) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    c = json.loads(CONFIG_FILE.read_text())["configs"][a.config]
    module = load_module(a.module)
    model = module.Model()
    model.initialize(torch.Generator().manual_seed(0))
    model.to(device)
    params = dict(model.named_parameters())
    optimizer = Optimizer(
        params, {"optimizer": "adamw", "lr": 1e-4, "beta1": 0.9, "beta2": 0.999, "eps": 1e-6, "weight_decay": 0.01}, no_decay=lambda n: False
    )
    b = Collated(**fixed_batch(c, device)).as_batch(module.Batch)

    def train_step() -> None:
        model.zero_grad(set_to_none=True)
        loss, _, _ = model(b)
        loss.backward()
        optimizer.step({n: p.grad for n, p in params.items() if p.grad is not None}, 1e-4, 1.0)

    def infer_step() -> float:
        with torch.no_grad():
            h = model.encode(b.input_ids, b.attention_mask).last_hidden_state
            return float(model.mlm_logits(h.reshape(-1, h.shape[-1])).sum())

    train_s = timed(train_step, a.steps, a.warmup, device)
    model.eval()
    infer_s = timed(infer_step, a.steps, a.warmup, device)
    tokens = c["batch"] * c["seq"]
    print(json.dumps({
        "suite": "torch-engine",
        "config": a.config,
        "device": a.device,
        "threads": a.threads,
        "torch": torch.__version__,
        "train_tokens_per_s": round(tokens / train_s),
        "infer_tokens_per_s": round(tokens / infer_s),
        "train_step_ms": round(train_s * 1000, 1),
        "infer_step_ms": round(infer_s * 1000, 1),
        "params": sum(p.numel() for p in params.values()),
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
