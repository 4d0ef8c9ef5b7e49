"""Trains the demo code model: a small LlamaForCausalLM with fill-in-the-middle examples mixed in.

  python3 engine/train/train.py --corpus .cache/corpus/out --tokenizer models/demo \
      --work .cache/train --out models/demo [--max-seconds 420 | --steps N] [--resume]

Data: every train document is tokenized once (cached in <work>/tokens.pt) and joined into one stream with
<|endoftext|> between documents. A batch mixes plain windows of that stream with FIM examples
(--fim-rate, default 0.5) in prefix-suffix-middle order, the layout of the engine's StarCoder template:
  <fim_prefix> prefix <fim_suffix> suffix <fim_middle> middle <|endoftext|>
Prefix, suffix and middle are cut at character positions and tokenized separately, as at inference; half
of the middles are one to six whole lines (inline completion), most others uniform spans (see fim_split).

Schedule: linear warm-up, cosine decay to 10% of the peak. With --max-seconds the step count is fixed
after 30 timed steps, so the schedule ends on time; it is saved in the checkpoint, and --resume continues
the same schedule (split a long CPU run into several invocations that way).
Device: CUDA with bf16 autocast (and torch.compile when available) where a GPU is present, else CPU fp32.
"""
import argparse
import json
import lzma
import math
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import export  # noqa: E402
from model import LlamaLM, LlamaSpec  # noqa: E402

EOS, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX = '<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>'


def log(**kv):
    print(json.dumps(kv), flush=True)


def read_docs(path):
    with lzma.open(path, 'rt', encoding='utf-8') as f:
        return [json.loads(line)['text'] for line in f]


def load_tokenizer(d):
    from tokenizers import Tokenizer
    return Tokenizer.from_file(os.path.join(d, 'tokenizer.json'))


def encode_all(tok, texts):
    return [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]


def build_stream(docs_ids, eos):
    total = sum(len(d) + 1 for d in docs_ids)
    stream = torch.empty(total, dtype=torch.int32)
    pos = 0
    for d in docs_ids:
        stream[pos:pos + len(d)] = torch.tensor(d, dtype=torch.int32)
        stream[pos + len(d)] = eos
        pos += len(d) + 1
    return stream


def fim_split(text, rng):
    """(prefix, middle, suffix) cut at character positions: 45% uniform spans; 45% one to six whole lines
    from a random point (half of them from a line start), as inline completion asks; 10% run to the end
    (empty suffix, a cursor at the end of a file)."""
    n = len(text)
    r = rng.random()
    if r < 0.45:
        a, b = sorted((rng.randrange(n + 1), rng.randrange(n + 1)))
    elif r < 0.9:
        a = rng.randrange(n)
        if rng.random() < 0.5:
            a = text.rfind('\n', 0, a) + 1
        b = a
        for _ in range(rng.randint(1, 6)):
            nl = text.find('\n', b)
            b = n if nl < 0 else nl + 1
            if b >= n:
                break
    else:
        a, b = rng.randrange(n), n
    return text[:a], text[a:b], text[b:]


def build_fim_pool(tok, docs, n, seq, window_chars, rng, ids):
    """n FIM examples of exactly seq+1 tokens (short ones are topped up with a plain stream window)."""
    pieces = []
    for _ in range(n):
        text = docs[rng.randrange(len(docs))]
        if len(text) > window_chars:
            s = rng.randrange(len(text) - window_chars)
            text = text[s:s + window_chars]
        pieces.append(fim_split(text, rng))
    flat = [p for trio in pieces for p in trio]
    enc = encode_all(tok, flat)
    return enc, ids


def fim_example(p, m, s, ids, limit):
    """[<fim_prefix>] p [<fim_suffix>] s [<fim_middle>] m [eos] within `limit` tokens, and the flags of the
    tokens that are the middle's targets (the middle and its closing eos)."""
    pre_id, mid_id, suf_id, eos = ids
    room = limit - 4 - len(m)
    if room < 0:  # middle alone too long: keep its start
        m, room = m[:limit - 4], 0
    if len(p) + len(s) > room:  # keep the end of the prefix and the start of the suffix
        ks = min(len(s), max(room // 4, room - len(p)))
        s, p = s[:ks], p[len(p) - (room - ks):] if room - ks > 0 else []
    ex = [pre_id] + p + [suf_id] + s + [mid_id] + m + [eos]
    flags = [0] * (len(ex) - len(m) - 1) + [1] * (len(m) + 1)
    return ex, flags


def assemble_fim(enc, ids, seq, stream, rng, pack=False):
    """Rows of seq+1 tokens and, per row, a [seq] mask of the targets that are middle tokens.
    Unpacked: one example per row, topped up with a plain stream window. Packed: examples back to back."""
    if pack:
        toks, flags = [], []
        for i in range(0, len(enc), 3):
            ex, fl = fim_example(enc[i], enc[i + 1], enc[i + 2], ids, seq + 1)
            toks += ex
            flags += fl
        n = len(toks) // (seq + 1)
        rows = torch.tensor(toks[:n * (seq + 1)], dtype=torch.int32).view(n, seq + 1)
        masks = torch.tensor(flags[:n * (seq + 1)], dtype=torch.int8).view(n, seq + 1)[:, 1:].contiguous()
        return rows, masks
    rows = torch.empty(len(enc) // 3, seq + 1, dtype=torch.int32)
    masks = torch.zeros(len(enc) // 3, seq, dtype=torch.int8)
    for i in range(0, len(enc), 3):
        ex, fl = fim_example(enc[i], enc[i + 1], enc[i + 2], ids, seq + 1)
        fill = seq + 1 - len(ex)
        row = torch.tensor(ex, dtype=torch.int32)
        if fill > 0:
            off = rng.randrange(len(stream) - fill)
            row = torch.cat([row, stream[off:off + fill]])
        rows[i // 3] = row
        masks[i // 3, :len(fl) - 1] = torch.tensor(fl[1:], dtype=torch.int8)
    return rows, masks


def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


@torch.no_grad()
def heldout_loss(model, stream, seq, device, autocast, max_tokens):
    """Mean next-token loss over consecutive seq-token windows of the held-out stream."""
    model.eval()
    n = min(len(stream) - 1, max_tokens) // seq
    total, count = 0.0, 0
    for i in range(0, n, 8):
        rows = torch.stack([stream[j * seq:j * seq + seq + 1] for j in range(i, min(n, i + 8))]).long().to(device)
        with autocast():
            logits = model(rows[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1), reduction='sum')
        total += loss.item()
        count += rows[:, 1:].numel()
    model.train()
    return total / max(1, count), count


def make_autocast(device):
    if device.type == 'cuda':
        return lambda: torch.autocast('cuda', dtype=torch.bfloat16)
    import contextlib
    return contextlib.nullcontext


def save_checkpoint(path, model, opt, state):
    tmp = path + '.tmp'
    torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'state': state}, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--corpus', required=True)
    ap.add_argument('--tokenizer', required=True)
    ap.add_argument('--work', required=True, help='token cache and resumable checkpoints')
    ap.add_argument('--out', required=True, help='Hugging Face layout output folder')
    ap.add_argument('--steps', type=int, default=0, help='fixed number of optimizer steps')
    ap.add_argument('--max-seconds', type=float, default=0, help='training time budget (sets --steps)')
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--seq', type=int, default=2048)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--warmup', type=int, default=200)
    ap.add_argument('--fim-rate', type=float, default=0.5)
    ap.add_argument('--fim-pool', type=int, default=30000)
    ap.add_argument('--fim-window', type=int, default=0, help='characters per FIM source window (default 3 x seq)')
    ap.add_argument('--fim-loss', choices=['all', 'middle'], default='all', help='which FIM tokens carry loss')
    ap.add_argument('--pack-fim', action='store_true', help='pack FIM examples back to back instead of one per row')
    ap.add_argument('--init-from', help='start from the weights of a Hugging Face layout folder (fine-tuning)')
    ap.add_argument('--hidden', type=int, default=512)
    ap.add_argument('--layers', type=int, default=8)
    ap.add_argument('--heads', type=int, default=8)
    ap.add_argument('--kv-heads', type=int, default=4)
    ap.add_argument('--intermediate', type=int, default=1344)
    ap.add_argument('--checkpoint-every', type=int, default=500)
    ap.add_argument('--eval-tokens', type=int, default=2_000_000)
    ap.add_argument('--shard-bytes', type=int, default=0)
    ap.add_argument('--no-compile', action='store_true')
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    t_start = time.time()
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    autocast = make_autocast(device)
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    os.makedirs(args.work, exist_ok=True)

    tok = load_tokenizer(args.tokenizer)
    ids = tuple(tok.token_to_id(t) for t in (FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, EOS))
    if None in ids:
        sys.exit(f'tokenizer in {args.tokenizer} lacks one of {FIM_PREFIX} {FIM_MIDDLE} {FIM_SUFFIX} {EOS}')
    eos = ids[3]
    cache = os.path.join(args.work, 'tokens.pt')
    docs = read_docs(os.path.join(args.corpus, 'train.jsonl.xz'))
    held_docs = read_docs(os.path.join(args.corpus, 'heldout.jsonl.xz'))
    if os.path.exists(cache):
        stream, held = torch.load(cache)
    else:
        stream = build_stream(encode_all(tok, docs), eos)
        held = build_stream(encode_all(tok, held_docs), eos)
        torch.save((stream, held), cache)
    log(event='data', train_docs=len(docs), train_tokens=len(stream), heldout_docs=len(held_docs),
        heldout_tokens=len(held), seconds=round(time.time() - t_start, 1))

    spec = LlamaSpec(vocab_size=tok.get_vocab_size(), hidden_size=args.hidden, intermediate_size=args.intermediate,
                     num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
                     max_position_embeddings=args.seq)
    model = LlamaLM(spec).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt_kwargs = dict(lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    if device.type == 'cuda':
        opt_kwargs['fused'] = True
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}], **opt_kwargs)
    state = {'step': 0, 'total_steps': args.steps, 'tokens': 0, 'spec': spec.to_dict(), 'args': vars(args)}
    ckpt = os.path.join(args.work, 'last.pt')
    if args.resume and os.path.exists(ckpt):
        saved = torch.load(ckpt, map_location=device)
        model.load_state_dict(saved['model'])
        opt.load_state_dict(saved['opt'])
        state = saved['state']
        if args.steps:  # an explicit --steps sets the total (e.g. to extend a finished run)
            state['total_steps'] = args.steps
        rng.seed(args.seed + state['step'])
        torch.manual_seed(args.seed + state['step'])
        log(event='resumed', step=state['step'], total_steps=state['total_steps'])
    elif args.init_from:
        from evaluate import load_model
        base, _ = load_model(args.init_from, device)
        model.load_state_dict(base.state_dict())
        del base
        log(event='init_from', folder=args.init_from)
    log(event='model', parameters=model.num_parameters(), spec=spec.to_dict(), device=str(device))

    fwd = model
    if device.type == 'cuda' and hasattr(torch, 'compile') and not args.no_compile:
        fwd = torch.compile(model)
    stream_dev = stream.to(device)
    window_chars = args.fim_window or int(args.seq * 3.0)
    pool, pool_used = None, 0
    n_fim = int(round(args.batch * args.fim_rate))

    def build_pool(seed):
        t0 = time.time()
        prng = random.Random(seed)
        enc, _ = build_fim_pool(tok, docs, args.fim_pool, args.seq, window_chars, prng, ids)
        rows, masks = assemble_fim(enc, ids, args.seq, stream, prng, pack=args.pack_fim)
        log(event='fim_pool', examples=args.fim_pool, rows=rows.shape[0], seconds=round(time.time() - t0, 1))
        return rows, masks

    # The next FIM pool is built in a background thread while the GPU trains on the current one.
    executor = ThreadPoolExecutor(max_workers=1)
    pending = None

    pool_masks = None

    def next_batch():
        nonlocal pool, pool_masks, pool_used, pending
        parts, weights = [], []
        if n_fim:
            if pool is None or pool_used + n_fim > pool.shape[0]:
                future = pending or executor.submit(build_pool, rng.random())
                rows, masks = future.result()
                pool, pool_masks, pool_used, pending = rows.to(device), masks.to(device), 0, None
            if pending is None and pool_used >= pool.shape[0] // 2:
                pending = executor.submit(build_pool, rng.random())
            parts.append(pool[pool_used:pool_used + n_fim])
            weights.append(pool_masks[pool_used:pool_used + n_fim].float() if args.fim_loss == 'middle'
                           else torch.ones(n_fim, args.seq, device=device))
            pool_used += n_fim
        n_plain = args.batch - n_fim
        if n_plain:
            offs = torch.randint(0, len(stream_dev) - args.seq - 1, (n_plain,), device=device)
            parts.append(stream_dev[offs[:, None] + torch.arange(args.seq + 1, device=device)[None, :]])
            weights.append(torch.ones(n_plain, args.seq, device=device))
        return torch.cat(parts).long(), torch.cat(weights)

    model.train()
    tokens_per_step = args.batch * args.seq
    t_train = time.time()
    timing_from = None
    while True:
        if state['total_steps'] and state['step'] >= state['total_steps']:
            break
        if args.max_seconds and time.time() - t_train > args.max_seconds * 1.05:
            log(event='time_up', step=state['step'])  # slower than planned: stop rather than overrun
            break
        step = state['step']
        lr = lr_at(step, state['total_steps'] or 10 ** 9, args.lr, args.warmup)
        for g in opt.param_groups:
            g['lr'] = lr
        batch, weight = next_batch()
        with autocast():
            logits = fwd(batch[:, :-1])
        if args.fim_loss == 'middle':  # FIM rows count only their middles; plain rows count every token
            per_token = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1), reduction='none')
            loss = (per_token * weight.reshape(-1)).sum() / weight.sum().clamp(min=1)
        else:
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state['step'] += 1
        state['tokens'] += tokens_per_step
        if state['step'] == 20:
            if device.type == 'cuda':
                torch.cuda.synchronize()
            timing_from = (time.time(), state['step'])
        if args.max_seconds and not state['total_steps'] and state['step'] == 50:
            if device.type == 'cuda':
                torch.cuda.synchronize()
            per_step = (time.time() - timing_from[0]) / (state['step'] - timing_from[1])
            left = args.max_seconds - (time.time() - t_train)
            state['total_steps'] = state['step'] + max(1, int(left / per_step * 0.97))
            log(event='schedule', seconds_per_step=round(per_step, 4), total_steps=state['total_steps'],
                planned_tokens=state['total_steps'] * tokens_per_step)
        if state['step'] % 100 == 0 or state['step'] == 1:
            log(event='train', step=state['step'], loss=round(loss.item(), 4), lr=round(lr, 6),
                tokens=state['tokens'], elapsed=round(time.time() - t_train, 1))
        if args.checkpoint_every and state['step'] % args.checkpoint_every == 0:
            save_checkpoint(ckpt, model, opt, state)
    save_checkpoint(ckpt, model, opt, state)
    executor.shutdown(wait=False, cancel_futures=True)
    train_seconds = time.time() - t_train

    # Held-out loss with the weights as they will be stored (fp16-rounded).
    dtype = torch.float16
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).float())
    loss_fp32, n_eval = heldout_loss(model, held, args.seq, device, autocast, args.eval_tokens)
    held_bytes = sum(len(t.encode()) for t in held_docs)
    bytes_per_token = held_bytes / len(held)
    files = export(model, args.out, eos, dtype=dtype, shard_bytes=args.shard_bytes)
    summary = {
        'event': 'done', 'steps': state['step'], 'tokens_seen': state['tokens'], 'train_seconds': round(train_seconds, 1),
        'train_tokens_per_s': round(state['tokens'] / max(1e-9, train_seconds)), 'parameters': model.num_parameters(),
        'train_stream_tokens': len(stream), 'epochs': round(state['tokens'] / len(stream), 2),
        'heldout_loss': round(loss_fp32, 4), 'heldout_eval_tokens': n_eval,
        'heldout_bits_per_byte': round(loss_fp32 / math.log(2) / bytes_per_token, 4),
        'files': files, 'device': torch.cuda.get_device_name(0) if device.type == 'cuda' else 'cpu',
    }
    with open(os.path.join(args.work, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    log(**summary)


if __name__ == '__main__':
    main()
