"""The torch engine's support package: what is generic to every model bdl compiles for PyTorch.

A compiled model (`bdlc compile --target torch`, `build/NAME.py`) holds what is particular to
the model; this package loads one (`module.py`), reads and writes this project's safetensors
checkpoints (`safetensors.py`, `checkpoint.py`) and runs a model on explicit inputs for
`bdlc run` (`run.py`). For training (`train.py`, one process per rank under torchrun) it draws
exactly the masks, batch orders and evaluation batches the TypeScript trainer draws
(`random.py`, `masking.py`, `batches.py`, `evaluate_data.py`, on `examples.py` read from the
prepared shards by `shards.py`), and has the tfjs engine's optimizers (`optim.py`: Adam, AdamW,
LAMB, with gradient clipping from `clip.py`), learning-rate schedule (`schedule.py`) and
optimizer checkpoint files (`optimizer_files.py`), ported so that both engines take the same
steps and resume each other's runs. It needs PyTorch and nothing else: no Node.js.
"""
