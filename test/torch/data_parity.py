"""The Python half of test/torch/data-parity.test.ts: the torch engine's data pipeline on the
test's inputs, each section answered by the port under test (python/bdl_torch).

    python3 data_parity.py REQUEST.json RESPONSE.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

import torch

from bdl_torch.batches import BatchOrder, Collated, collate
from bdl_torch.evaluate_data import eval_batch_size, eval_batches, evaluate_mlm, predicted_rows
from bdl_torch.examples import Example, MaskedExample
from bdl_torch.masking import (
    MaskContext,
    mask_example,
    mask_seed,
    maskable_positions,
    masking_rate,
    prediction_budget,
    sample_span_length,
    select_masked_spans,
    span_length_probabilities,
)
from bdl_torch.random import create_rng, mulberry32, seed_from, shuffle


def masked_json(m: MaskedExample) -> dict[str, Any]:
    return {
        "inputIds": m.input_ids,
        "labels": m.labels,
        "tokenTypes": m.token_types,
        "sentenceLabel": m.sentence_label,
        "documents": m.documents,
    }


def collated_json(b: Collated) -> dict[str, Any]:
    out: dict[str, Any] = {name: t.tolist() for name, t in b.tensors().items()}
    out["dtypes"] = sorted({str(t.dtype) for t in b.tensors().values()})
    out["tokens"] = b.tokens
    out["predicted"] = b.predicted
    return out


def random_section(req: dict[str, Any]) -> dict[str, Any]:
    sequences = []
    for seed in req["seeds"]:
        draw = mulberry32(seed)
        rng = create_rng(seed)
        sequences.append({"floats": [draw() for _ in range(req["draws"])], "ints": [rng.int(n) for n in req["ns"]]})
    shuffles = []
    for size, seed in req["shuffles"]:
        shuffles.append(list(shuffle(list(range(size)), create_rng(seed))))
    return {"seeds": [seed_from(*parts) for parts in req["parts"]], "sequences": sequences, "shuffles": shuffles}


def context(case: dict[str, Any], config: dict[str, Any]) -> MaskContext:
    return MaskContext(case["seed"], case["epoch"], case["index"], case["step"], config["vocab"], config["special"])


def masking_section(req: dict[str, Any]) -> dict[str, Any]:
    examples = [Example.from_json(e) for e in req["examples"]]
    configs = req["configs"]
    masked, spans, seeds, maskable = [], [], [], []
    for case in req["cases"]:
        ex, config = examples[case["example"]], configs[case["config"]]
        ctx = context(case, config)
        masked.append(masked_json(mask_example(ex, config["masking"], ctx)))
        seeds.append(mask_seed(config["masking"], ctx))
        if case["spans"]:
            spans.append(select_masked_spans(ex, config["masking"], ctx))
            maskable.append(maskable_positions(ex, config["special"]))
    return {"masked": masked, "spans": spans, "seeds": seeds, "maskable": maskable}


def functions_section(req: dict[str, Any]) -> dict[str, Any]:
    lengths = []
    for p, max_length, seed, draws in req["lengths"]:
        rng = create_rng(seed)
        lengths.append([sample_span_length(rng, p, max_length) for _ in range(draws)])
    return {
        "rates": [masking_rate(rate, step) for rate, step in req["rates"]],
        "budgets": [prediction_budget(rate, maskable) for rate, maskable in req["budgets"]],
        "probabilities": [span_length_probabilities(p, max_length) for p, max_length in req["probabilities"]],
        "lengths": lengths,
    }


def orders_section(req: list[dict[str, Any]]) -> list[list[list[dict[str, int]]]]:
    out = []
    for o in req:
        order = BatchOrder(o["examples"], o["batch"], o["seed"])
        out.append([[{"epoch": s.epoch, "index": s.index} for s in order.slots(step)] for step in o["steps"]])
    return out


def collate_section(req: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in req:
        masked = [
            MaskedExample(m["inputIds"], m["labels"], m["tokenTypes"], m.get("sentenceLabel"), m.get("documents"))
            for m in c["masked"]
        ]
        out.append(collated_json(collate(masked, c["padId"], c["objective"], c["withSegments"])))
    return out


def features(input_ids: torch.Tensor, hidden: int) -> torch.Tensor:
    """The test's stand-in encoder, as the TypeScript stub computes it: [B, S] → [B, S, 1 + hidden], the id first."""
    b, s = input_ids.shape
    k = torch.arange(hidden - 1)
    position = torch.arange(s)[None, :, None]
    ids = input_ids[:, :, None]
    h = ((ids * (k + 3) + position * 7 + k) % 3 - 1).float()
    return torch.cat([input_ids[:, :, None].float(), h, torch.ones(b, s, 1)], dim=2)


def eval_section(req: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in req:
        examples = [Example.from_json(x) for x in e["examples"]]
        weights = torch.tensor(e["weights"], dtype=torch.float32)
        batches = list(
            eval_batches(
                examples,
                e["masking"],
                seed=e["seed"],
                batch=e["batch"],
                pad_id=e["padId"],
                with_segments=e["withSegments"],
                vocab=e["vocab"],
                special=e["special"],
            )
        )

        def logits_of(b: Collated) -> tuple[torch.Tensor, torch.Tensor]:
            rows, labels = predicted_rows(b)
            h = features(b.input_ids, weights.shape[0]).reshape(-1, 1 + weights.shape[0])[rows]
            boost = torch.nn.functional.one_hot(h[:, 0].long(), weights.shape[1]).float() * e["boost"]
            return h[:, 1:] @ weights + boost, labels

        result = evaluate_mlm(batches, logits_of)
        out.append({"batches": [collated_json(b) for b in batches], "result": vars(result)})
    return out


def main() -> None:
    with open(sys.argv[1], encoding="utf8") as f:
        req = json.load(f)
    response = {
        "random": random_section(req["random"]),
        "masking": masking_section(req["masking"]),
        "functions": functions_section(req["functions"]),
        "orders": orders_section(req["orders"]),
        "collate": collate_section(req["collate"]),
        "evalBatchSizes": [eval_batch_size(seq) for seq in req["evalBatchSizes"]],
        "eval": eval_section(req["eval"]),
    }
    with open(sys.argv[2], "w", encoding="utf8") as f:
        json.dump(response, f)


if __name__ == "__main__":
    main()
