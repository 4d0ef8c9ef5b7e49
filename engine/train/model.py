"""A small Llama (RMSNorm, RoPE, GQA, SwiGLU) in plain PyTorch with Hugging Face weight names.

Parameter names and math follow transformers' LlamaForCausalLM (rotate_half RoPE, no biases), so the
state dict saved by export.py loads there and in the engine's runtime unchanged. Works with torch >= 1.13
(Debian's python3-torch) on CPU and with torch 2.x on CUDA.
"""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

HAS_SDPA = hasattr(F, 'scaled_dot_product_attention')


@dataclass
class LlamaSpec:
    vocab_size: int = 12288
    hidden_size: int = 512
    intermediate_size: int = 1344
    num_hidden_layers: int = 8
    num_attention_heads: int = 8
    num_key_value_heads: int = 4
    max_position_embeddings: int = 2048
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    tie_word_embeddings: bool = True

    @property
    def head_dim(self):
        return self.hidden_size // self.num_attention_heads

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rope_tables(spec, positions, device):
    """cos, sin of shape [T, head_dim] for integer positions (HF layout: the two halves repeat)."""
    half = spec.head_dim // 2
    inv = 1.0 / (spec.rope_theta ** (torch.arange(0, half, device=device, dtype=torch.float32) * 2 / spec.head_dim))
    freqs = positions.float()[:, None] * inv[None, :]
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Attention(nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        d, hd = spec.hidden_size, spec.head_dim
        self.q_proj = nn.Linear(d, spec.num_attention_heads * hd, bias=False)
        self.k_proj = nn.Linear(d, spec.num_key_value_heads * hd, bias=False)
        self.v_proj = nn.Linear(d, spec.num_key_value_heads * hd, bias=False)
        self.o_proj = nn.Linear(spec.num_attention_heads * hd, d, bias=False)

    def forward(self, x, cos, sin, cache=None, attn_mask=None):
        """`attn_mask` ([B, T, T] bool, True where a query may attend) replaces the causal mask, e.g. to keep
        examples packed into one training row from seeing each other."""
        b, t, _ = x.shape
        s = self.spec
        q = self.q_proj(x).view(b, t, s.num_attention_heads, s.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, s.num_key_value_heads, s.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, s.num_key_value_heads, s.head_dim).transpose(1, 2)
        cos, sin = cos.to(q.dtype), sin.to(q.dtype)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            if cache.get('k') is not None:
                k = torch.cat([cache['k'], k], dim=2)
                v = torch.cat([cache['v'], v], dim=2)
            cache['k'], cache['v'] = k, v
        rep = s.num_attention_heads // s.num_key_value_heads
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        past = k.shape[2] - t
        if HAS_SDPA and attn_mask is None and (past == 0 or t == 1):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=(past == 0 and t > 1))
        else:
            mask = torch.ones(t, k.shape[2], dtype=torch.bool, device=x.device).tril(diagonal=past)
            if attn_mask is not None:
                mask = mask & attn_mask[:, None]
            if HAS_SDPA and attn_mask is not None:
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            else:
                att = (q @ k.transpose(-1, -2)) / math.sqrt(s.head_dim)
                att = att.masked_fill(~mask, float('-inf')).softmax(-1)
                y = att @ v
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class MLP(nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.gate_proj = nn.Linear(spec.hidden_size, spec.intermediate_size, bias=False)
        self.up_proj = nn.Linear(spec.hidden_size, spec.intermediate_size, bias=False)
        self.down_proj = nn.Linear(spec.intermediate_size, spec.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.input_layernorm = RMSNorm(spec.hidden_size, spec.rms_norm_eps)
        self.self_attn = Attention(spec)
        self.post_attention_layernorm = RMSNorm(spec.hidden_size, spec.rms_norm_eps)
        self.mlp = MLP(spec)

    def forward(self, x, cos, sin, cache=None, attn_mask=None):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache, attn_mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Backbone(nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.embed_tokens = nn.Embedding(spec.vocab_size, spec.hidden_size)
        self.layers = nn.ModuleList([Block(spec) for _ in range(spec.num_hidden_layers)])
        self.norm = RMSNorm(spec.hidden_size, spec.rms_norm_eps)


class LlamaLM(nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        self.model = Backbone(spec)
        self.lm_head = nn.Linear(spec.hidden_size, spec.vocab_size, bias=False)
        if spec.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
        self.reset_parameters()

    def reset_parameters(self, std=0.02):
        for name, p in self.named_parameters():
            if name.endswith('layernorm.weight') or name.endswith('norm.weight'):
                nn.init.ones_(p)
            elif name.endswith(('o_proj.weight', 'down_proj.weight')):
                nn.init.normal_(p, std=std / math.sqrt(2 * self.spec.num_hidden_layers))
            else:
                nn.init.normal_(p, std=std)

    def forward(self, ids, caches=None, start=0):
        """Logits [B, T, V]. With `caches` (one dict per layer), keys/values are kept for incremental decoding."""
        positions = torch.arange(start, start + ids.shape[1], device=ids.device)
        cos, sin = rope_tables(self.spec, positions, ids.device)
        x = self.model.embed_tokens(ids)
        for i, layer in enumerate(self.model.layers):
            x = layer(x, cos, sin, None if caches is None else caches[i])
        return self.lm_head(self.model.norm(x))

    def num_parameters(self):
        return sum(p.numel() for p in self.parameters())  # tied weights counted once
