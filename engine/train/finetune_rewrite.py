"""Fine-tunes the demo model to rewrite: synthetic rewrite examples in the product's base-model rewrite prompt, mixed
with ordinary code so that completion does not get worse.

  /usr/bin/python3 engine/train/finetune_rewrite.py --base models/demo --rewrites .cache/rewrite/train.jsonl \
      --code .cache/finetune-code --work .cache/finetune --out .cache/demo-rewrite [--max-seconds 3600 | --steps N] [--resume]

Inputs need no `tokenizers` package: engine/train/rewrite/generate.ts writes each example's prompt ids (`ids`, built
by the engine's own rewrite prompt) and target ids (`target`: the expected output, a newline and <file_sep>), and
speculatorCorpus.ts writes the code stream (train.u16, heldout.u16).

A row is either rewrite examples packed back to back (loss on their targets only; each example attends only to
itself, as at inference) or a window of the code stream (loss on every token); --code-share sets the share of code
rows and --code-weight their weight in the loss. Without that weight the code rows, whose per-token loss is several
times a learned rewrite's, dominate the gradient. --edit-weight weighs the few target tokens where an edit departs
from a copy (edit_points), and --repeat over-samples the kinds that lag. Logits are computed only where there is
loss. The held-out code loss is measured before and after on the same windows (the completion-quality guard).
"""
import argparse
import difflib
import json
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate import load_model, read_jsonl  # noqa: E402
from export import export  # noqa: E402
from model import rope_tables  # noqa: E402
from train import log, lr_at, make_autocast, save_checkpoint  # noqa: E402


def read_u16(path):
    with open(path, 'rb') as f:
        data = f.read()
    return torch.frombuffer(bytearray(data), dtype=torch.int16).to(torch.int32) & 0xFFFF


def edit_points(ids, target):
    """Target positions where the output departs from a plain copy of the selection: tokens that are not copied,
    and the first copied token after a jump (where a deletion or replacement resumes copying). Copy tokens are
    nearly free to learn; these few decide whether an edit is right."""
    sep = ids[0]
    cut = max(i for i, t in enumerate(ids) if t == sep)  # the selection ends where the rewritten file's header starts
    matcher = difflib.SequenceMatcher(None, ids[:cut], target, autojunk=False)
    copied = [False] * len(target)
    points = set()
    end_a = end_b = None
    for a, b, n in matcher.get_matching_blocks():
        if n == 0:
            continue
        for j in range(b, b + n):
            copied[j] = True
        if end_a is not None and (a != end_a or b != end_b):
            points.add(b)
        end_a, end_b = a + n, b + n
    points.update(j for j, c in enumerate(copied) if not c)
    return points


def repeated(examples, repeats, rng):
    """Examples with kinds over- or under-sampled: `repeats[kind]` copies on average (a fraction rounds at random)."""
    out = []
    for ex in examples:
        r = repeats.get(ex['kind'], 1.0)
        out += [ex] * (int(r) + (1 if rng.random() < r - int(r) else 0))
    return out


def pack_rewrites(examples, seq, rng, edit_weight=1.0):
    """Rows of `seq + 1` ids, a loss weight per id (0 on prompts; `edit_weight` on edit points) and a segment number
    per id (packed examples attend only within their own segment)."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    rows, row, weight, segment = [], [], [], []
    for i in order:
        ex = examples[i]
        ids, target = ex['ids'], ex['target']
        seq_ids = ids + target
        if len(seq_ids) > seq + 1:
            continue
        if len(row) + len(seq_ids) > seq + 1:
            rows.append((row, weight, segment))
            row, weight, segment = [], [], []
        points = edit_points(ids, target) if edit_weight != 1.0 else set()
        row += seq_ids
        # weight[j] is the loss weight of token j as a target predicted from j-1.
        weight += [0.0] * len(ids) + [edit_weight if j in points else 1.0 for j in range(len(target))]
        segment += [(segment[-1] + 1 if segment else 1)] * len(seq_ids)
    if row:
        rows.append((row, weight, segment))
    return rows


def forward_loss(model, ids, weights, segments=None):
    """Weighted mean cross-entropy over positions where weights[:, 1:] > 0, and how many there were; the vocabulary
    head runs only there. With `segments`, a token attends only to earlier tokens of its own segment."""
    spec = model.spec
    device = model.lm_head.weight.device
    ids, weights = ids.to(device), weights.to(device)
    positions = torch.arange(ids.shape[1] - 1, device=device)
    cos, sin = rope_tables(spec, positions, device)
    attn_mask = None
    if segments is not None:
        seg = segments.to(device)[:, :-1]
        attn_mask = seg[:, :, None] == seg[:, None, :]
    x = model.model.embed_tokens(ids[:, :-1])
    for layer in model.model.layers:
        x = layer(x, cos, sin, None, attn_mask)
    h = model.model.norm(x)
    w = weights[:, 1:].float()
    sel = w > 0
    if not bool(sel.any()):
        return h.sum() * 0.0, 0
    logits = model.lm_head(h[sel])
    ce = F.cross_entropy(logits, ids[:, 1:][sel], reduction='none')
    return (ce * w[sel]).sum() / w[sel].sum(), int(sel.sum())


@torch.no_grad()
def code_loss(model, stream, seq, windows):
    model.eval()
    total, count = 0.0, 0
    n = min(windows, (len(stream) - 1) // seq)
    for i in range(0, n, 8):
        rows = torch.stack([stream[j * seq:j * seq + seq + 1] for j in range(i, min(n, i + 8))]).long()
        loss, k = forward_loss(model, rows, torch.ones_like(rows))
        total += loss.item() * k
        count += k
    model.train()
    return total / max(1, count), count


@torch.no_grad()
def rewrite_loss(model, rows):
    model.eval()
    total, count = 0.0, 0
    for ids, weight, segment in rows:
        t = torch.tensor([ids]).long()
        # Unweighted, so that runs with different --edit-weight compare.
        loss, k = forward_loss(model, t, (torch.tensor([weight]) > 0).float(), torch.tensor([segment]))
        total += loss.item() * k
        count += k
    model.train()
    return total / max(1, count), count


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--base', required=True)
    ap.add_argument('--rewrites', required=True, help='train.jsonl (or .jsonl.xz) from engine/train/rewrite/generate.ts')
    ap.add_argument('--code', required=True, help='folder with train.u16 and heldout.u16 (speculatorCorpus.ts)')
    ap.add_argument('--work', required=True, help='resumable checkpoint folder')
    ap.add_argument('--out', required=True)
    ap.add_argument('--steps', type=int, default=0)
    ap.add_argument('--max-seconds', type=float, default=0, help='sets --steps after 5 timed steps')
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--seq', type=int, default=768)
    ap.add_argument('--rows', type=int, default=6, help='rows per optimizer step')
    ap.add_argument('--code-share', type=float, default=0.25)
    ap.add_argument('--lr', type=float, default=3e-4)
    ap.add_argument('--warmup', type=int, default=15)
    ap.add_argument('--weight-decay', type=float, default=0.0)
    ap.add_argument('--eval-windows', type=int, default=48)
    ap.add_argument('--rewrite-eval', type=int, default=24, help='held back from training to watch the rewrite loss: 3x this many examples, about this many packed rows')
    ap.add_argument('--checkpoint-every', type=int, default=20)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--init', help='start from the model weights of a work folder\'s last.pt (full precision) instead of --base\'s')
    ap.add_argument('--code-weight', type=float, default=0.25,
                    help='loss = rewrite loss + this x code loss; the code rows guard completion, they need not dominate the gradient')
    ap.add_argument('--edit-weight', type=float, default=1.0, help='loss weight of edit points (edit_points) in rewrite targets')
    ap.add_argument('--repeat', default='', help='kind=copies,... (e.g. rename=2,sort-imports=3): sampling per kind')
    ap.add_argument('--device', default='cpu', help='cpu or cuda (training under bf16 autocast there)')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    t_start = time.time()
    device = torch.device(args.device)
    autocast = make_autocast(device)
    model, cfg = load_model(args.base, device)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location=device)['model'])
    model.train()
    examples = read_jsonl(args.rewrites)
    code_train = read_u16(os.path.join(args.code, 'train.u16'))
    code_heldout = read_u16(os.path.join(args.code, 'heldout.u16'))
    # Examples held back to watch the rewrite loss never reach training, whatever --repeat does, and are the same
    # whatever --seed is, so that a run continued from another's weights never trains on its own held-back ones.
    random.Random(0).shuffle(examples)
    held_back = examples[:args.rewrite_eval * 3]
    eval_rows = pack_rewrites(held_back, args.seq, rng)
    repeats = {k: float(v) for k, v in (item.split('=') for item in args.repeat.split(',') if item)}
    packed = pack_rewrites(repeated(examples[len(held_back):], repeats, rng), args.seq, rng, args.edit_weight)
    log(event='data', examples=len(examples), packed_rows=len(packed), eval_rows=len(eval_rows),
        code_train_tokens=len(code_train), code_heldout_tokens=len(code_heldout))

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=args.weight_decay)
    os.makedirs(args.work, exist_ok=True)
    ckpt = os.path.join(args.work, 'last.pt')
    state = {'step': 0, 'steps': args.steps, 'train_seconds': 0.0, 'log': []}
    if args.resume and os.path.exists(ckpt):
        saved = torch.load(ckpt, map_location=device)
        model.load_state_dict(saved['model'])
        opt.load_state_dict(saved['opt'])
        state = saved['state']
        log(event='resumed', step=state['step'])
    else:
        base_code, n_code = code_loss(model, code_heldout, 512, args.eval_windows)
        base_rw, n_rw = rewrite_loss(model, eval_rows)
        state['before'] = {'heldout_code_loss': round(base_code, 4), 'code_tokens': n_code, 'rewrite_loss': round(base_rw, 4), 'rewrite_tokens': n_rw}
        log(event='before', **state['before'])

    code_rows = max(0, min(args.rows, round(args.rows * args.code_share)))
    cursor = state['step'] * (args.rows - code_rows)
    t0 = time.time()
    while state['steps'] == 0 or state['step'] < state['steps']:
        step = state['step']
        total = state['steps'] or 10 ** 9
        for g in opt.param_groups:
            g['lr'] = lr_at(step, total, args.lr, args.warmup)
        rw_ids, rw_weight, rw_segment = [], [], []
        for _ in range(args.rows - code_rows):
            ids, weight, segment = packed[cursor % len(packed)]
            cursor += 1
            pad = args.seq + 1 - len(ids)
            rw_ids.append(ids + [0] * pad)
            rw_weight.append(weight + [0.0] * pad)
            rw_segment.append(segment + [0] * pad)
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss, n = forward_loss(model, torch.tensor(rw_ids).long(), torch.tensor(rw_weight), torch.tensor(rw_segment))
        loss.backward()
        if code_rows:
            starts = [rng.randrange(len(code_train) - args.seq - 1) for _ in range(code_rows)]
            code = torch.stack([code_train[j:j + args.seq + 1] for j in starts]).long()
            with autocast():
                c_loss, c_n = forward_loss(model, code, torch.ones_like(code))
            (args.code_weight * c_loss).backward()
            n += c_n
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state['step'] += 1
        elapsed = time.time() - t0
        if state['steps'] == 0 and args.max_seconds and state['step'] == 5:
            state['steps'] = max(6, int(args.max_seconds / (elapsed / 5)))
            log(event='schedule', steps=state['steps'], seconds_per_step=round(elapsed / 5, 2))
        if state['step'] % 5 == 0:
            log(event='step', step=state['step'], steps=state['steps'], loss=round(loss.item(), 4),
                code_loss=round(c_loss.item(), 4) if code_rows else None, tokens=n,
                lr=round(opt.param_groups[0]['lr'], 6), elapsed=round(state['train_seconds'] + elapsed, 1))
        if state['step'] % args.checkpoint_every == 0:
            state['train_seconds'] += time.time() - t0
            t0 = time.time()
            save_checkpoint(ckpt, model, opt, state)
        if not args.steps and not args.max_seconds:
            break
    state['train_seconds'] += time.time() - t0

    after_code, n_code = code_loss(model, code_heldout, 512, args.eval_windows)
    after_rw, n_rw = rewrite_loss(model, eval_rows)
    state['after'] = {'heldout_code_loss': round(after_code, 4), 'code_tokens': n_code, 'rewrite_loss': round(after_rw, 4), 'rewrite_tokens': n_rw}
    log(event='after', **state['after'])
    model.eval()
    # The demo label travels with the weights: the product says it runs a demo model wherever this folder is loaded.
    export(model, args.out, cfg['eos_token_id'], extra_config={'presage_demo': True})
    before = state.get('before', {})
    summary = {
        'event': 'finetune',
        'base': args.base,
        'args': vars(args),
        'torch': torch.__version__,
        'threads': args.threads,
        'steps': state['step'],
        'rows_per_step': args.rows,
        'code_rows_per_step': code_rows,
        'train_seconds': round(state['train_seconds'], 1),
        'wall_seconds': round(time.time() - t_start, 1),
        'rewrite_examples': len(examples),
        'before': before,
        'after': state['after'],
        'heldout_code_loss_change': round(after_code / before['heldout_code_loss'] - 1, 4) if before.get('heldout_code_loss') else None,
    }
    with open(os.path.join(args.out, 'finetune_summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
        f.write('\n')
    log(**summary)


if __name__ == '__main__':
    main()
