#!/usr/bin/env bash
# bdl against eager PyTorch on an NVIDIA GPU: training and inference tokens/s of the bench's post-LN
# BERT MLM step (bench/configs.json: tiny and mini), for
#   - bdl on its `webgpu` backend (tfjs-backend-webgpu on Dawn, which uses Vulkan on Linux), and
#   - bench/torch_reference.py on CUDA (the same model and step, eager PyTorch, fp32).
# - bdl's torch engine (bench/pack-torch-gpu.sh's bert-base and modernbert-base, bf16 autocast and fused
#   attention: tokens/s and peak memory per model; see README "The torch engine").
# Each part runs under its own timeout and a failure in one does not stop the other: it becomes a
# {"suite":"error",...} line. All JSON lines go to ${OUT:-bench-gpu}/results.jsonl, then a table.
# Meant to finish in under 5 minutes once node_modules and dist/bundle exist.
#
# Usage, from anywhere in the repository:  bash bench/gpu.sh
#   env: OUT (results folder), PYTHON (a python with CUDA torch), BDL_TIMEOUT / TORCH_TIMEOUT (seconds)
#
# Caveats:
# - Not yet run: it was written on a machine with no GPU, so only its syntax was checked (bash -n).
# - If Dawn finds no Vulkan driver (libvulkan1 plus the NVIDIA ICD), it may fall back to Mesa's
#   llvmpipe, and the "webgpu" numbers are then CPU numbers: check the GPU's utilisation or the
#   webgpu log in $OUT/bdl-webgpu.log.
# - torch's CUDA matmuls run in fp32 unless TF32 is enabled (off by default since torch 1.12).
set -euo pipefail

cd "$(dirname "$0")/.."
out="${OUT:-bench-gpu}"
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"
BDL_TIMEOUT=${BDL_TIMEOUT:-150}     # s: Dawn compiles every shader on first use, so warm-up dominates
TORCH_TIMEOUT=${TORCH_TIMEOUT:-90}  # s: CUDA start-up and a few dozen steps

echo "== GPU"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi failed"
else
  echo "nvidia-smi not found: is this a machine with an NVIDIA GPU?"
fi

echo "== dependencies"
[ -d node_modules ] || npm ci
# Also rebuilt when src/ is newer: a stale bundle may predate the webgpu backend.
if [ ! -f dist/bundle/runtime.js ] || [ -n "$(find src -newer dist/bundle/runtime.js -print -quit)" ]; then
  npm run build --silent
fi

# One {"suite":"error"} line for a half that failed: its log's first error line (a stack trace's
# message, not its last frame), else the log's last lines.
record_failure() { # part rc log
  local msg
  msg=$(grep -m1 -E '^[A-Za-z]*Error|Error:|^torch_reference:|^bench:' "$3" 2>/dev/null || tail -n 3 "$3" 2>/dev/null || true)
  # Flattened and stripped of what would need escaping in a JSON string.
  msg=$(printf '%s' "$msg" | tr '\n\t' '  ' | tr -d '\000-\037"\\' | cut -c1-400)
  if [ "$2" = 124 ] || [ "$2" = 137 ]; then msg="timed out after the limit; $msg"; fi
  echo "{\"suite\":\"error\",\"part\":\"$1\",\"rc\":$2,\"message\":\"$msg\"}" | tee -a "$results"
}

echo "== bdl, webgpu backend (timeout ${BDL_TIMEOUT}s)"
rc=0
timeout -k 5 "$BDL_TIMEOUT" node bench/run.mjs --config tiny,mini --backend webgpu --steps 10 --json \
  >"$out/bdl-webgpu.jsonl" 2>"$out/bdl-webgpu.log" || rc=$?
grep '^{' "$out/bdl-webgpu.jsonl" | tee -a "$results" || true
[ "$rc" = 0 ] || record_failure bdl-webgpu "$rc" "$out/bdl-webgpu.log"

# A python that has torch: $PYTHON, else python3, else Debian's /usr/bin/python3.
python=""
for p in "${PYTHON:-}" python3 /usr/bin/python3; do
  if [ -n "$p" ] && command -v "$p" >/dev/null && "$p" -c "import torch" 2>/dev/null; then python="$p"; break; fi
done

echo "== torch, cuda (timeout ${TORCH_TIMEOUT}s)"
if [ -z "$python" ]; then
  echo "no python with torch found (set PYTHON=...)" >"$out/torch-cuda.log"
  record_failure torch-cuda 3 "$out/torch-cuda.log"
else
  rc=0
  OMP_WAIT_POLICY=PASSIVE timeout -k 5 "$TORCH_TIMEOUT" \
    "$python" bench/torch_reference.py --device cuda --configs tiny,mini --steps 10 --warmup 3 \
    >"$out/torch-cuda.jsonl" 2>"$out/torch-cuda.log" || rc=$?
  grep '^{' "$out/torch-cuda.jsonl" | tee -a "$results" || true
  [ "$rc" = 0 ] || record_failure torch-cuda "$rc" "$out/torch-cuda.log"
fi

# bdl's torch engine on CUDA: bert-base and modernbert-base as prepared runs (bench/pack-torch-gpu.sh,
# packed here when node is present, or carried over already packed), bf16 and fused attention.
echo "== bdl's torch engine, cuda (timeout ${TORCH_ENGINE_TIMEOUT:-150}s a model)"
pack="${TORCH_PACK:-$out/torch-engine}"
if [ ! -x "$pack/run.sh" ] && command -v node >/dev/null; then bash bench/pack-torch-gpu.sh "$pack" >"$out/torch-engine-pack.log" 2>&1 || true; fi
if [ -z "$python" ] || [ ! -x "$pack/run.sh" ]; then
  echo "no python with torch, or no packed runs in $pack (bash bench/pack-torch-gpu.sh $pack where node is)" >"$out/torch-engine.log"
  record_failure torch-engine 3 "$out/torch-engine.log"
else
  PYTHON="$python" TIMEOUT="${TORCH_ENGINE_TIMEOUT:-150}" bash "$pack/run.sh" 2>"$out/torch-engine.log" | tee -a "$results" || true
fi

echo "== summary ($results)"
node - "$results" <<'EOF' || cat "$results"
const rows = require("node:fs").readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const bdl = Object.fromEntries(rows.filter((r) => r.suite === "train").map((r) => [r.config, r]));
const torch = Object.fromEntries(rows.filter((r) => r.suite === "torch").map((r) => [r.config, r]));
const n = (x) => (x === undefined ? "-" : Math.round(x).toLocaleString("en-US"));
const ratio = (a, b) => (a === undefined || b === undefined ? "-" : (a / b).toFixed(2));
const cols = ["config", "bdl webgpu train", "torch cuda train", "ratio", "bdl webgpu infer", "torch cuda infer", "ratio"];
const lines = [cols];
for (const c of ["tiny", "mini"]) {
  const b = bdl[c] ?? {}, t = torch[c] ?? {};
  lines.push([c, n(b.train_tokens_per_s), n(t.train_tokens_per_s), ratio(b.train_tokens_per_s, t.train_tokens_per_s),
    n(b.infer_tokens_per_s), n(t.infer_tokens_per_s), ratio(b.infer_tokens_per_s, t.infer_tokens_per_s)]);
}
const w = cols.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
for (const l of lines) console.log(l.map((s, i) => (i === 0 ? s.padEnd(w[i]) : s.padStart(w[i]))).join("  "));
console.log("tokens/s; ratio = bdl / torch");
for (const r of rows.filter((r) => r.suite === "error")) console.log(`FAILED ${r.part} (rc ${r.rc}): ${r.message}`);
EOF
