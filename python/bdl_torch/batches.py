"""Which examples form each step's batch, and masked examples → padded tensors.

`BatchOrder` is src/runtime/train/schedule-data.ts: the batch of a step is a pure function of
(seed, step), so a resumed run sees the batches, and with masks drawn from (seed, epoch, index)
the masks, an uninterrupted run would. `collate` is src/runtime/train/collate.ts, with the
tensors named as a compiled module's `Batch` names its fields. A training step of the tfjs
engine is, on the data side:

    slots = order.slots(step)
    masked = [mask_example(examples[s.index], CONFIG["masking"],
                           MaskContext(seed, s.epoch, s.index, step, vocab, special)) for s in slots]
    batch = collate(masked, pad_id, sentence_objective, with_segments)

(with `accumulate` micro-batches, slots[m*per:(m+1)*per] for per = ceil(len(slots) / micro)).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import torch
from torch import Tensor

from .examples import MaskedExample
from .masking import NOT_PREDICTED
from .random import create_rng, seed_from, shuffle


@dataclass(frozen=True)
class BatchSlot:
    """One example of a batch: its epoch (for its mask) and its index in the unshuffled list."""

    epoch: int
    index: int


class BatchOrder:
    """Epoch e visits every example once, in an order drawn from (seed, "order", e); batches run on across epochs."""

    def __init__(self, examples: int, batch: int, seed: int) -> None:
        if examples < 1:
            raise ValueError("no training examples")
        self._examples = examples
        self._batch = batch
        self._seed = seed
        self._permutations: dict[int, list[int]] = {}

    def _order(self, epoch: int) -> list[int]:
        permutation = self._permutations.get(epoch)
        if permutation is None:
            permutation = list(shuffle(list(range(self._examples)), create_rng(seed_from(self._seed, "order", epoch))))
            # Keep only the current and the next epoch's orders: a long run must not hoard them.
            for old in [e for e in self._permutations if e < epoch - 1]:
                del self._permutations[old]
            self._permutations[epoch] = permutation
        return permutation

    def slots(self, step: int) -> list[BatchSlot]:
        """The `batch` examples of `step` (0-based), continuing across epoch boundaries."""
        out: list[BatchSlot] = []
        for j in range(self._batch):
            position = step * self._batch + j
            epoch = position // self._examples
            out.append(BatchSlot(epoch, self._order(epoch)[position % self._examples]))
        return out


@dataclass
class Collated:
    """A batch as tensors ([B, S] or [B], int64), padded to its longest example, named as `Batch` names them.

    A field is None where the batch has none: token types without segments, the sentence labels
    of the objective not trained, document ids when no example carries documents.
    """

    input_ids: Tensor
    attention_mask: Tensor
    labels: Tensor
    token_type_ids: Optional[Tensor] = None
    next_sentence_label: Optional[Tensor] = None
    sentence_order_label: Optional[Tensor] = None
    document_ids: Optional[Tensor] = None
    tokens: int = 0
    """Real (non-padding) tokens, for throughput, as the TypeScript Batch counts them."""
    predicted: int = 0
    """Positions with an MLM label."""

    def tensors(self) -> dict[str, Tensor]:
        """The tensors that are present, by field name."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), Tensor)
        }

    def to(self, device: torch.device) -> Collated:
        """The same batch with its tensors on `device`."""
        return dataclasses.replace(self, **{name: t.to(device) for name, t in self.tensors().items()})

    def as_batch(self, batch_class: Any) -> Any:
        """A compiled module's `Batch` from these tensors: those of the fields it declares."""
        declared = {f.name for f in dataclasses.fields(batch_class)}
        return batch_class(**{name: t for name, t in self.tensors().items() if name in declared})


def _padded(rows: Sequence[Sequence[int]], length: int, value: int) -> Tensor:
    return torch.tensor([list(row) + [value] * (length - len(row)) for row in rows], dtype=torch.long)


def collate(masked: Sequence[MaskedExample], pad_id: int, sentence_objective: Optional[str], with_segments: bool) -> Collated:
    """Masked examples → tensors, padded to the longest: ids with `pad_id`, the attention mask with 0,
    labels with -100, token types with 0, and document ids with -1 (padding gets a document of its
    own; an example without documents counts as document 0). `sentence_objective` is "nsp", "sop"
    or None; a missing sentence label is 0.
    """
    if not masked:
        raise ValueError("a batch needs at least one example")
    length = max(len(m.input_ids) for m in masked)
    out = Collated(
        input_ids=_padded([m.input_ids for m in masked], length, pad_id),
        attention_mask=_padded([[1] * len(m.input_ids) for m in masked], length, 0),
        labels=_padded([m.labels for m in masked], length, NOT_PREDICTED),
        tokens=sum(len(m.input_ids) for m in masked),
        predicted=sum(1 for m in masked for label in m.labels if label != NOT_PREDICTED),
    )
    if with_segments:
        out.token_type_ids = _padded([m.token_types for m in masked], length, 0)
    if sentence_objective:
        sentence = torch.tensor([0 if m.sentence_label is None else m.sentence_label for m in masked], dtype=torch.long)
        if sentence_objective == "nsp":
            out.next_sentence_label = sentence
        elif sentence_objective == "sop":
            out.sentence_order_label = sentence
    if any(m.documents is not None for m in masked):
        rows = [m.documents if m.documents is not None else [0] * len(m.input_ids) for m in masked]
        out.document_ids = _padded(rows, length, -1)
    return out
