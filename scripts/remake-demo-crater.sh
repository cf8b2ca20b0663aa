#!/usr/bin/env bash
# Re-makes the shipped crater encoder (resources/models/marsfm-demo-crater.*, issue #11 item 7), all
# in this app, and measures it with the demo preset (see resources/models/README.md):
#   1. crater / no-crater crops cut from the CTX crater catalogue (another camera: nothing of the
#      HiRISE landmark evaluation leaks in; CTX tile H held out for validation);
#   2. a supervised crater stage from the demo MAE (CTX_STEPS_1 steps of 32, lr 5e-4), and a second,
#      continued from the first's kept encoder with a fresh head (CTX_STEPS_2 steps, lr 3e-4);
#   3. the kept encoder of stage 2 exported without head or decoder;
#   4. the demo preset on the landmark tiles split by observation, split seeds 1-3 (edge tiles among
#      the rest, issue #11's protocol), one process per seed.
# About 90 minutes for the two stages on a 2-core machine (~10 training images per second on wasm).
#
#   npm run build && scripts/remake-demo-crater.sh WORK_FOLDER
#   CTX_STEPS_1=4 CTX_STEPS_2=4 EVAL_STEPS=4 scripts/remake-demo-crater.sh /tmp/smoke   # a smoke run
#
# The result is WORK_FOLDER/marsfm-demo-crater.safetensors (+ .json); copy both to resources/models/.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:?usage: scripts/remake-demo-crater.sh WORK_FOLDER}
mkdir -p "$work"
work=$(cd "$work" && pwd)
steps1=${CTX_STEPS_1:-800}
steps2=${CTX_STEPS_2:-800}
export MARSFM_HOME="$work/home"
marsfm() { node bin/marsfm.js "$@"; }

[ -d "$work/ctx-crops/train" ] || npx vite-node --config vitest.config.ts bench/ctx-crater-crops.ts -- "$work/ctx-crops"

# A run config of the crater stage: $1 name, $2 model JSON, $3 steps, $4 lr, $5 seed.
stage_config() {
  cat <<EOF
{
  "task": "classification", "name": "$1", "model": $2,
  "data": { "kind": "folder", "path": "$work/ctx-crops", "layout": "imagefolder" },
  "positiveClass": "1_crater", "imgSize": 128, "steps": $3, "batchSize": 32, "seed": $5,
  "maskRatio": 0, "dropout": 0.5, "pool": "mean", "augment": true, "freezeBackbone": false, "gradClip": null,
  "optimizer": { "name": "adamw", "lr": $4, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.05 },
  "schedule": { "name": "cosine", "warmupSteps": $(( $3 < 20 ? 0 : 20 )), "power": 1, "minLrRatio": 0 },
  "eval": { "everySteps": $(( $3 < 200 ? $3 : 200 )), "maxImages": 0 },
  "classWeights": "balanced",
  "checkpoint": { "everySteps": $(( $3 < 200 ? $3 : 200 )), "bestMetric": "val/balanced_accuracy", "mode": "max" },
  "preprocessing": { "recipe": "postnorm-dup", "truncate": true, "tileNorm": "standardize" }
}
EOF
}

# Runs a stage and prints its run id (the ledger's, read from the run's JSON lines).
run_stage() {
  marsfm train --config "$1" --json > "$2"
  grep -o '"runId":[0-9]*' "$2" | tail -1 | cut -d: -f2
}

stage_config "demo re-make: supervised CTX crater stage" '{ "demo": true }' "$steps1" 0.0005 3 > "$work/stage-1.json"
run1=$(run_stage "$work/stage-1.json" "$work/stage-1.log")
marsfm pretrain --export-run "$run1" --out "$work/stage-1-encoder.safetensors"

stage_config "demo re-make: supervised CTX crater stage, continued" "{ \"path\": \"$work/stage-1-encoder.safetensors\" }" "$steps2" 0.0003 4 > "$work/stage-2.json"
run2=$(run_stage "$work/stage-2.json" "$work/stage-2.log")
marsfm pretrain --export-run "$run2" --out "$work/marsfm-demo-crater.safetensors"

eval_steps=()
[ -n "${EVAL_STEPS:-}" ] && eval_steps=(--steps "$EVAL_STEPS")
for seed in 1 2 3; do
  npx vite-node --config vitest.config.ts bench/demo-model.ts -- --seeds "$seed" --edges --no-cnn \
    --model "$work/marsfm-demo-crater.safetensors" "${eval_steps[@]}" > "$work/eval-$seed.log" 2>&1 &
done
wait
cat "$work"/eval-*.log
