"""`bdlc run --engine torch`: one forward pass of a compiled model on explicit inputs and, where labels
are given, the loss and one backward pass.

    python3 -m bdl_torch.run --module M.py --weights W.safetensors --inputs IN.json --out OUT.json
        [--teacher-module T.py --teacher-weights TW.safetensors]

IN.json uses Hugging Face's argument names (as `bdlc run` documents them). OUT.json holds the
outputs under the same names as the tfjs engine's, and `grad_squares`: each parameter's squared
gradient norm by its name in the parameter table, which bdlc keys by Hugging Face names.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from types import ModuleType
from typing import Any, Optional

import torch
from torch import Tensor

from .errors import EXIT_INPUT, InputError
from .module import encode_args, load_module, load_weights
from .safetensors import read_safetensors

# IN.json's [batch][sequence] fields and its [batch] ones, as Batch names them.
MATRICES = ("attention_mask", "token_type_ids", "labels", "document_ids", "generator_samples")
VECTORS = ("next_sentence_label", "sentence_order_label")
LABELS = ("labels", "next_sentence_label", "sentence_order_label", "generator_samples")


def load_model(module: ModuleType, weights_path: str) -> torch.nn.Module:
    """The module's Model with the weights of `weights_path` (tensors named as in its parameter table)."""
    model = module.Model()
    load_weights(model, read_safetensors(weights_path), weights_path)
    return model.eval()


def as_tensor(value: Any) -> Tensor:
    return torch.tensor(value, dtype=torch.long)


def batch_of(module: ModuleType, inputs: dict[str, Any], with_labels: bool) -> Any:
    """The module's Batch from IN.json: the fields it declares; a label it needs and IN.json lacks is named."""
    ids = inputs["input_ids"]
    values: dict[str, Tensor] = {"input_ids": as_tensor(ids)}
    values["attention_mask"] = as_tensor(inputs.get("attention_mask") or [[1] * len(row) for row in ids])
    for key in MATRICES[1:] + VECTORS:
        if inputs.get(key) is not None:
            values[key] = as_tensor(inputs[key])
    fields = {f.name: f for f in dataclasses.fields(module.Batch)}
    if "document_ids" in values and "document_ids" not in fields:
        raise InputError("document_ids: this model's PyTorch module keeps no documents apart (train { document_mask true })")
    chosen = {}
    for name, field in fields.items():
        required = field.default is dataclasses.MISSING
        if name in values:
            chosen[name] = values[name]
        elif required and (with_labels or name not in LABELS):
            raise InputError(f"IN.json has no '{name}', which this model's loss needs")
        elif required:
            chosen[name] = None
    return module.Batch(**chosen)


def encoder_outputs(model: torch.nn.Module, module: ModuleType, b: Any) -> dict[str, Any]:
    """The forward pass's outputs, under Hugging Face's names."""
    out: dict[str, Any] = {}
    extra = encode_args(module, b)
    if hasattr(model, "generator"):
        generated = model.generator.encode(b.input_ids, b.attention_mask, **extra)
        out["generator_last_hidden_state"] = generated.last_hidden_state.tolist()
        out["generator_hidden_states"] = [h.tolist() for h in generated.hidden_states]
        out["generator_logits"] = model.generator.mlm_logits(generated.last_hidden_state).tolist()
        ids = b.input_ids
        if getattr(b, "generator_samples", None) is not None and b.labels is not None:
            predicted = b.labels != module.IGNORE
            samples = b.generator_samples[predicted]
            if bool((samples < 0).any()):
                raise InputError("generator_samples must be token ids at every labelled position")
            ids, _ = module.replace_tokens(b.input_ids, b.labels, samples)
            out["discriminator_input_ids"] = ids.tolist()
        encoded = model.encode(ids, b.attention_mask, **extra)
        out["discriminator_last_hidden_state"] = encoded.last_hidden_state.tolist()
        out["discriminator_hidden_states"] = [h.tolist() for h in encoded.hidden_states]
        out["discriminator_logits"] = model.rtd_logits(encoded.last_hidden_state).tolist()
        return out
    encoded = model.encode(b.input_ids, b.attention_mask, **extra)
    out["last_hidden_state"] = encoded.last_hidden_state.tolist()
    out["hidden_states"] = [h.tolist() for h in encoded.hidden_states]
    pooled = getattr(encoded, "pooler_output", None)
    if pooled is not None:
        out["pooler_output"] = pooled.tolist()
    if hasattr(model, "mlm_logits"):
        out["mlm_logits"] = model.mlm_logits(encoded.last_hidden_state).tolist()
    for head in ("nsp", "sop"):
        if hasattr(model, f"{head}_logits") and pooled is not None:
            out[f"{head}_logits"] = getattr(model, f"{head}_logits")(pooled).tolist()
    return out


def loss_and_gradients(model: torch.nn.Module, module: ModuleType, b: Any, teacher: Optional[Any]) -> dict[str, Any]:
    """The loss, its terms, and every parameter's squared gradient norm (by table name)."""
    model.zero_grad(set_to_none=True)
    args = (b, teacher) if teacher is not None else (b,)
    loss, terms, _ = model.loss(*args)
    loss.backward()
    squares = {name: float(p.grad.double().square().sum()) for name, p in model.named_parameters() if p.grad is not None}
    return {"loss": float(loss), "loss_terms": {k: float(v) for k, v in terms.items()}, "grad_squares": squares}


def run(args: argparse.Namespace) -> dict[str, Any]:
    torch.manual_seed(0)
    module = load_module(args.module, "bdl_model")
    model = load_model(module, args.weights)
    with open(args.inputs, encoding="utf-8") as f:
        inputs = json.load(f)
    with_labels = any(inputs.get(key) is not None for key in LABELS)
    b = batch_of(module, inputs, with_labels)
    with torch.no_grad():
        out = encoder_outputs(model, module, b)
    if with_labels:
        teacher = None
        if hasattr(module, "teacher_outputs"):
            if not args.teacher_module or not args.teacher_weights:
                raise InputError("this model learns from a teacher: give its weights")
            teacher_module = load_module(args.teacher_module, "bdl_teacher")
            teacher_model = load_model(teacher_module, args.teacher_weights)
            ids = as_tensor(inputs["teacher_input_ids"]) if inputs.get("teacher_input_ids") else b.input_ids
            teacher = module.teacher_outputs(teacher_model, ids, b.attention_mask)
        out.update(loss_and_gradients(model, module, b, teacher))
    return out


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bdl_torch.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--teacher-module")
    parser.add_argument("--teacher-weights")
    args = parser.parse_args(argv)
    try:
        out = run(args)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    temporary = f"{args.out}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(out, f)
    os.replace(temporary, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
