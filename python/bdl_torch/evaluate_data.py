"""The held-out masked-LM evaluation of src/runtime/train/evaluate.ts (`evaluateMlm`), for the torch engine.

Which data it sees. The trainer evaluates the first `evalExamples` held-out examples, built as
packed sentences (no NSP/SOP pairs: every held-out token is used), in their order, unshuffled.
They are masked with the model's masking block fixed to one task for the whole run: the rate is
the schedule's starting rate (`rate`, or a ramp's `from`), the schedule `dynamic`, the 80/10/10
(`mask`/`random`/`keep`) and the unit the model's, and the context (seed, epoch 0, index = the
example's position in that list, step 0, the model's vocab and special ids). They are cut into
consecutive batches of `eval_batch_size(train.seq)` (the last may be shorter) and collated
without sentence labels, with token types when the model has segments and document ids when
the examples carry documents. `eval_batches` yields exactly those batches, in that order.

How the numbers are aggregated. For each batch the MLM logits are computed at the labelled
positions only, in row-major order (batch row, then position); per batch, in float32, the sum
over those positions of -log_softmax(logits)[label] and the count of positions whose argmax
(the first maximum) is the label. The sums and counts then add up over all batches (in a double),
and

    mlm_loss = Σ loss sums / max(1, Σ predicted)       (a mean over every predicted token, not of batch means)
    perplexity = exp(mlm_loss)
    mlm_accuracy = Σ hits / max(1, Σ predicted)

`evaluate_mlm` does that given a `logits_of(batch)`. ELECTRA's replaced-token detection numbers
(rtd_loss, rtd_accuracy, replaced) are not ported: they replay generator samples that the tfjs
engine draws with its own random kernels from (seed, batch start), which no other engine draws alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import torch
from torch import Tensor

from .batches import Collated, collate
from .examples import Example
from .masking import NOT_PREDICTED, MaskContext, MaskingConfig, mask_example

EVAL_ATTENTION_BUDGET = 32 * 128 * 128
"""Sequences × seq² per evaluation batch: 32 sequences at seq 128."""


def eval_batch_size(seq: int) -> int:
    """Sequences per evaluation batch: 32 at seq 128, fewer for longer ones (batch × seq² ≤ 32 × 128²)."""
    return max(1, min(32, EVAL_ATTENTION_BUDGET // (seq * seq)))


def eval_masking(masking: MaskingConfig) -> dict[str, Any]:
    """The model's masking fixed for evaluation: its starting rate and a dynamic schedule, the rest as is."""
    rate = masking["rate"]
    return {**masking, "rate": rate["from"] if isinstance(rate, Mapping) else rate, "schedule": {"kind": "dynamic"}}


def eval_batches(
    examples: Sequence[Example],
    masking: MaskingConfig,
    *,
    seed: int,
    batch: int,
    pad_id: int,
    with_segments: bool,
    vocab: int,
    special: Mapping[str, int],
) -> Iterator[Collated]:
    """The batches evaluateMlm computes its numbers on, in its order (see the module docstring)."""
    fixed = eval_masking(masking)
    for start in range(0, len(examples), batch):
        chunk = [
            mask_example(ex, fixed, MaskContext(seed=seed, epoch=0, index=start + i, step=0, vocab=vocab, special=special))
            for i, ex in enumerate(examples[start : start + batch])
        ]
        yield collate(chunk, pad_id, None, with_segments)


@dataclass
class MlmEvaluation:
    """evaluateMlm's numbers, under the names the training log gives them."""

    mlm_loss: float
    perplexity: float
    mlm_accuracy: float
    predicted: int
    examples: int


LogitsOf = Callable[[Collated], tuple[Tensor, Tensor]]
"""A batch → (MLM logits [N, vocab] at its labelled positions in row-major order, their labels [N])."""


def evaluate_mlm(batches: Iterable[Collated], logits_of: LogitsOf) -> MlmEvaluation:
    """Aggregate as evaluateMlm does: per-batch float32 sums, added over batches, over every predicted token.

    With a compiled module's model (for ELECTRA, the MLM is its generator's), `logits_of` is

        def logits_of(b):
            rows, labels = predicted_rows(b)
            h = model.encode(b.input_ids, b.attention_mask, ...).last_hidden_state
            return model.mlm_logits(h.reshape(-1, h.shape[-1])[rows]), labels

    The argmax takes the first of tied maxima, as tfjs's does.
    """
    loss_sum = 0.0
    correct = 0
    predicted = 0
    examples = 0
    with torch.no_grad():
        for b in batches:
            logits, labels = logits_of(b)
            logits = logits.float()
            labels = labels.long()
            picked = torch.log_softmax(logits, dim=1).gather(1, labels[:, None])[:, 0]
            loss_sum += float(-picked.sum())
            correct += int((logits.argmax(dim=1) == labels).sum())
            predicted += int(labels.shape[0])
            examples += int(b.input_ids.shape[0])
    mlm_loss = loss_sum / max(1, predicted)
    return MlmEvaluation(
        mlm_loss=mlm_loss,
        perplexity=math.exp(mlm_loss),
        mlm_accuracy=correct / max(1, predicted),
        predicted=predicted,
        examples=examples,
    )


def predicted_rows(batch: Collated) -> tuple[Tensor, Tensor]:
    """The flat indices (row-major over [B, S]) of the labelled positions, and their labels: what `logits_of` selects."""
    flat = batch.labels.reshape(-1)
    keep = (flat != NOT_PREDICTED).nonzero()[:, 0]
    return keep, flat[keep]
