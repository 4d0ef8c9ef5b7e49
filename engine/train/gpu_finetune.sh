#!/usr/bin/env bash
# Third GPU-machine run (~8 minutes): continues the demo model with a FIM-heavy mix (85% of rows are
# packed FIM examples whose loss counts only the middle; 15% plain rows), then evaluates it the same way.
# Inputs: models/demo (the base), .devcarry3/corpus, .devcarry3/replay. Outputs as gpu_train.sh.
set -euo pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
SECONDS_BUDGET=${TRAIN_SECONDS:-290}
mkdir -p /tmp/demo && cp models/demo/tokenizer.json models/demo/tokenizer_config.json /tmp/demo/
python3 engine/train/train.py --corpus .devcarry3/corpus --tokenizer models/demo --init-from models/demo \
  --work /tmp/w --out /tmp/demo --max-seconds "$SECONDS_BUDGET" --lr 5e-4 --warmup 100 \
  --fim-rate 0.85 --fim-window 2400 --fim-loss middle --pack-fim --fim-pool 30000 \
  --shard-bytes 16000000 2>&1 | tee "$OUT/train.log"
cp /tmp/demo/*.safetensors "$OUT/"
cp /tmp/w/summary.json /tmp/demo/summary.json
tar -C /tmp -czf "$OUT/meta.tgz" demo/config.json demo/generation_config.json demo/model.safetensors.index.json demo/summary.json
python3 engine/train/evaluate.py --model /tmp/demo --replay .devcarry3/replay --heldout .devcarry3/corpus \
  --heldout-cases 200 2>&1 | tee "$OUT/eval.log"
ls -la "$OUT"
