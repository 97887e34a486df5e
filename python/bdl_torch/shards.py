"""The training examples bdl prepared, read from their shards.

Each shard (`train-00000.safetensors`, …) holds a run of examples as flat int32 arrays: `ids`,
`words` and `token_types` (every token of every example, one after another), `documents` when
packed documents are kept apart, `offsets` (example e's tokens are offsets[e]:offsets[e + 1])
and `sentence_labels` (-1 where the example has none). Every rank reads every shard: a step's
batch is drawn from all examples, and each rank masks the whole batch to know its totals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch

from .examples import Example
from .safetensors import read_safetensors


class ExampleShards:
    """Examples by index across the shards, each shard read when first needed and kept."""

    def __init__(self, paths: list[Path], sizes: list[int]) -> None:
        self.paths = paths
        self.starts = [sum(sizes[:i]) for i in range(len(sizes))]
        self.sizes = sizes
        self.loaded: dict[int, dict[str, torch.Tensor]] = {}

    def __len__(self) -> int:
        return sum(self.sizes)

    def shard(self, s: int) -> dict[str, torch.Tensor]:
        if s not in self.loaded:
            self.loaded[s] = read_safetensors(self.paths[s])
        return self.loaded[s]

    def __getitem__(self, index: int) -> Example:
        if not 0 <= index < len(self):
            raise IndexError(f"example {index} of {len(self)}")
        s = max(i for i, start in enumerate(self.starts) if start <= index)
        data = self.shard(s)
        e = index - self.starts[s]
        begin, end = int(data["offsets"][e]), int(data["offsets"][e + 1])
        label = int(data["sentence_labels"][e])
        documents: Optional[list[int]] = data["documents"][begin:end].tolist() if "documents" in data else None
        return Example(
            ids=data["ids"][begin:end].tolist(),
            words=data["words"][begin:end].tolist(),
            token_types=data["token_types"][begin:end].tolist(),
            sentence_label=None if label < 0 else label,
            documents=documents,
        )
