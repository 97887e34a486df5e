"""The held-out evaluation of a training run, as the tfjs engine computes it (src/runtime/train/evaluate.ts):
MLM loss, accuracy and perplexity over the evaluation batches of `evaluate_data.py`, and for ELECTRA
the discriminator's replaced-token detection on the same batches, with the generator's samples drawn
on the host in float64 from the same seed as the tfjs engine draws them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional, Sequence

import torch
from torch import Tensor, nn

from .batches import Collated
from .evaluate_data import eval_batches, evaluate_mlm, predicted_rows
from .examples import Example
from .js import imul, to_uint32
from .module import encode_args
from .random import create_rng


def step_seed(seed: int, step: int, counter: int = 0) -> int:
    """The tfjs engine's `stepRandomness(seed, step).nextSeed()`, its `counter`-th call."""
    return to_uint32(imul(to_uint32(seed ^ 0x9E3779B9), 0x85EBCA6B) + imul(step + 1, 0xC2B2AE35) + counter * 0x27D4EB2F)


def sample_on_host(logits: Tensor, seed: int) -> Tensor:
    """One token per row of `logits` [N, V] from its softmax, as the tfjs engine's `sampleTokens`: in float64,
    the first token whose cumulative weight passes a uniform draw from mulberry32(seed)."""
    rng = create_rng(seed)
    weights = torch.exp(logits.double() - logits.double().max(dim=1, keepdim=True).values).cpu()
    samples = []
    for row in weights:
        target = rng() * float(row.sum())
        cumulative = torch.cumsum(row, 0)
        passed = (cumulative > target).nonzero()
        samples.append(int(passed[0]) if len(passed) > 0 else row.shape[0] - 1)
    return torch.tensor(samples, dtype=torch.long, device=logits.device)


def evaluate(model: nn.Module, module: Any, examples: Sequence[Example], seed: int, batch: int, device: torch.device) -> dict[str, Any]:
    """The evaluation's numbers under the names the log gives them (model in eval mode for the while)."""
    config = module.CONFIG
    predictor = model.generator if hasattr(model, "generator") else model
    batches = [
        b.to(device)
        for b in eval_batches(
            examples,
            config["masking"],
            seed=seed,
            batch=batch,
            pad_id=config["special"].get("pad", 0),
            with_segments=config["embeddings"]["segments"] > 0,
            vocab=config["vocab"],
            special=config["special"],
        )
    ]
    rtd = {"loss": 0.0, "correct": 0.0, "replaced": 0.0, "tokens": 0.0}
    # The first example's index of the batch being evaluated: the tfjs engine seeds its samples by it.
    start = [0]

    def logits_of(b: Collated) -> tuple[Tensor, Tensor]:
        rows, labels = predicted_rows(b)
        h = predictor.encode(b.input_ids, b.attention_mask, **encode_args(module, b)).last_hidden_state
        logits = predictor.mlm_logits(h.reshape(-1, h.shape[-1])[rows])
        if predictor is not model:
            add_replaced_token_counts(rtd, model, module, b, logits, step_seed(seed, start[0]))
        start[0] += int(b.input_ids.shape[0])
        return logits, labels

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            result = dataclasses.asdict(evaluate_mlm(batches, logits_of))
    finally:
        model.train(was_training)
    if predictor is not model:
        tokens = max(1.0, rtd["tokens"])
        result.update(rtd_loss=rtd["loss"] / tokens, rtd_accuracy=rtd["correct"] / tokens, replaced=rtd["replaced"] / tokens)
    return result


def add_replaced_token_counts(counts: dict[str, float], model: nn.Module, module: Any, b: Collated, logits: Tensor, seed: int) -> None:
    """ELECTRA's discriminator on one batch, with the generator's samples in place of the masked tokens."""
    corrupted, replaced = module.replace_tokens(b.input_ids, b.labels, sample_on_host(logits, seed))
    out = model.encode(corrupted, b.attention_mask, **encode_args(module, b))
    rtd_logits = model.rtd_logits(out.last_hidden_state)
    real = b.attention_mask.bool()
    counts["loss"] += float(nn.functional.binary_cross_entropy_with_logits(rtd_logits[real], replaced[real], reduction="sum"))
    counts["correct"] += float((((rtd_logits > 0).float() == replaced) & real).sum())
    counts["replaced"] += float(replaced[real].sum())
    counts["tokens"] += float(real.sum())
