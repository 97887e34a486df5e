"""`bdlc train --engine torch`: pretraining a compiled model with PyTorch, one process per rank under
torchrun, from a run folder bdl prepared (`RUN/torch/plan.json`, the module, the example shards):

    PYTHONPATH=RUN/torch python3 -m torch.distributed.run --nproc_per_node N ... -m bdl_torch.train RUN/torch/plan.json

Every step's batch is the tfjs engine's: the same example order and masks (pure functions of the
seed, the epoch and the example's index, with the same generator), split into one part per rank
and micro-batch. Each part's loss is its sums over the whole batch's totals (`Totals`), so the
parts' gradients, summed by DistributedDataParallel and by accumulation, are the whole batch's:
`--nproc 2` ends with the weights of `--nproc 1`. Rank 0 writes the run folder as the tfjs engine
does: log.jsonl, checkpoints in this project's layout with the optimizer state, `summary.json`.
SIGINT or SIGTERM on any rank, or a file `RUN/torch/stop`, stops every rank after the step, with a
checkpoint (`summary.json` says it stopped); a
run killed outright resumes from its last checkpoint exactly (`--resume`, or the plan's).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Optional

import torch
import torch.distributed as dist
from torch import nn

from .batches import BatchOrder, collate
from .checkpoint import load_step, save_step, saved_steps
from .errors import EXIT_INPUT, InputError
from .evaluate import evaluate
from .masking import MaskContext, mask_example
from .module import load_module, load_weights
from .optim import NonFiniteGradient, Optimizer
from .random import seed_from
from .safetensors import read_safetensors
from .schedule import learning_rate
from .shards import ExampleShards

@dataclasses.dataclass
class Ranks:
    """This process's place among the training processes (torchrun's environment)."""

    rank: int
    size: int
    local: int

    @staticmethod
    def from_environment() -> Ranks:
        return Ranks(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0)))

    @property
    def leader(self) -> bool:
        return self.rank == 0

    def sum(self, values: list[float], device: torch.device) -> list[float]:
        """The sums of `values` over every rank (the values themselves on one)."""
        if self.size == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(t)
        return t.tolist()


class StopRequest:
    """Set by SIGINT or SIGTERM; the loop stops after the step it is in, every rank together."""

    def __init__(self) -> None:
        self.requested = False
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, self.handle)

    def handle(self, signum: int, frame: Any) -> None:
        self.requested = True


def say(ranks: Ranks, event: str, /, **fields: Any) -> None:
    """One line of progress for bdlc (rank 0 only), as JSON."""
    if ranks.leader:
        print(json.dumps({"event": event, **fields}), flush=True)


def part_bounds(count: int, parts: int) -> list[tuple[int, int]]:
    """`count` items in `parts` consecutive parts, as the tfjs engine splits a batch into micro-batches (ceil-sized)."""
    per = math.ceil(count / parts)
    return [(min(p * per, count), min((p + 1) * per, count)) for p in range(parts)]


def totals_of(module: Any, masked: list[Any], ignore: int) -> Any:
    """The whole batch's counts, for the module's `Totals` (each rank masks the whole batch, so it knows them)."""
    counts = {
        "labelled": sum(sum(1 for label in m.labels if label != ignore) for m in masked),
        "real": sum(len(m.input_ids) for m in masked),
        "sequences": len(masked),
    }
    return module.Totals(**{f.name: counts[f.name] for f in dataclasses.fields(module.Totals)})


class Trainer:
    """One rank's training loop over the plan."""

    def __init__(self, plan_path: Path) -> None:
        self.plan_path = plan_path
        with open(plan_path, encoding="utf-8") as f:
            self.plan: dict[str, Any] = json.load(f)
        self.here = plan_path.parent
        self.run = self.here.parent
        self.settings: dict[str, Any] = self.plan["settings"]
        self.ranks = Ranks.from_environment()
        cuda = torch.cuda.is_available() and self.plan.get("device", "auto") != "cpu"
        self.device = torch.device(f"cuda:{self.ranks.local}" if cuda else "cpu")
        if self.ranks.size > 1:
            dist.init_process_group("nccl" if cuda else "gloo")
        if cuda:
            torch.cuda.set_device(self.device)
        self.module = load_module(self.here / self.plan["module"], "bdl_model")
        self.config: dict[str, Any] = self.module.CONFIG
        self.table = self.module.PARAMETERS
        # On CUDA, bf16 autocast and PyTorch's fused attention where this torch has them; on the CPU, neither:
        # the arithmetic is then the tfjs engine's, float32 and written out.
        self.bf16 = cuda and torch.cuda.is_bf16_supported() and self.plan.get("precision", "auto") in ("auto", "bf16")
        fused = self.plan.get("fused_attention", "auto")
        self.module.FUSED_ATTENTION = hasattr(nn.functional, "scaled_dot_product_attention") and (fused == "on" or (fused == "auto" and cuda))
        self.model: nn.Module = self.module.Model()
        self.teacher: Optional[nn.Module] = None
        self.teacher_config: Optional[dict[str, Any]] = None
        if self.plan.get("teacher"):
            teacher_module = load_module(self.here / self.plan["teacher"]["module"], "bdl_teacher")
            teacher_module.FUSED_ATTENTION = self.module.FUSED_ATTENTION
            self.teacher = teacher_module.Model().eval()
            self.teacher_config = teacher_module.CONFIG
            teacher_weights = self.here / self.plan["teacher"]["weights"]
            load_weights(self.teacher, read_safetensors(teacher_weights), str(teacher_weights))
            self.teacher.to(self.device)
        resume, weights, state = self.starting_point()
        if weights is None:
            # No first weights in the plan (a folder packed small to carry): a fresh draw from the seed.
            self.model.initialize(torch.Generator().manual_seed(self.settings["seed"]))
        else:
            load_weights(self.model, weights, "the run's first weights")
        self.model.to(self.device)
        decay = {spec.name: spec.decay for spec in self.table}
        self.params = dict(self.model.named_parameters())
        self.optimizer = Optimizer(
            {spec.name: self.params[spec.name] for spec in self.table},
            {**self.config["train"], "lr": self.settings["lr"]},
            no_decay=lambda name: not decay[name],
        )
        if state is not None:
            self.optimizer.load(state)
        self.start = resume
        self.examples = ExampleShards([self.here / s["file"] for s in self.plan["shards"]], [s["examples"] for s in self.plan["shards"]])
        self.order = BatchOrder(len(self.examples), self.settings["batch"], self.settings["seed"])
        held = self.plan.get("eval")
        held_out = ExampleShards([self.here / held["file"]], [held["examples"]]) if held else None
        self.eval_examples = [held_out[i] for i in range(len(held_out))] if held_out else []
        # One thread makes the next step's batch (masking, in Python) while this one computes.
        self.prefetch = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        self.ahead: Optional[tuple[int, concurrent.futures.Future[list[Any]]]] = None
        self.stop = StopRequest()
        self.stop_file = self.here / "stop"
        if self.ranks.leader:
            self.stop_file.unlink(missing_ok=True)  # left by a run stopped before: this one has just begun
        if self.ranks.size > 1:
            dist.barrier()
        self.ddp: nn.Module = self.model
        if self.ranks.size > 1:
            ids = [self.ranks.local] if cuda else None
            self.ddp = nn.parallel.DistributedDataParallel(self.model, device_ids=ids, find_unused_parameters=True)

    # ── weights and checkpoints ──────────────────────────────────────────────────────

    def starting_point(self) -> tuple[int, Optional[dict[str, torch.Tensor]], Optional[dict[str, Any]]]:
        """The step to start from with its weights and optimizer state: a checkpoint's, or step 0 with the plan's first weights."""
        checkpoints = self.run / "checkpoints"
        resume = self.plan.get("resume")
        if resume == "latest":
            steps = saved_steps(checkpoints)
            resume = steps[-1] if steps else None
        if resume is None:
            init = self.plan.get("init")
            return 0, read_safetensors(self.here / init) if init else None, None
        weights, state = load_step(checkpoints, int(resume), self.table, self.config["train"]["optimizer"])
        if self.ranks.leader:
            self.truncate_log(int(resume))
        return int(resume), weights, state

    def truncate_log(self, up_to: int) -> None:
        """Drops the log rows after the checkpoint resumed: the resumed run's log reads as one run."""
        log = self.run / "log.jsonl"
        if not log.exists():
            return
        kept = []
        for line in log.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill
            if not isinstance(row.get("step"), int) or row["step"] <= up_to:
                kept.append(json.dumps(row))
        temporary = log.with_name(f"log.jsonl.tmp-{os.getpid()}")
        temporary.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        os.replace(temporary, log)

    def save(self, step: int) -> None:
        if self.ranks.leader:
            weights = {spec.name: self.params[spec.name] for spec in self.table}
            save_step(
                self.run / "checkpoints",
                step,
                self.config,
                self.teacher_config,
                weights,
                self.optimizer.state(),
                self.plan["meta"],
                self.settings["keep"],
            )
        if self.ranks.size > 1:
            dist.barrier()

    def append_log(self, row: dict[str, Any]) -> None:
        if self.ranks.leader:
            with open(self.run / "log.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")

    # ── one step ─────────────────────────────────────────────────────────────────────

    def batch_for(self, step: int) -> list[Any]:
        """Step `step`'s masked batch, made while the previous step computed; the next one starts now.

        The batch is a pure function of (seed, step), so making it ahead changes nothing but when.
        """
        ahead = self.ahead
        masked = ahead[1].result() if ahead is not None and ahead[0] == step else self.masked_batch(step)
        self.ahead = (step + 1, self.prefetch.submit(self.masked_batch, step + 1)) if step + 1 < self.settings["steps"] else None
        return masked

    def masked_batch(self, step: int) -> list[Any]:
        cfg = self.config
        return [
            mask_example(
                self.examples[slot.index],
                cfg["masking"],
                MaskContext(
                    seed=self.settings["seed"], epoch=slot.epoch, index=slot.index, step=step, vocab=cfg["vocab"], special=cfg["special"]
                ),
            )
            for slot in self.order.slots(step)
        ]

    def step(self, step: int, lr: float) -> dict[str, Any]:
        """One optimisation step: this rank's micro-batches, their gradients summed over ranks, one update."""
        started = time.perf_counter()
        masked = self.batch_for(step)
        totals = totals_of(self.module, masked, self.module.IGNORE)
        micro = max(1, self.settings["accumulate"])
        bounds = part_bounds(len(masked), self.ranks.size * micro)[self.ranks.rank * micro : (self.ranks.rank + 1) * micro]
        pad = self.config["special"].get("pad", 0)
        pairs = self.plan["sentence_pairs"]
        segments = self.config["embeddings"]["segments"] > 0
        waited = time.perf_counter() - started
        sums = [0.0] * (1 + len(self.term_names))
        tokens = 0
        self.model.zero_grad(set_to_none=True)
        for m, (begin, end) in enumerate(bounds):
            if begin == end:
                continue
            data_started = time.perf_counter()
            collated = collate(masked[begin:end], pad, pairs, segments)
            tokens += collated.tokens
            b = collated.to(self.device).as_batch(self.module.Batch)
            waited += time.perf_counter() - data_started
            torch.manual_seed(seed_from(self.settings["seed"], "dropout", step, self.ranks.rank, m))
            args: list[Any] = [b]
            if self.teacher is not None:
                with self.autocast():
                    args.append(self.module.teacher_outputs(self.teacher, b.input_ids, b.attention_mask))
            last = m == len(bounds) - 1
            sync = contextlib.nullcontext() if last or self.ranks.size == 1 else self.ddp.no_sync()
            with sync, self.autocast():
                loss, terms, _ = self.ddp(*args, totals=totals)
                # DistributedDataParallel averages the ranks' gradients; the parts' are to be summed.
                (loss * self.ranks.size).backward()
            sums[0] += float(loss)
            for i, name in enumerate(self.term_names):
                sums[1 + i] += float(terms[name])
        reduced = self.ranks.sum(sums + [float(tokens)], self.device)
        loss_value, term_values, global_tokens = reduced[0], reduced[1 : 1 + len(self.term_names)], reduced[-1]
        if not math.isfinite(loss_value):
            raise InputError(
                f"step {step + 1}: the loss is not finite ({loss_value}); the weights are those of step {step}, "
                f"and the last checkpoint is kept as it was"
            )
        grads = {name: p.grad for name, p in self.params.items() if p.grad is not None}
        try:
            grad_norm = self.optimizer.step(grads, lr, self.settings["clip_norm"])
        except NonFiniteGradient as e:
            raise InputError(
                f"step {step + 1}: {e} (loss {loss_value}); the weights are those of step {step}, and the last checkpoint is kept as it was"
            ) from None
        return {
            "loss": loss_value,
            "terms": dict(zip(self.term_names, term_values)),
            "grad_norm": grad_norm,
            "tokens": global_tokens,
            "data_seconds": waited,
            "seconds": time.perf_counter() - started,
        }

    def autocast(self) -> Any:
        """bf16 autocast on CUDA where it is on; nothing otherwise."""
        return torch.autocast("cuda", dtype=torch.bfloat16) if self.bf16 else contextlib.nullcontext()

    @property
    def term_names(self) -> list[str]:
        return [o["name"] for o in self.config["objectives"] if self.teacher is not None or o["name"] not in ("distill", "cosine")]

    # ── held-out evaluation ──────────────────────────────────────────────────────────

    def evaluate(self, step: int) -> Optional[dict[str, Any]]:
        """The held-out MLM evaluation, as the tfjs engine computes it (rank 0; the others wait)."""
        result = None
        predicts = hasattr(self.model, "mlm_logits") or hasattr(self.model, "generator")
        if self.ranks.leader and self.eval_examples and predicts:
            batch = self.settings["eval_batch"]
            result = evaluate(self.model, self.module, self.eval_examples, self.settings["seed"], batch, self.device)
            self.append_log({"kind": "eval", "step": step, **result})
        if self.ranks.size > 1:
            dist.barrier()
        return result

    def ranks_agree(self) -> bool:
        """Whether every rank ends with the same weights, bit for bit (DDP keeps them so; this checks it)."""
        if self.ranks.size == 1:
            return True
        with torch.no_grad():
            flat = torch.cat([self.params[spec.name].detach().reshape(-1).float().cpu() for spec in self.table])
        digest = hashlib.sha256(flat.numpy().tobytes()).digest()[:7]
        ours = torch.tensor([int.from_bytes(digest, "little")], dtype=torch.int64, device=self.device)
        everyone = [torch.zeros_like(ours) for _ in range(self.ranks.size)]
        dist.all_gather(everyone, ours)
        return all(int(t) == int(ours) for t in everyone)

    # ── the loop ─────────────────────────────────────────────────────────────────────

    def train(self) -> int:
        s = self.settings
        started = time.time()
        step = self.start
        first_loss: Optional[float] = None
        last_loss: Optional[float] = None
        window: dict[str, Any] = {"steps": 0, "loss": 0.0, "terms": {}, "tokens": 0.0, "data": 0.0, "busy": 0.0, "start": time.time()}
        stopped = False
        self.tokens_trained = 0.0
        self.seconds_training = 0.0
        last_saved = self.start if self.start > 0 else -1
        where = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu"
        options = f", {'bf16' if self.bf16 else 'fp32'}, {'fused' if self.module.FUSED_ATTENTION else 'written-out'} attention"
        say(self.ranks, "message", text=f"torch {torch.__version__} on {where}{options}, {self.ranks.size} process(es)")
        while step < s["steps"]:
            # A signal to this rank, or bdlc's request (the stop file): every rank stops after the same step.
            asked = self.stop.requested or self.stop_file.exists()
            stop = self.ranks.sum([1.0 if asked else 0.0], self.device)[0] > 0
            if stop:
                stopped = True
                break
            lr = learning_rate(step, s["lr"], self.config["train"]["warmup"], self.config["train"]["decay"], s["steps"])
            result = self.step(step, lr)
            self.tokens_trained += result["tokens"]
            self.seconds_training += result["seconds"]
            first_loss = result["loss"] if first_loss is None else first_loss
            last_loss = result["loss"]
            window["steps"] += 1
            window["loss"] += result["loss"]
            for k, v in result["terms"].items():
                window["terms"][k] = window["terms"].get(k, 0.0) + v
            window["tokens"] += result["tokens"]
            window["data"] += result["data_seconds"]
            window["busy"] += result["seconds"]
            step += 1
            if step % s["log_every"] == 0 or step == s["steps"]:
                seconds = max(time.time() - window["start"], 1e-9)
                terms = {k: v / window["steps"] for k, v in window["terms"].items()}
                row = {
                    "step": step,
                    "loss": window["loss"] / window["steps"],
                    "terms": terms,
                    **terms,
                    "steps_averaged": window["steps"],
                    "lr": lr,
                    "tokens_per_s": window["tokens"] / seconds,
                    "grad_norm": result["grad_norm"],
                    # The share of step time spent waiting for the batch (made ahead in a thread) and collating it.
                    "data_share": window["data"] / max(window["busy"], 1e-9),
                }
                self.append_log(row)
                eta = (s["steps"] - step) * seconds / window["steps"]
                say(self.ranks, "progress", step=step, steps=s["steps"], loss=row["loss"], tokens_per_s=row["tokens_per_s"], eta=eta)
                window = {"steps": 0, "loss": 0.0, "terms": {}, "tokens": 0.0, "data": 0.0, "busy": 0.0, "start": time.time()}
            if step % s["save_every"] == 0 and step < s["steps"]:
                self.save(step)
                last_saved = step
            if s["eval_every"] > 0 and step % s["eval_every"] == 0 and step < s["steps"]:
                self.evaluate(step)
        if step > self.start and last_saved != step:
            self.save(step)
        evaluation = None if stopped else self.evaluate(step)
        agree = self.ranks_agree()
        newest = saved_steps(self.run / "checkpoints")
        summary = {
            "from": self.start,
            "steps": step - self.start,
            "stoppedEarly": stopped,
            "checkpoint": str(self.run / "checkpoints" / f"step-{newest[-1]}") if newest else None,
            "seconds": time.time() - started,
            "firstLoss": first_loss,
            "lastLoss": last_loss,
            "evaluation": evaluation,
            "ranks": self.ranks.size,
            "ranksAgree": agree,
            "device": torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu",
            "precision": "bf16" if self.bf16 else "fp32",
            "fusedAttention": bool(self.module.FUSED_ATTENTION),
            "tokensPerSecond": self.tokens_trained / max(self.seconds_training, 1e-9),
            "peakMemoryBytes": torch.cuda.max_memory_allocated(self.device) if self.device.type == "cuda" else None,
        }
        if self.ranks.leader:
            temporary = self.here / f"summary.json.tmp-{os.getpid()}"
            temporary.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
            os.replace(temporary, self.here / "summary.json")
        self.prefetch.shutdown(wait=False, cancel_futures=True)
        say(self.ranks, "done", **summary)
        # A stop is a clean end (torchrun takes any other code for a failed worker); summary.json says it stopped.
        return 0


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python3 -m bdl_torch.train RUN/torch/plan.json", file=sys.stderr)
        return 2
    try:
        trainer = Trainer(Path(args[0]).resolve())
        code = trainer.train()
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    if dist.is_initialized():
        dist.destroy_process_group()
    return code


if __name__ == "__main__":
    sys.exit(main())
