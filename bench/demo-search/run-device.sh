#!/usr/bin/env bash
# The GPU model search of issue #11 item 7 as one device call: seven candidates side by side on one
# GPU (2 CPU threads each), every one evaluated with the preset's replica on split seeds 1-10.
#   bench/demo-search/run-device.sh DATA OUT [BUDGET_SECONDS]
# DATA holds data.npz (bench/demo-search/pack.py); OUT gets results.jsonl, log.txt and the
# candidates' encoders (*.safetensors).
set -uo pipefail
cd "$(dirname "$0")/../.."
data=${1:?DATA}; out=${2:?OUT}; budget=${3:-300}
mkdir -p "$out"
nvidia-smi -L 2>/dev/null || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
# EXTRA (e.g. "--seeds 1 --eval-steps 2") is appended to every candidate: a quick local smoke run.
run() { python3 bench/demo-search/search.py --data "$data" --out "$out" --threads 2 "$@" ${EXTRA:-} >> "$out/log.txt" 2>&1; }
third=$((budget * 2 / 5))
run --name base-crater --init crater &
run --name ctx-demo --init demo --ctx-seconds "$budget" &
run --name ctx-crater --init crater --ctx-seconds "$budget" --ctx-lr 2e-4 &
run --name mae-ctx-random --init random --mae-seconds $((budget - third)) --ctx-seconds "$third" &
run --name mae-ctx-demo --init demo --mae-seconds $((budget - third)) --mae-lr 5e-4 --ctx-seconds "$third" &
run --name ctx-demo-mask --init demo --ctx-seconds "$budget" --ctx-mask 0.375 --ctx-max-side 400 &
run --name ctx-demo-fast --init demo --ctx-seconds "$budget" --ctx-lr 1e-3 --ctx-batch 256 &
wait
python3 bench/demo-search/summary.py "$out/results.jsonl"
tail -n 60 "$out/log.txt"
