#!/usr/bin/env bash
# Second device call of the GPU model search: preset variants (learning rate, steps, frozen blocks,
# token masking) screened with the replica on split seeds 1-10, two fine-tuning seeds each, for the
# shipped crater encoder and a candidate of run-device.sh (default DATA/ctx-demo-fast.safetensors).
# "preset" is the app's preset as splits.ts read it; the other tags change one setting of it.
#   bench/demo-search/run-variants.sh DATA OUT [CANDIDATE.safetensors]
set -uo pipefail
cd "$(dirname "$0")/../.."
data=${1:?DATA}; out=${2:?OUT}; candidate=${3:-$data/ctx-demo-fast.safetensors}
mkdir -p "$out"
run() { python3 bench/demo-search/search.py --data "$data" --out "$out" --threads 1 --preset-seeds 7,8 "$@" ${EXTRA:-} >> "$out/log.txt" 2>&1; }
for model in crater "$candidate"; do
  n=$(basename "$model" .safetensors)
  run --name "$n" --init "$model" --tag preset &
  run --name "$n" --init "$model" --tag freeze2 --preset-freeze 2 &
  run --name "$n" --init "$model" --tag head-400 --preset-freeze 4 --preset-lr 1e-3 --eval-steps 400 &
  run --name "$n" --init "$model" --tag lr1e-4 --preset-lr 1e-4 &
  run --name "$n" --init "$model" --tag steps-400 --eval-steps 400 &
  run --name "$n" --init "$model" --tag mask-0.375 --preset-mask 0.375 &
done
wait
python3 bench/demo-search/summary.py "$out/results.jsonl"
