"""The torch engine's support package: what is generic to every model bdl compiles for PyTorch.

A compiled model (`bdlc compile --target torch`, `build/NAME.py`) holds what is particular to
the model; this package loads one (`module.py`), reads and writes this project's safetensors
checkpoints (`safetensors.py`) and runs a model on explicit inputs for `bdlc run` (`run.py`).
For training it draws exactly the masks, batch orders and evaluation batches the TypeScript
trainer draws (`random.py`, `masking.py`, `batches.py`, `evaluate_data.py`, on `examples.py`).
It needs PyTorch and nothing else: no Node.js.
"""
