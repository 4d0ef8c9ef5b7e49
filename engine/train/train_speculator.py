"""Trains an MLP speculator (IBM's token+embedding speculator, arXiv 2404.19124) for an exported Llama checkpoint.

  npx tsx engine/train/speculatorCorpus.ts --tokenizer models/demo --out .cache/speculator   # token ids
  python3 engine/train/train_speculator.py --base models/demo --data .cache/speculator --out models/demo-speculator

Head i takes the running state (at i = 0 the base model's last hidden state after the final norm, at position t)
and the embedding of token x[t+1+i], and predicts x[t+2+i]:
    state = GELU(LN_i(proj_i(state) + emb_i(token) * w_e / w_s)),  logits_i = head_i(state)
with w_s = 0.5^(0.5/n_predict), w_e = sqrt((1 - w_s^2) * inner_dim / 2) as in fms-extras; LN_i normalizes by the
root mean square (no mean subtraction) and has a scale and a shift; scale_input puts a plain RMS norm / sqrt(2) on
the base state first. tie_weights shares emb, head and LN across heads and proj across heads 1..n-1.

Two phases, as in the paper: (1) corpus text, the base model's hidden states as input and the text's next tokens
as targets; (2) sequences the base model generates itself (greedy), so head 0's input token and every target are
what verification will accept. Writes the `*-accelerator` layout: config.json (n_predict, inner_dim, emb_dim,
vocab_size, top_k_tokens_per_head, tie_weights, scale_input) and model.safetensors, plus training_summary.json.
Runs on the CPU with Debian's python3-torch (1.13); no `tokenizers` or `safetensors` package needed. Debian's torch
calls the system BLAS, which is the reference one unless OpenBLAS is installed (14x slower matmuls here): install
libopenblas0-pthread, or point LD_LIBRARY_PATH at its openblas-pthread folder (engine/train/README.md section 4).

The base model's hidden states (corpus windows, phase-2 generations) are computed once, in fp32 under no_grad, and
cached as fp16 in --data (keyed by the base weights' size and mtime and the token range), so reruns that change
only the speculator's shape or schedule skip them.
"""
import hashlib
import argparse
import json
import math
import os
import sys
import time

# The BLAS library reads its thread count when it loads: set it from --threads before torch is imported.
for _i, _a in enumerate(sys.argv):
    if _a == '--threads' and _i + 1 < len(sys.argv):
        os.environ.setdefault('OPENBLAS_NUM_THREADS', sys.argv[_i + 1])

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate import load_model  # noqa: E402
from export import write_safetensors  # noqa: E402
from model import rope_tables  # noqa: E402

LN_EPS = 1e-6


class RmsLayerNorm(nn.Module):
    """fms-extras' LayerNormParameterized as the speculator uses it: x / rms(x), then optional scale and shift."""

    def __init__(self, dim, affine):
        super().__init__()
        self.affine = affine
        if affine:
            self.weight = nn.Parameter(torch.ones(dim))
            self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + LN_EPS)
        return x * self.weight + self.bias if self.affine else x


class MLPSpeculator(nn.Module):
    def __init__(self, emb_dim, inner_dim, vocab_size, n_predict, tie_weights=True, scale_input=True, dropout=0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.n_predict, self.inner_dim, self.emb_dim, self.vocab_size = n_predict, inner_dim, emb_dim, vocab_size
        self.tie_weights, self.scale_input = tie_weights, scale_input
        self.state_weight = 0.5 ** (0.5 / n_predict)
        self.emb_weight = math.sqrt((1 - self.state_weight ** 2) * (inner_dim / 2))
        count = 1 if tie_weights else n_predict
        self.emb = nn.ModuleList([nn.Embedding(vocab_size, inner_dim) for _ in range(count)])
        self.proj = nn.ModuleList([nn.Linear(emb_dim if i == 0 else inner_dim, inner_dim, bias=False)
                                   for i in range(min(2, n_predict) if tie_weights else n_predict)])
        self.head = nn.ModuleList([nn.Linear(inner_dim, vocab_size, bias=False) for _ in range(count)])
        self.ln = nn.ModuleList([RmsLayerNorm(inner_dim, True) for _ in range(count)])
        self.ln0 = RmsLayerNorm(emb_dim, False)
        for m in self.emb:
            nn.init.normal_(m.weight, std=1 / math.sqrt(inner_dim))
        for m in list(self.proj) + list(self.head):
            nn.init.normal_(m.weight, std=1 / math.sqrt(m.weight.shape[1]))

    def part(self, modules, i):
        return modules[min(i, len(modules) - 1)]

    def forward(self, state, tokens):
        """state [B, emb_dim]; tokens [B, n_predict] (the token each head takes). Logits [n_predict, B, vocab]."""
        if self.scale_input:
            state = self.ln0(state) / math.sqrt(2)
        out = []
        for i in range(self.n_predict):
            z = self.part(self.emb, i)(tokens[:, i])
            state = self.part(self.proj, i)(state)
            state = state + z * (self.emb_weight / self.state_weight)
            state = F.gelu(self.part(self.ln, i)(state))
            # dropout only on what the head reads: the next head's input state stays exact
            out.append(self.part(self.head, i)(self.dropout(state)))
        return torch.stack(out, 0)

    def hf_tensors(self, dtype):
        out = {}
        for kind in ('emb', 'proj', 'head'):
            for i, m in enumerate(getattr(self, kind)):
                out[f'{kind}.{i}.weight'] = m.weight.detach().to(dtype)
        for i, m in enumerate(self.ln):
            out[f'ln.{i}.weight'] = m.weight.detach().to(dtype)
            out[f'ln.{i}.bias'] = m.bias.detach().to(dtype)
        return out


@torch.no_grad()
def base_step(model, ids, caches, start):
    """Last hidden state after the final norm [B, T, D] and logits of the last position [B, V]."""
    positions = torch.arange(start, start + ids.shape[1])
    cos, sin = rope_tables(model.spec, positions, ids.device)
    x = model.model.embed_tokens(ids)
    for i, layer in enumerate(model.model.layers):
        x = layer(x, cos, sin, None if caches is None else caches[i])
    h = model.model.norm(x)
    return h, model.lm_head(h[:, -1])


@torch.no_grad()
def corpus_hidden(model, tokens, seq, batch, log=None):
    """Hidden states of `tokens` cut into independent windows of `seq` (each window restarts its context)."""
    n = (len(tokens) // seq) * seq
    windows = tokens[:n].view(-1, seq)
    hs = []
    t0 = time.time()
    for i in range(0, windows.shape[0], batch):
        h, _ = base_step(model, windows[i:i + batch], None, 0)
        hs.append(h.half())
        if log and (i // batch) % 20 == 19:
            log(f'hidden states {i + batch}/{windows.shape[0]} windows, {time.time() - t0:.0f}s')
    return windows, torch.cat(hs, 0)


def matmul_gflops():
    """A quick matmul rate: the reference BLAS runs at a few GFLOP/s, OpenBLAS at tens per thread."""
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    a @ b
    t = time.process_time()
    for _ in range(4):
        a @ b
    return 4 * 2 * 512 ** 3 / max(1e-9, time.process_time() - t) / 1e9


def base_fingerprint(base_dir):
    """Changes whenever the base weights do (a fine-tuned model must not reuse the old hidden states)."""
    parts = []
    for name in sorted(os.listdir(base_dir)):
        if name.endswith('.safetensors') or name == 'config.json':
            st = os.stat(os.path.join(base_dir, name))
            parts.append(f'{name}:{st.st_size}:{st.st_mtime_ns}')
    return hashlib.sha1('|'.join(parts).encode()).hexdigest()[:12]


def cached(path, compute, log):
    """torch.load(path) when it exists, else compute() saved there (atomically: a killed run leaves no half file)."""
    if os.path.exists(path):
        log(f'reusing {path}')
        return torch.load(path)
    value = compute()
    torch.save(value, path + '.tmp')
    os.replace(path + '.tmp', path)
    return value


@torch.no_grad()
def generated(model, tokens, prompts, prompt_len, new_tokens, batch, seed):
    """The base model's own greedy continuations of random corpus windows: ids [N, prompt_len+new], hidden [N, same, D]."""
    g = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, len(tokens) - prompt_len - 1, (prompts,), generator=g)
    all_ids, all_h = [], []
    for i in range(0, prompts, batch):
        ids = torch.stack([tokens[s:s + prompt_len] for s in starts[i:i + batch].tolist()])
        caches = [dict() for _ in model.model.layers]
        h, logits = base_step(model, ids, caches, 0)
        hs = [h]
        seqs = [ids]
        for step in range(new_tokens):
            nxt = logits.argmax(-1, keepdim=True)
            seqs.append(nxt)
            if step == new_tokens - 1:
                break
            h, logits = base_step(model, nxt, caches, prompt_len + step)
            hs.append(h)
        all_ids.append(torch.cat(seqs, 1)[:, :prompt_len + new_tokens])
        # the hidden state of the final token is not needed (nothing follows it)
        hn = torch.cat(hs, 1)
        all_h.append(torch.cat([hn, torch.zeros_like(hn[:, :1])], 1)[:, :prompt_len + new_tokens].half())
    return torch.cat(all_ids, 0), torch.cat(all_h, 0)


def examples(ids, hidden, n_predict, first):
    """Flattened (state, tokens, targets): position t >= first, tokens x[t+1..t+n], targets x[t+2..t+n+1]."""
    n, length = ids.shape
    last = length - n_predict - 1
    pos = torch.arange(first, last)
    rows = torch.arange(n)[:, None].expand(n, len(pos)).reshape(-1)
    cols = pos[None, :].expand(n, len(pos)).reshape(-1)
    state = hidden[rows, cols]
    offs = torch.arange(n_predict + 1)
    window = ids[rows[:, None], cols[:, None] + 1 + offs[None, :]]
    return state, window[:, :n_predict], window[:, 1:]


@torch.no_grad()
def accuracy(spec, data, batch=1024):
    """Per-head top-1 accuracy (teacher forced) and the chained rate (heads 0..i all right)."""
    state, toks, tgt = data
    spec.eval()
    right = torch.zeros(spec.n_predict)
    chained = torch.zeros(spec.n_predict)
    loss = 0.0
    for i in range(0, len(state), batch):
        logits = spec(state[i:i + batch].float(), toks[i:i + batch])
        ok = logits.argmax(-1) == tgt[i:i + batch].T
        right += ok.float().sum(1)
        chained += ok.float().cumprod(0).sum(1)
        loss += sum(F.cross_entropy(logits[h], tgt[i:i + batch, h], reduction='sum').item() for h in range(spec.n_predict))
    n = len(state)
    return {'top1': [round(x, 4) for x in (right / n).tolist()], 'chained': [round(x, 4) for x in (chained / n).tolist()],
            'loss_per_head': round(loss / n / spec.n_predict, 4), 'positions': n}


def train_phase(spec, opt, data, steps, batch, lr, log, name, step0, total):
    state, toks, tgt = data
    spec.train()
    g = torch.Generator().manual_seed(step0 + 7)
    t0 = time.time()
    last = None
    for step in range(steps):
        k = step0 + step
        for group in opt.param_groups:  # cosine over both phases, short warm-up
            group['lr'] = lr * min(1.0, (k + 1) / 50) * 0.5 * (1 + math.cos(math.pi * k / total))
        idx = torch.randint(0, len(state), (batch,), generator=g)
        logits = spec(state[idx].float(), toks[idx])
        loss = sum(F.cross_entropy(logits[h], tgt[idx, h]) for h in range(spec.n_predict)) / spec.n_predict
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        last = loss.item() if last is None else 0.95 * last + 0.05 * loss.item()
        if step % 100 == 0 or step == steps - 1:
            log(f'{name} step {step}/{steps} loss {last:.4f} {time.time() - t0:.0f}s')
    return last, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--base', default='models/demo')
    ap.add_argument('--data', default='.cache/speculator')
    ap.add_argument('--out', default='models/demo-speculator')
    ap.add_argument('--n-predict', type=int, default=3)
    ap.add_argument('--inner-dim', type=int, default=128)
    ap.add_argument('--top-k', default='4,3,2')
    ap.add_argument('--corpus-tokens', type=int, default=400_000)
    ap.add_argument('--heldout-tokens', type=int, default=16_384)
    ap.add_argument('--seq', type=int, default=256)
    ap.add_argument('--phase1-steps', type=int, default=2000)
    ap.add_argument('--phase2-steps', type=int, default=1000)
    ap.add_argument('--gen-prompts', type=int, default=256)
    ap.add_argument('--gen-new', type=int, default=96)
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--weight-decay', type=float, default=0.01)
    ap.add_argument('--dropout', type=float, default=0.0)
    ap.add_argument('--hidden-batch', type=int, default=16, help='corpus windows per base-model forward')
    ap.add_argument('--no-cache', action='store_true', help='recompute the base hidden states even when cached')
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    t_start = time.time()

    def log(msg):
        print(f'[{time.time() - t_start:6.0f}s] {msg}', flush=True)

    gflops = matmul_gflops()
    log(f'matmul {gflops:.1f} GFLOP/s per thread')
    if gflops < 15:
        log('warning: slow BLAS (the reference libblas?): install libopenblas0-pthread or put its openblas-pthread folder '
            'on LD_LIBRARY_PATH (engine/train/README.md section 4); training will be about 10x slower')
    base, cfg = load_model(args.base, 'cpu')
    for p in base.parameters():
        p.requires_grad_(False)

    def load(which):
        raw = open(os.path.join(args.data, f'{which}.u16'), 'rb').read()
        return torch.frombuffer(bytearray(raw), dtype=torch.int16).to(torch.int64) & 0xFFFF

    train_tokens, heldout_tokens = load('train'), load('heldout')
    timings = {}

    if len(train_tokens) < args.corpus_tokens:
        log(f'warning: {args.data}/train.u16 has {len(train_tokens)} tokens, fewer than --corpus-tokens {args.corpus_tokens} '
            '(run speculatorCorpus.ts with a larger --train-tokens)')
    key = base_fingerprint(args.base)
    cache_path = lambda name: os.path.join(args.data, f'hidden-{key}-{name}.pt')  # noqa: E731
    get = (lambda path, compute: compute()) if args.no_cache else (lambda path, compute: cached(path, compute, log))  # noqa: E731
    t, cpu = time.time(), time.process_time()
    ids1, h1 = get(cache_path(f'train-{args.corpus_tokens}-{args.seq}'),
                   lambda: corpus_hidden(base, train_tokens[:args.corpus_tokens], args.seq, args.hidden_batch, log))
    ids1h, h1h = get(cache_path(f'heldout-{args.heldout_tokens}-{args.seq}'),
                     lambda: corpus_hidden(base, heldout_tokens[:args.heldout_tokens], args.seq, args.hidden_batch))
    timings['phase1_hidden_s'] = round(time.time() - t, 1)
    timings['phase1_hidden_cpu_s'] = round(time.process_time() - cpu, 1)
    log(f'corpus hidden states: {h1.shape[0] * h1.shape[1]} train + {h1h.shape[0] * h1h.shape[1]} held-out tokens')
    t = time.time()
    # phase 2 prompts come from training text for training, from held-out text for the held-out check
    ids2, h2 = get(cache_path(f'gen-train-{args.gen_prompts}-{args.gen_new}'),
                   lambda: generated(base, train_tokens, args.gen_prompts, 64, args.gen_new, 32, seed=1))
    heldout_prompts = max(16, args.gen_prompts // 4)
    ids2h, h2h = get(cache_path(f'gen-heldout-{heldout_prompts}-{args.gen_new}'),
                     lambda: generated(base, heldout_tokens, heldout_prompts, 64, args.gen_new, 32, seed=2))
    timings['phase2_generation_s'] = round(time.time() - t, 1)
    log(f'generated {ids2.shape[0]}x{args.gen_new} train + {ids2h.shape[0]}x{args.gen_new} held-out tokens')

    d1, d1h = examples(ids1, h1, args.n_predict, 0), examples(ids1h, h1h, args.n_predict, 0)
    # from the last prompt position on: head 0's token is then the model's own greedy choice
    d2, d2h = examples(ids2, h2, args.n_predict, 63), examples(ids2h, h2h, args.n_predict, 63)

    spec = MLPSpeculator(cfg['hidden_size'], args.inner_dim, cfg['vocab_size'], args.n_predict, dropout=args.dropout)
    opt = torch.optim.AdamW(spec.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    total = args.phase1_steps + args.phase2_steps
    loss1, timings['phase1_train_s'] = train_phase(spec, opt, d1, args.phase1_steps, args.batch, args.lr, log, 'phase1', 0, total)
    after1 = {'heldout_corpus': accuracy(spec, d1h), 'heldout_generated': accuracy(spec, d2h)}
    log(f'after phase 1: {json.dumps(after1)}')
    loss2, timings['phase2_train_s'] = train_phase(spec, opt, d2, args.phase2_steps, args.batch, args.lr, log, 'phase2',
                                                   args.phase1_steps, total)
    after2 = {'heldout_corpus': accuracy(spec, d1h), 'heldout_generated': accuracy(spec, d2h)}
    log(f'after phase 2: {json.dumps(after2)}')

    os.makedirs(args.out, exist_ok=True)
    top_k = [int(x) for x in args.top_k.split(',')][:args.n_predict]
    config = {
        'architectures': ['MLPSpeculatorPreTrainedModel'], 'model_type': 'mlp_speculator',
        'emb_dim': cfg['hidden_size'], 'inner_dim': args.inner_dim, 'vocab_size': cfg['vocab_size'],
        'n_predict': args.n_predict, 'top_k_tokens_per_head': top_k, 'n_candidates': top_k[0],
        'tie_weights': True, 'scale_input': True, 'torch_dtype': 'float16',
    }
    with open(os.path.join(args.out, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
        f.write('\n')
    write_safetensors(os.path.join(args.out, 'model.safetensors'), spec.hf_tensors(torch.float16), {'format': 'pt'})
    summary = {
        'base': args.base, 'args': vars(args), 'torch': torch.__version__, 'threads': args.threads,
        'wall_s': round(time.time() - t_start, 1), 'timings': timings, 'matmul_gflops': round(gflops, 1),
        # what a rerun without the cache costs per 100k corpus tokens (cached stages report their load time)
        'hidden_s_per_100k_tokens': round(timings['phase1_hidden_s'] * 1e5 / max(1, h1.shape[0] * h1.shape[1] + h1h.shape[0] * h1h.shape[1]), 1),
        'train_s_per_1k_steps': round((timings['phase1_train_s'] + timings['phase2_train_s']) * 1000 / max(1, total), 1),
        'corpus': 'local sources tokenized by engine/train/speculatorCorpus.ts (node_modules JS/TS, Python stdlib)',
        'phase1': {'steps': args.phase1_steps, 'final_loss': round(loss1, 4), 'positions': len(d1[0])},
        'phase2': {'steps': args.phase2_steps, 'final_loss': round(loss2, 4), 'positions': len(d2[0])},
        'after_phase1': after1, 'after_phase2': after2,
        'parameters': sum(p.numel() for p in spec.parameters()),
    }
    with open(os.path.join(args.out, 'training_summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
        f.write('\n')
    log(json.dumps(summary))


if __name__ == '__main__':
    main()
