#!/usr/bin/env python3
"""Eager-PyTorch reference for bdl's training benchmark (bench/train.mjs): same model, same step.

Model: post-LayerNorm BERT encoder (learned positions, token type 0 of a 2-row segment table,
embedding LayerNorm, exact GELU, additive attention-mask bias), MLM head = dense + GELU +
LayerNorm, then the transpose of the word embeddings plus a bias (tied decoder). Training step:
cross-entropy only at the ~15% predicted positions, global-norm clipping to 1.0 and AdamW
(lr 1e-4, betas 0.9/0.999, eps 1e-6, weight decay 0.01 on every parameter) — what bdl's
trainStep does. Inference: encoder forward plus MLM logits at every position, summed and read
back, as train.mjs's inferStep. Dropout is off on both sides. Sizes come from bench/configs.json.

Prints one JSON line per config:
  {"suite": "torch", "config", "device", "threads", "torch", "train_tokens_per_s", "infer_tokens_per_s",
   "train_step_ms", "infer_step_ms", "params", "steps", "warmup"}
with the median step time over --steps timed steps after --warmup untimed ones.

Setup (Debian):  apt-get install -y python3-torch libopenblas0-pthread
  Without libopenblas0-pthread, Debian's torch falls back to the reference BLAS, about 30x slower.
Run:  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_reference.py [--configs tiny,mini] [--steps 10]
        [--warmup 3] [--threads N] [--device cpu|cuda]
  OMP_WAIT_POLICY=PASSIVE stops OpenMP's idle threads spinning, which otherwise steals the cores
  from anything else running (and from node when run.mjs runs both). --configs also takes the
  group names of configs.json (default, scaling, scaling-hidden, scaling-seq).
  `node bench/run.mjs --torch` runs this script after bdl's rows and prints bdl/torch ratios.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    # run.mjs shows this line when it skips the comparison, so it says what to install.
    print(f"torch_reference: PyTorch is not installed for {sys.executable} "
          "(Debian: apt-get install -y python3-torch libopenblas0-pthread)", file=sys.stderr)
    sys.exit(3)

CONFIG_FILE = Path(__file__).resolve().parent / "configs.json"
LN_EPS = 1e-12  # BERT's norm_eps, as in models/bert.bdl
MASK_BIAS = -10000.0  # added to the scores of padded keys, as the original BERT


class SelfAttention(nn.Module):
    """Separate query/key/value projections, as BERT (and bdl's parameter table) has them."""

    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.output = nn.Linear(hidden, hidden)

    def split(self, t):
        b, s, _ = t.shape
        return t.view(b, s, self.heads, self.head_dim).transpose(1, 2)  # (b, heads, s, d)

    def forward(self, x, mask_bias):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim)) + mask_bias
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        b, _, s, _ = context.shape
        return self.output(context.transpose(1, 2).reshape(b, s, -1))


class EncoderLayer(nn.Module):
    """Post-LN: LayerNorm after each residual sum."""

    def __init__(self, hidden, heads, intermediate):
        super().__init__()
        self.attention = SelfAttention(hidden, heads)
        self.attention_norm = nn.LayerNorm(hidden, eps=LN_EPS)
        self.intermediate = nn.Linear(hidden, intermediate)
        self.ffn_output = nn.Linear(intermediate, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=LN_EPS)

    def forward(self, x, mask_bias):
        x = self.attention_norm(x + self.attention(x, mask_bias))
        return self.output_norm(x + self.ffn_output(F.gelu(self.intermediate(x))))


class BertMlm(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden"]
        self.word_embeddings = nn.Embedding(c["vocab"], h)
        self.position_embeddings = nn.Embedding(c["seq"], h)  # positions = seq, as train.mjs sets them
        self.token_type_embeddings = nn.Embedding(2, h)  # BERT's 2 segments; every token is type 0
        self.embedding_norm = nn.LayerNorm(h, eps=LN_EPS)
        self.layers = nn.ModuleList(EncoderLayer(h, c["heads"], c["intermediate"]) for _ in range(c["layers"]))
        self.mlm_dense = nn.Linear(h, h)
        self.mlm_norm = nn.LayerNorm(h, eps=LN_EPS)
        self.mlm_bias = nn.Parameter(torch.zeros(c["vocab"]))  # the decoder weight is word_embeddings'
        for p in self.parameters():  # BERT's initializer range; biases stay zero, norms one
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)

    def encode(self, ids, mask):
        s = ids.shape[1]
        x = self.word_embeddings(ids) + self.position_embeddings.weight[:s] + self.token_type_embeddings.weight[0]
        x = self.embedding_norm(x)
        mask_bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * MASK_BIAS  # (b, 1, 1, s)
        for layer in self.layers:
            x = layer(x, mask_bias)
        return x

    def mlm_logits(self, h):
        """h: (n, hidden) → (n, vocab)."""
        t = self.mlm_norm(F.gelu(self.mlm_dense(h)))
        return F.linear(t, self.word_embeddings.weight, self.mlm_bias)


def load_configs():
    data = json.loads(CONFIG_FILE.read_text())
    return data["configs"], data.get("groups", {})


def resolve(names, configs, groups):
    out = []
    for n in filter(None, names.split(",")):
        for m in groups.get(n, [n]):
            if m not in configs:
                sys.exit(f"torch_reference: unknown config '{m}' (have: {', '.join(configs)}; groups: {', '.join(groups)})")
            if m not in out:
                out.append(m)
    return out


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def median_ms(fn, steps, warmup, device):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        sync(device)  # nothing queued from before may count towards this step
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def bench(name, c, steps, warmup, device):
    torch.manual_seed(0)
    model = BertMlm(c).to(device)
    # eps 1e-6 and decay on every parameter: bdl's bench optimizer (train.mjs), not torch's defaults.
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01)
    b, s = c["batch"], c["seq"]
    # One fixed batch, as train.mjs: random ids above the special tokens, 15% of positions predicted.
    ids = torch.randint(5, c["vocab"], (b, s))
    predicted = torch.rand(b, s) < 0.15
    predicted[0, 0] = True  # never an empty loss
    labels = ids[predicted].to(device)
    where = predicted.reshape(-1).nonzero().squeeze(1).to(device)  # flat positions of the predictions
    ids = ids.to(device)
    mask = torch.ones(b, s, dtype=torch.long, device=device)

    def train_step():
        h = model.encode(ids, mask).reshape(b * s, -1).index_select(0, where)
        loss = F.cross_entropy(model.mlm_logits(h), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()  # bdl reads the loss back every step too

    no_grad = getattr(torch, "inference_mode", torch.no_grad)

    def infer_step():
        with no_grad():
            return model.mlm_logits(model.encode(ids, mask).reshape(b * s, -1)).sum().item()

    train_ms = median_ms(train_step, steps, warmup, device)
    infer_ms = median_ms(infer_step, steps, warmup, device)
    tokens = b * s
    return {
        "suite": "torch",
        "config": name,
        "device": device.type if device.type == "cpu" else f"cuda ({torch.cuda.get_device_name(device)})",
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "train_tokens_per_s": round(tokens / (train_ms / 1000), 1),
        "infer_tokens_per_s": round(tokens / (infer_ms / 1000), 1),
        "train_step_ms": round(train_ms, 2),
        "infer_step_ms": round(infer_ms, 2),
        "params": sum(p.numel() for p in model.parameters()),
        "steps": steps,
        "warmup": warmup,
    }


def main():
    ap = argparse.ArgumentParser(description="Eager-PyTorch throughput of bdl's bench step (see the module docstring).")
    ap.add_argument("--configs", default="default", help="comma-separated configs or groups of bench/configs.json")
    ap.add_argument("--steps", type=int, default=10, help="timed steps (median reported)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
                    help="intra-op CPU threads (default: the CPUs this process may use)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = ap.parse_args()
    if a.steps < 1 or a.warmup < 0:
        sys.exit("torch_reference: --steps must be at least 1 and --warmup at least 0")
    if a.device == "cuda" and not torch.cuda.is_available():
        print(f"torch_reference: --device cuda but torch {torch.__version__} sees no CUDA device", file=sys.stderr)
        sys.exit(3)
    torch.set_num_threads(a.threads)
    configs, groups = load_configs()
    for name in resolve(a.configs, configs, groups):
        print(json.dumps(bench(name, configs[name], a.steps, a.warmup, torch.device(a.device))), flush=True)


if __name__ == "__main__":
    main()
