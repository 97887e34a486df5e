#!/usr/bin/env bash
# Prepares, here (with Node.js), the torch engine's GPU benchmark as one folder that runs on a machine
# with PyTorch and CUDA and nothing else (no Node.js, no network): bert-base and modernbert-base
# (models/bert.bdl at seq 512, models/modernbert.bdl at seq 1024) as prepared runs (`bdlc train
# --engine torch --dry-run`), each cut to its first 1,024 training examples and packed without its
# first weights (the ranks draw them from the seed), so the folder stays well under 64 MiB; and
# run.sh, which trains each for a few dozen steps (bf16 autocast and fused attention: the CUDA
# defaults) and prints one JSON line per model: device, precision, tokens/s and peak memory.
#
# Usage:  bash bench/pack-torch-gpu.sh [OUT]      (default OUT: bench-torch-gpu)
#   then, on the GPU machine:  bash OUT/run.sh   (env: PYTHON, STEPS, TIMEOUT)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-torch-gpu}"
python="${PYTHON:-/usr/bin/python3}"
rm -rf "$out"
mkdir -p "$out"
[ -f dist/bundle/cli.js ] || npm run build --silent

pack() { # name model batch
  local dir="$out/$1"
  node bin/bdlc.js train "$2" --engine torch --dry-run --out "$dir" --steps 40 --batch "$3" --log-every 10 --save-every 1000000 >/dev/null
  rm -f "$dir/torch/init.safetensors"
  # The first 1,024 examples of the first shard, and the plan's shards and first weights to match.
  PYTHONPATH="$dir/torch" "$python" - "$dir/torch" <<'PY'
import json, sys
from pathlib import Path
from bdl_torch.safetensors import read_safetensors, write_safetensors
here = Path(sys.argv[1])
plan = json.loads((here / "plan.json").read_text())
first = plan["shards"][0]
data = read_safetensors(here / first["file"])
n = min(1024, first["examples"])
end = int(data["offsets"][n])
cut = {k: (v[: n + 1] if k == "offsets" else v[:n] if k == "sentence_labels" else v[:end]) for k, v in data.items()}
for shard in plan["shards"]:
    (here / shard["file"]).unlink()
write_safetensors(here / first["file"], cut)
plan["shards"] = [{"file": first["file"], "examples": n}]
plan["init"] = None
(here / "plan.json").write_text(json.dumps(plan, indent=2) + "\n")
PY
}

pack bert-base models/bert.bdl 16
pack modernbert-base models/modernbert.bdl 8

cat >"$out/run.sh" <<'SH'
#!/usr/bin/env bash
# The torch engine on this machine's GPU: each prepared run for STEPS steps (default 40), one JSON line each.
set -uo pipefail
cd "$(dirname "$0")"
python="${PYTHON:-python3}"
for run in bert-base modernbert-base; do
  rm -rf "$run/checkpoints" "$run/log.jsonl"
  if [ -n "${STEPS:-}" ]; then
    "$python" -c "import json,sys; p=json.load(open(sys.argv[1])); p['settings']['steps']=int(sys.argv[2]); json.dump(p, open(sys.argv[1],'w'), indent=2)" "$run/torch/plan.json" "$STEPS"
  fi
  if PYTHONPATH="$run/torch" timeout "${TIMEOUT:-120}" "$python" -m bdl_torch.train "$run/torch/plan.json" >"$run.log" 2>&1; then
    "$python" -c "
import json, sys
s = json.load(open(sys.argv[1] + '/torch/summary.json'))
print(json.dumps({'suite': 'torch-engine-gpu', 'model': sys.argv[1], 'device': s['device'], 'precision': s['precision'],
  'fused_attention': s['fusedAttention'], 'steps': s['steps'], 'tokens_per_s': round(s['tokensPerSecond']),
  'peak_memory_gib': None if s['peakMemoryBytes'] is None else round(s['peakMemoryBytes'] / 2**30, 2),
  'first_loss': s['firstLoss'], 'last_loss': s['lastLoss']}))" "$run"
  else
    echo "{\"suite\":\"error\",\"model\":\"$run\",\"message\":\"$(tail -n 2 "$run.log" | tr -d '"\\\n' | cut -c1-300)\"}"
  fi
done
SH
chmod +x "$out/run.sh"
du -sh "$out"
