#!/usr/bin/env bash
# A two-node torch-engine run on one machine: two network namespaces joined by a veth pair stand in
# for two hosts (10.77.0.1 and 10.77.0.2), one `bdlc train --engine torch --nnodes 2` in each, then the
# weights node 0 ends with compared to a single process's on the same global batch.
# Needs root (ip netns) and PyTorch; run from the repository after `npm run build`.
#
# Usage:  sudo bash bench/two-nodes.sh [MODEL] [STEPS]     (defaults: a dropout-free tiny model, 12)
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d /tmp/bdl-two-nodes-XXXXXX)"
steps="${2:-12}"
model="${1:-$work/tiny-exact.bdl}"
if [ -z "${1:-}" ]; then
  printf 'import "%s"\nmodel tiny-exact extends tiny {\n  dropout 0\n  attention_dropout 0\n}\n' "$PWD/test/fixtures/train/tiny.bdl" >"$model"
fi
cleanup() { ip netns del bdl-node0 2>/dev/null || true; ip netns del bdl-node1 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add bdl-node0
ip netns add bdl-node1
ip link add veth-node0 type veth peer name veth-node1
ip link set veth-node0 netns bdl-node0
ip link set veth-node1 netns bdl-node1
ip netns exec bdl-node0 ip addr add 10.77.0.1/24 dev veth-node0
ip netns exec bdl-node1 ip addr add 10.77.0.2/24 dev veth-node1
for n in 0 1; do
  ip netns exec "bdl-node$n" ip link set "veth-node$n" up
  ip netns exec "bdl-node$n" ip link set lo up
done
common=(train "$model" --engine torch --steps "$steps" --save-every "$steps" --nnodes 2 --master-addr 10.77.0.1 --master-port 29610)
# Gloo binds to the address the host name resolves to (loopback in a namespace): name the interface.
ip netns exec bdl-node0 env GLOO_SOCKET_IFNAME=veth-node0 node bin/bdlc.js "${common[@]}" --node-rank 0 --out "$work/node0" >"$work/node0.log" 2>&1 &
node0=$!
ip netns exec bdl-node1 env GLOO_SOCKET_IFNAME=veth-node1 node bin/bdlc.js "${common[@]}" --node-rank 1 --out "$work/node1" >"$work/node1.log" 2>&1
wait "$node0"
tail -n 3 "$work/node0.log" "$work/node1.log"
node bin/bdlc.js train "$model" --engine torch --steps "$steps" --save-every "$steps" --out "$work/single" >"$work/single.log" 2>&1
PYTHONPATH=python /usr/bin/python3 - "$work" "$steps" <<'PY'
import json, sys
from bdl_torch.safetensors import read_safetensors
work, steps = sys.argv[1], sys.argv[2]
two = read_safetensors(f"{work}/node0/checkpoints/step-{steps}/model.safetensors")
one = read_safetensors(f"{work}/single/checkpoints/step-{steps}/model.safetensors")
summary = json.load(open(f"{work}/node0/torch/summary.json"))
print(json.dumps({"nodes": 2, "ranks": summary["ranks"], "ranks_agree": summary["ranksAgree"],
                  "max_abs_difference_from_one_process": max(float((two[k] - one[k]).abs().max()) for k in one)}))
PY
