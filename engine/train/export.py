"""Writes a trained LlamaLM in the Hugging Face layout: config.json, generation_config.json and
safetensors weights (one file, or shards plus model.safetensors.index.json when --shard-bytes is set).

The safetensors writer is a few lines of standard library, so no `safetensors` package is needed.
Tied embeddings are stored once (as model.embed_tokens.weight), as transformers does.
"""
import json
import os
import struct

import torch

DTYPE_NAMES = {torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float32: 'F32'}
TORCH_DTYPE_NAMES = {torch.float16: 'float16', torch.bfloat16: 'bfloat16', torch.float32: 'float32'}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype in (torch.float16, torch.bfloat16):
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """tensors: ordered dict name -> tensor. Little-endian, header padded to 8 bytes."""
    header = {}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        data = tensor_bytes(t)
        header[name] = {'dtype': DTYPE_NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    if metadata:
        header['__metadata__'] = metadata
    raw = json.dumps(header, separators=(',', ':')).encode()
    raw += b' ' * (-len(raw) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def hf_state_dict(model, dtype):
    out = {}
    for name, t in model.state_dict().items():
        if name == 'lm_head.weight' and model.spec.tie_word_embeddings:
            continue
        out[name] = t.to(dtype)
    return out


def hf_config(spec, dtype, eos_id):
    return {
        'architectures': ['LlamaForCausalLM'],
        'model_type': 'llama',
        'vocab_size': spec.vocab_size,
        'hidden_size': spec.hidden_size,
        'intermediate_size': spec.intermediate_size,
        'num_hidden_layers': spec.num_hidden_layers,
        'num_attention_heads': spec.num_attention_heads,
        'num_key_value_heads': spec.num_key_value_heads,
        'head_dim': spec.head_dim,
        'hidden_act': 'silu',
        'max_position_embeddings': spec.max_position_embeddings,
        'rms_norm_eps': spec.rms_norm_eps,
        'rope_theta': spec.rope_theta,
        'rope_scaling': None,
        'attention_bias': False,
        'mlp_bias': False,
        'tie_word_embeddings': spec.tie_word_embeddings,
        'bos_token_id': None,
        'eos_token_id': eos_id,
        'pad_token_id': None,
        'initializer_range': 0.02,
        'use_cache': True,
        'torch_dtype': TORCH_DTYPE_NAMES[dtype],
    }


def export(model, out_dir, eos_id, dtype=torch.float16, shard_bytes=0, extra_config=None):
    """`extra_config` adds keys to config.json, e.g. the demo label."""
    os.makedirs(out_dir, exist_ok=True)
    tensors = hf_state_dict(model, dtype)
    with open(os.path.join(out_dir, 'config.json'), 'w') as f:
        json.dump({**hf_config(model.spec, dtype, eos_id), **(extra_config or {})}, f, indent=2)
        f.write('\n')
    with open(os.path.join(out_dir, 'generation_config.json'), 'w') as f:
        json.dump({'eos_token_id': eos_id, 'do_sample': False, 'max_new_tokens': 128}, f, indent=2)
        f.write('\n')
    meta = {'format': 'pt'}
    if not shard_bytes:
        write_safetensors(os.path.join(out_dir, 'model.safetensors'), tensors, meta)
        return ['model.safetensors']
    shards, current, size = [], {}, 0
    for name, t in tensors.items():
        n = t.numel() * t.element_size()
        if current and size + n > shard_bytes:
            shards.append(current)
            current, size = {}, 0
        current[name] = t
        size += n
    shards.append(current)
    names = [f'model-{i + 1:05d}-of-{len(shards):05d}.safetensors' for i in range(len(shards))]
    weight_map = {}
    for fname, shard in zip(names, shards):
        write_safetensors(os.path.join(out_dir, fname), shard, meta)
        weight_map.update({k: fname for k in shard})
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    with open(os.path.join(out_dir, 'model.safetensors.index.json'), 'w') as f:
        json.dump({'metadata': {'total_size': total}, 'weight_map': weight_map}, f, indent=2)
        f.write('\n')
    return names
