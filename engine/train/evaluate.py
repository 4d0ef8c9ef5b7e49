"""Evaluates an exported checkpoint (Hugging Face layout).

  python3 engine/train/evaluate.py --model models/demo --replay /work/shared/bench/replay [--limit N]

* Exact match of the first completed line on the `complete` cases of the replay files: greedy decoding
  from the prompt (the lines before the cursor) until the first newline, compared with the first line of
  the recorded output. Two prompt forms: the plain prefix, and the FIM form with an empty suffix
  (<fim_prefix> prefix <fim_suffix> <fim_middle>), which is what the engine sends at the end of a file.
* With --heldout: the same first-line match on held-out corpus files at random line starts, with the
  real suffix in the FIM form and without it.
* When transformers is installed: the logits of LlamaForCausalLM.from_pretrained on the same folder are
  compared with this package's model, which checks that the export is a standard checkpoint.
Prints one JSON line.
"""
import argparse
import json
import lzma
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import LlamaLM, LlamaSpec  # noqa: E402

ST_DTYPES = {'F16': torch.float16, 'BF16': torch.bfloat16, 'F32': torch.float32}


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == '__metadata__':
            continue
        a, b = meta['data_offsets']
        t = torch.frombuffer(bytearray(data[a:b]), dtype=ST_DTYPES[meta['dtype']])
        out[name] = t.reshape(meta['shape'])
    return out


def load_model(d, device):
    with open(os.path.join(d, 'config.json')) as f:
        cfg = json.load(f)
    spec = LlamaSpec(**{k: cfg[k] for k in LlamaSpec.__dataclass_fields__})
    model = LlamaLM(spec)
    index = os.path.join(d, 'model.safetensors.index.json')
    files = sorted(set(json.load(open(index))['weight_map'].values())) if os.path.exists(index) else ['model.safetensors']
    state = {}
    for fname in files:
        state.update(read_safetensors(os.path.join(d, fname)))
    if spec.tie_word_embeddings:
        state['lm_head.weight'] = state['model.embed_tokens.weight']
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    if missing or unexpected:
        raise SystemExit(f'{d}: missing {missing}, unexpected {unexpected}')
    return model.to(device).eval(), cfg


def read_jsonl(path):
    opener = lzma.open if path.endswith('.xz') else open
    with opener(path, 'rt', encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip()]


@torch.no_grad()
def greedy_first_line(model, ids, max_new, stop_ids, tok):
    caches = [dict() for _ in model.model.layers]
    logits = model(torch.tensor([ids], device=next(model.parameters()).device), caches, 0)
    pos = len(ids)
    out = []
    for _ in range(max_new):
        nxt = int(logits[0, -1].argmax())
        if nxt in stop_ids:
            break
        out.append(nxt)
        text = tok.decode(out, skip_special_tokens=False)
        if '\n' in text:
            return text.split('\n')[0], out
        logits = model(torch.tensor([[nxt]], device=logits.device), caches, pos)
        pos += 1
    return tok.decode(out, skip_special_tokens=False).split('\n')[0], out


def replay_exact_match(model, tok, replay_dir, seq, limit, max_new):
    fim = [tok.token_to_id(t) for t in ('<fim_prefix>', '<fim_suffix>', '<fim_middle>')]
    stop_ids = {tok.token_to_id(t) for t in ('<|endoftext|>', '<fim_prefix>', '<fim_pad>', '<file_sep>')} - {None}
    results = {}
    examples = []
    for name in sorted(os.listdir(replay_dir)):
        if not name.endswith(('.jsonl', '.jsonl.xz')):
            continue
        cases = [r for r in read_jsonl(os.path.join(replay_dir, name)) if r.get('task') == 'complete'][:limit or None]
        hits = {'prefix': 0, 'fim': 0}
        for r in cases:
            want = r['output'].split('\n')[0]
            body = tok.encode(r['prompt'], add_special_tokens=False).ids[-(seq - max_new - 3):]
            for mode, ids in (('prefix', body), ('fim', [fim[0]] + body + [fim[1], fim[2]])):
                got, _ = greedy_first_line(model, ids, max_new, stop_ids, tok)
                hits[mode] += got.rstrip() == want.rstrip()
                if len(examples) < 8:
                    examples.append({'id': r['id'], 'mode': mode, 'want': want, 'got': got})
        results[name.split('.')[0]] = {'cases': len(cases), **{f'exact_match_{m}': round(h / max(1, len(cases)), 4) for m, h in hits.items()}}
    total = sum(v['cases'] for v in results.values())
    overall = {f'exact_match_{m}': round(sum(v[f'exact_match_{m}'] * v['cases'] for v in results.values()) / max(1, total), 4)
               for m in ('prefix', 'fim')}
    return {'cases': total, **overall, 'per_file': results, 'examples': examples}


def heldout_fim_match(model, tok, corpus_dir, n, budget, max_new, seed=0):
    """First-line exact match on held-out files at random line starts, with the real suffix (FIM) and
    without it (prefix only). The suffix gets up to a quarter of the token budget, as in the engine."""
    import random
    rng = random.Random(seed)
    docs = [d['text'] for d in read_jsonl(os.path.join(corpus_dir, 'heldout.jsonl.xz'))]
    fim = [tok.token_to_id(t) for t in ('<fim_prefix>', '<fim_suffix>', '<fim_middle>')]
    stop_ids = {tok.token_to_id(t) for t in ('<|endoftext|>', '<fim_prefix>', '<fim_pad>', '<file_sep>')} - {None}
    hits = {'prefix': 0, 'fim': 0}
    done = 0
    while done < n:
        lines = docs[rng.randrange(len(docs))].split('\n')
        if len(lines) < 12:
            continue
        k = rng.randrange(5, len(lines) - 1)
        want = lines[k]
        if not want.strip():
            continue
        prefix = '\n'.join(lines[:k]) + '\n'
        suffix = '\n' + '\n'.join(lines[k + 1:])
        pre = tok.encode(prefix, add_special_tokens=False).ids
        suf = tok.encode(suffix, add_special_tokens=False).ids[:budget // 4]
        pre_fim = pre[-(budget - len(suf) - 3):]
        for mode, ids in (('prefix', pre[-budget:]), ('fim', [fim[0]] + pre_fim + [fim[1]] + suf + [fim[2]])):
            got, _ = greedy_first_line(model, ids, max_new, stop_ids, tok)
            hits[mode] += got.rstrip() == want.rstrip()
        done += 1
    return {'cases': n, 'budget_tokens': budget, **{f'exact_match_{m}': round(h / n, 4) for m, h in hits.items()}}


@torch.no_grad()
def cache_check(model, tok, n=12):
    """Greedy tokens with the KV cache equal those from full forward passes."""
    device = next(model.parameters()).device
    ids = tok.encode('import os\n\ndef read_config(path):\n    with open(path) as f:\n', add_special_tokens=False).ids
    full = list(ids)
    for _ in range(n):
        full.append(int(model(torch.tensor([full], device=device))[0, -1].argmax()))
    caches = [dict() for _ in model.model.layers]
    logits = model(torch.tensor([ids], device=device), caches, 0)
    cached = list(ids)
    for _ in range(n):
        cached.append(int(logits[0, -1].argmax()))
        logits = model(torch.tensor([[cached[-1]]], device=device), caches, len(cached) - 1)
    return {'equal': full == cached, 'text': tok.decode(full[len(ids):], skip_special_tokens=False)}


@torch.no_grad()
def compare_with_transformers(model, model_dir, device):
    try:
        from transformers import LlamaForCausalLM
    except ImportError:
        return None
    try:
        hf = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation='eager')
    except TypeError:  # transformers 4 names it torch_dtype
        hf = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32, attn_implementation='eager')
    hf = hf.to(device).eval()
    ids = torch.randint(0, model.spec.vocab_size, (1, 200), generator=torch.Generator().manual_seed(0)).to(device)
    a = model(ids).float()
    b = hf(input_ids=ids).logits.float()
    return {'max_abs_diff': float((a - b).abs().max()), 'logit_scale': float(b.abs().max()),
            'argmax_agree': float((a.argmax(-1) == b.argmax(-1)).float().mean())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', required=True)
    ap.add_argument('--replay', required=True, help='folder of replay .jsonl (or .jsonl.xz) files')
    ap.add_argument('--limit', type=int, default=0, help='cases per file (0: all)')
    ap.add_argument('--max-new', type=int, default=64)
    ap.add_argument('--heldout', help='corpus folder: also measure first-line match on held-out files')
    ap.add_argument('--heldout-cases', type=int, default=200)
    ap.add_argument('--budget', type=int, default=1024, help='prompt tokens for the held-out measure')
    args = ap.parse_args()
    from tokenizers import Tokenizer
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = False
    model, cfg = load_model(args.model, device)
    tok = Tokenizer.from_file(os.path.join(args.model, 'tokenizer.json'))
    report = {'cache_check': cache_check(model, tok)}
    report['replay'] = replay_exact_match(model, tok, args.replay, cfg['max_position_embeddings'], args.limit, args.max_new)
    if args.heldout:
        report['heldout_first_line'] = heldout_fim_match(model, tok, args.heldout, args.heldout_cases, args.budget, args.max_new)
    report['transformers_check'] = compare_with_transformers(model, args.model, device)
    print(json.dumps(report))


if __name__ == '__main__':
    main()
