#!/usr/bin/env bash
# Main GPU-machine run (one H100, under 10 minutes): trains the tokenizer and the demo model, evaluates
# it, and leaves under $OUT the sharded checkpoint, meta.tgz (config, generation config, shard index,
# tokenizer files, summary, the llama-bf16 golden fixture) and the logs (at most 8 files come back).
# Inputs travel in the working tree: .devcarry/corpus (corpus.py build output), .devcarry/replay.
# Afterwards, here: unpack meta.tgz into models/demo, copy the shards there, run merge_shards.py.
set -euo pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
SECONDS_BUDGET=${TRAIN_SECONDS:-420}
python3 engine/train/golden.py --out /tmp/golden --only llama-bf16
python3 engine/train/tokenizer.py --corpus .devcarry/corpus --out /tmp/demo --vocab 12288 | tee "$OUT/train.log"
python3 engine/train/train.py --corpus .devcarry/corpus --tokenizer /tmp/demo --work /tmp/w --out /tmp/demo \
  --max-seconds "$SECONDS_BUDGET" --shard-bytes 16000000 2>&1 | tee -a "$OUT/train.log"
cp /tmp/demo/*.safetensors "$OUT/"
cp /tmp/w/summary.json /tmp/demo/summary.json
tar -C /tmp -czf "$OUT/meta.tgz" demo/config.json demo/generation_config.json demo/model.safetensors.index.json \
  demo/summary.json demo/tokenizer.json demo/tokenizer_config.json golden
python3 engine/train/evaluate.py --model /tmp/demo --replay .devcarry/replay 2>&1 | tee "$OUT/eval.log"
ls -la "$OUT"
