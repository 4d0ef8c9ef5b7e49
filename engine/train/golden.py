"""Golden-logit fixtures for the model runtime.

Builds tiny seeded random checkpoints with Hugging Face transformers, saves them with
save_pretrained (safetensors) into <out>/<case>/, and writes golden.json next to each:
    {"input_ids": [...], "logits": [[...vocab] * S]}   (fp32, from model(input_ids).logits)

Usage: python3 engine/train/golden.py --out test/fixtures/golden
Needs torch and transformers (present on the GPU machine; runs on CPU in seconds).
"""
import argparse
import json
import math
import os

import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

VOCAB = 384
SEQ = 12


def base(**over):
    cfg = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
               num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
               rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
               bos_token_id=1, eos_token_id=2, pad_token_id=None)
    cfg.update(over)
    return cfg


CASES = {
    # kv_heads < heads, untied head.
    'llama-gqa': ('llama', base(), torch.float32),
    # llama3 rope scaling: low frequencies scaled, a smooth band in between.
    'llama-rope-llama3': ('llama', base(rope_theta=500000.0, rope_scaling={
        'rope_type': 'llama3', 'factor': 8.0, 'low_freq_factor': 1.0, 'high_freq_factor': 4.0,
        'original_max_position_embeddings': 64}), torch.float32),
    # explicit head size 12 (not a multiple of 8) and linear rope scaling.
    'llama-headdim-12': ('llama', base(head_dim=12, rope_scaling={'rope_type': 'linear', 'factor': 2.0}), torch.float32),
    # tied embeddings, q/k/v bias.
    'qwen2-tied': ('qwen2', base(tie_word_embeddings=True, num_key_value_heads=1), torch.float32),
    # bf16 weights on disk; logits computed in fp32 from the bf16-rounded weights.
    'llama-bf16': ('llama', base(num_key_value_heads=4), torch.bfloat16),
}


def expected_inv_freq(theta, head_dim, scaling):
    """The runtime's formula (engine/model/config.ts ropeInvFreq), to check transformers used the same."""
    inv = [1.0 / theta ** (2 * i / head_dim) for i in range(head_dim // 2)]
    if scaling is None:
        return inv
    kind = scaling.get('rope_type', scaling.get('type'))
    if kind == 'linear':
        return [f / scaling['factor'] for f in inv]
    if kind == 'llama3':
        f_, lo, hi, orig = scaling['factor'], scaling['low_freq_factor'], scaling['high_freq_factor'], scaling['original_max_position_embeddings']
        out = []
        for f in inv:
            wl = 2 * math.pi / f
            if wl > orig / lo:
                out.append(f / f_)
            elif wl >= orig / hi:
                s = (orig / wl - lo) / (hi - lo)
                out.append((1 - s) * f / f_ + s * f)
            else:
                out.append(f)
        return out
    raise ValueError(kind)


def randomize(model, gen):
    """Weights with real spread (the library's default init gives near-uniform logits)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('norm.weight') or 'layernorm' in name:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith('.bias'):
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
            elif 'embed_tokens' in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[1]))


def build(case, arch, cfg, dtype, out_dir, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    kwargs = dict(cfg)
    if int(transformers.__version__.split('.')[0]) >= 5:  # rope settings moved into rope_parameters
        rope = dict(kwargs.pop('rope_scaling', None) or {'rope_type': 'default'})
        rope['rope_theta'] = kwargs.pop('rope_theta')
        kwargs['rope_parameters'] = rope
    conf = (LlamaConfig if arch == 'llama' else Qwen2Config)(**kwargs)
    conf._attn_implementation = 'eager'
    model = (LlamaForCausalLM if arch == 'llama' else Qwen2ForCausalLM)(conf).eval()
    randomize(model, gen)
    if cfg.get('tie_word_embeddings'):
        assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr(), 'head not tied'
    head_dim = cfg.get('head_dim', cfg['hidden_size'] // cfg['num_attention_heads'])
    want = torch.tensor(expected_inv_freq(cfg['rope_theta'], head_dim, cfg.get('rope_scaling')), dtype=torch.float64)
    got = model.model.rotary_emb.inv_freq.double()
    assert torch.allclose(got, want, rtol=1e-5), f'{case}: transformers rope differs from the runtime formula\n{got}\n{want}'
    # Casting the model also casts the rotary buffers; keep them in fp32 as transformers computes them.
    rope_buffers = {n: b.clone() for n, b in model.named_buffers() if 'inv_freq' in n}
    model = model.to(dtype)
    path = os.path.join(out_dir, case)
    os.makedirs(path, exist_ok=True)
    model.save_pretrained(path)  # safetensors by default (transformers >= 4.35)
    # Logits in fp32 from exactly the stored (possibly bf16-rounded) weights.
    model = model.float().eval()
    for n, b in model.named_buffers():
        if n in rope_buffers:
            b.copy_(rope_buffers[n])
    ids = torch.randint(0, VOCAB, (1, SEQ), generator=gen)
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0].float()
    # Legacy keys next to transformers 5's rope_parameters, so either reader finds them.
    cfg_path = os.path.join(path, 'config.json')
    with open(cfg_path) as f:
        saved = json.load(f)
    saved['rope_theta'] = cfg['rope_theta']
    saved['rope_scaling'] = cfg.get('rope_scaling')
    saved['torch_dtype'] = 'bfloat16' if dtype == torch.bfloat16 else 'float32'
    with open(cfg_path, 'w') as f:
        json.dump(saved, f, indent=2, sort_keys=True)
    for extra in ('generation_config.json',):
        p = os.path.join(path, extra)
        if os.path.exists(p):
            os.remove(p)
    golden = {
        'case': case, 'transformers': transformers.__version__, 'torch': torch.__version__,
        'input_ids': ids[0].tolist(),
        'logits': [[float('%.9g' % v) for v in row] for row in logits.tolist()],
    }
    with open(os.path.join(path, 'golden.json'), 'w') as f:
        json.dump(golden, f, separators=(',', ':'))
    size = sum(os.path.getsize(os.path.join(path, n)) for n in os.listdir(path))
    print(f'{case}: {size} bytes, files {sorted(os.listdir(path))}, logits std {logits.std():.3f}')
    assert size < 300_000, f'{case} is {size} bytes'


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--only', nargs='*', help='case names to build (default: all)')
    args = ap.parse_args()
    for i, (case, (arch, cfg, dtype)) in enumerate(CASES.items()):
        if not args.only or case in args.only:
            build(case, arch, cfg, dtype, args.out, args.seed + i)


if __name__ == '__main__':
    main()
