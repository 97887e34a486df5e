"""Training sequences before and after masking, as src/runtime/data/types.ts shapes them.

The TypeScript pipeline builds the examples (documents → sentence pairs or packed sentences);
the torch engine receives them and masks, orders and batches them itself (masking.py,
batches.py). These are the two records that pass between those stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional


@dataclass
class Example:
    """One training sequence: [CLS] A [SEP] (B [SEP]), or packed sentences, with segment ids."""

    ids: list[int]
    words: list[int]
    """Word index per token, shared by the tokens of one word; -1 for special tokens, never masked."""
    token_types: list[int]
    sentence_label: Optional[int] = None
    """NSP: 1 = B is random, 0 = B followed A. SOP: 1 = swapped, 0 = in order. None without either."""
    documents: Optional[list[int]] = None
    """With a document mask: per token, the index of its document among those packed together."""

    @staticmethod
    def from_json(value: Mapping[str, Any]) -> "Example":
        """An Example from the TypeScript's JSON of one (`ids`, `words`, `tokenTypes`, …)."""
        return Example(
            ids=list(value["ids"]),
            words=list(value["words"]),
            token_types=list(value["tokenTypes"]),
            sentence_label=value.get("sentenceLabel"),
            documents=None if value.get("documents") is None else list(value["documents"]),
        )


@dataclass
class MaskedExample:
    """An example after masking: the model's inputs and the MLM labels (-100 where not predicted)."""

    input_ids: list[int]
    labels: list[int]
    token_types: list[int]
    sentence_label: Optional[int] = None
    documents: Optional[list[int]] = None
