#!/usr/bin/env bash
# First, short GPU-machine run: golden-logit fixtures, the tokenizer, and a smoke test of training,
# export and evaluation (CUDA and CPU paths). Inputs: .devcarry/corpus (corpus.py build output) and
# .devcarry/replay (replay .jsonl.xz). Outputs under $OUT (golden.tgz, tok/, logs).
set -euo pipefail
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
python3 -c "import torch, transformers, tokenizers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'tokenizers', tokenizers.__version__, 'cuda', torch.cuda.is_available())"
python3 engine/train/golden.py --out /tmp/golden
tar -C /tmp -czf "$OUT/golden.tgz" golden
python3 engine/train/tokenizer.py --corpus .devcarry/corpus --out "$OUT/tok" --vocab 12288
# CPU path (as on a machine without a GPU), tiny model, a few steps, then resume for a few more.
CUDA_VISIBLE_DEVICES= python3 engine/train/train.py --corpus .devcarry/corpus --tokenizer "$OUT/tok" --work /tmp/w \
  --out /tmp/cpu --steps 4 --hidden 64 --layers 2 --heads 4 --kv-heads 2 --intermediate 128 --seq 128 --batch 4 \
  --fim-pool 64 --checkpoint-every 2 --eval-tokens 4096
CUDA_VISIBLE_DEVICES= python3 engine/train/train.py --corpus .devcarry/corpus --tokenizer "$OUT/tok" --work /tmp/w \
  --out /tmp/cpu --steps 6 --hidden 64 --layers 2 --heads 4 --kv-heads 2 --intermediate 128 --seq 128 --batch 4 \
  --fim-pool 64 --checkpoint-every 2 --eval-tokens 4096 --resume
cp "$OUT"/tok/* /tmp/cpu/
CUDA_VISIBLE_DEVICES= python3 engine/train/evaluate.py --model /tmp/cpu --replay .devcarry/replay --limit 2 --max-new 8
# GPU path at full size for a short while: compile, step time, FIM pool cost, export, evaluation.
rm -f /tmp/w/last.pt
python3 engine/train/train.py --corpus .devcarry/corpus --tokenizer "$OUT/tok" --work /tmp/w --out /tmp/gpu \
  --max-seconds 100 --fim-pool 4000 --eval-tokens 200000 --shard-bytes 16000000 --warmup 20
cp "$OUT"/tok/* /tmp/gpu/
python3 engine/train/evaluate.py --model /tmp/gpu --replay .devcarry/replay --limit 10 --max-new 48
ls -la /tmp/gpu
