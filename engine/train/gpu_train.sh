#!/usr/bin/env bash
# Main GPU-machine run (one H100, ~9 minutes): trains the demo model, evaluates it, and leaves the
# sharded checkpoint plus logs under $OUT. Inputs: .devcarry/corpus, .devcarry/replay and the tokenizer
# already in models/demo (from gpu_check.sh). Merge the shards afterwards with merge_shards.py.
set -euo pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
SECONDS_BUDGET=${TRAIN_SECONDS:-420}
python3 engine/train/train.py --corpus .devcarry/corpus --tokenizer models/demo --work /tmp/w --out /tmp/demo \
  --max-seconds "$SECONDS_BUDGET" --shard-bytes 16000000 2>&1 | tee "$OUT/train.log"
cp /tmp/demo/*.safetensors "$OUT/"   # at most 8 files come back: shards, two logs, meta.tgz
cp /tmp/w/summary.json /tmp/demo/summary.json
tar -C /tmp/demo -czf "$OUT/meta.tgz" config.json generation_config.json model.safetensors.index.json summary.json
cp models/demo/tokenizer.json models/demo/tokenizer_config.json /tmp/demo/
python3 engine/train/evaluate.py --model /tmp/demo --replay .devcarry/replay 2>&1 | tee "$OUT/eval.log"
ls -la "$OUT"
