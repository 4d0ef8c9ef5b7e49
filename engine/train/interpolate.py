"""Interpolates two checkpoints of the same shape (WiSE-FT): w * FINE + (1 - w) * ANCHOR, for each --weights value,
and prints the held-out code loss of each on the same windows as finetune_rewrite.py's guard.

  /usr/bin/python3 engine/train/interpolate.py --anchor .cache/finetune/last.pt --fine .cache/finetune4/last.pt \
      --code .cache/finetune-code --weights 1,0.9,0.8 [--out .cache/mix] [--tokenizer models/demo]

A fine-tune that raises the code loss past its budget gets most of it back by moving a little toward an anchor
whose code loss is lower, while keeping most of what it learned. ANCHOR and FINE are model folders or a work
folder's last.pt (full precision). With --out, each mix is exported to OUT-W as a demo model folder.
"""
import argparse
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate import load_model  # noqa: E402
from export import export  # noqa: E402
from finetune_rewrite import code_loss, read_u16  # noqa: E402


def state_of(path):
    """Full-precision weights from a work folder's last.pt, or a model folder's (as stored)."""
    if path.endswith('.pt'):
        return torch.load(path)['model']
    model, _ = load_model(path, 'cpu')
    return {k: v.float() for k, v in model.state_dict().items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--anchor', required=True)
    ap.add_argument('--fine', required=True)
    ap.add_argument('--code', required=True, help='folder with heldout.u16 (speculatorCorpus.ts)')
    ap.add_argument('--weights', default='1,0.9,0.8')
    ap.add_argument('--windows', type=int, default=48)
    ap.add_argument('--out')
    ap.add_argument('--tokenizer', default='models/demo', help='model folder whose shape, config and tokenizer files the mixes take')
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    heldout = read_u16(os.path.join(args.code, 'heldout.u16'))
    anchor, fine = state_of(args.anchor), state_of(args.fine)
    if anchor.keys() != fine.keys() or any(anchor[k].shape != fine[k].shape for k in anchor):
        sys.exit('interpolate: --anchor and --fine are not the same architecture')
    model, cfg = load_model(args.tokenizer, 'cpu')
    for w in (float(x) for x in args.weights.split(',')):
        model.load_state_dict({k: w * fine[k] + (1 - w) * anchor[k] for k in anchor})
        loss, tokens = code_loss(model, heldout, 512, args.windows)
        result = {'event': 'mix', 'fine_weight': w, 'heldout_code_loss': round(loss, 4), 'code_tokens': tokens}
        if args.out:
            out = f'{args.out}-{w}'
            export(model.eval(), out, cfg['eos_token_id'], extra_config={'presage_demo': True})
            for name in ('tokenizer.json', 'tokenizer_config.json'):
                shutil.copy(os.path.join(args.tokenizer, name), os.path.join(out, name))
            result['out'] = out
        print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
