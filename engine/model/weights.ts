// Tensor names and shapes of the Hugging Face Llama/Qwen2 layout, derived from the config.
import type { ModelConfig } from './config';

export interface WeightSpec {
  name: string;
  shape: number[];
  kind: 'embedding' | 'norm' | 'linear' | 'bias';
}

export const layerPrefix = (i: number): string => `model.layers.${i}`;

export function weightSpecs(c: ModelConfig): WeightSpec[] {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const specs: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, c.hiddenSize], kind: 'embedding' }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = layerPrefix(i);
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [c.hiddenSize], kind: 'norm' });
    specs.push({ name: `${p}.self_attn.q_proj.weight`, shape: [q, c.hiddenSize], kind: 'linear' });
    specs.push({ name: `${p}.self_attn.k_proj.weight`, shape: [kv, c.hiddenSize], kind: 'linear' });
    specs.push({ name: `${p}.self_attn.v_proj.weight`, shape: [kv, c.hiddenSize], kind: 'linear' });
    if (c.qkvBias) {
      specs.push({ name: `${p}.self_attn.q_proj.bias`, shape: [q], kind: 'bias' });
      specs.push({ name: `${p}.self_attn.k_proj.bias`, shape: [kv], kind: 'bias' });
      specs.push({ name: `${p}.self_attn.v_proj.bias`, shape: [kv], kind: 'bias' });
    }
    specs.push({ name: `${p}.self_attn.o_proj.weight`, shape: [c.hiddenSize, q], kind: 'linear' });
    if (c.oBias) specs.push({ name: `${p}.self_attn.o_proj.bias`, shape: [c.hiddenSize], kind: 'bias' });
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [c.hiddenSize], kind: 'norm' });
    specs.push({ name: `${p}.mlp.gate_proj.weight`, shape: [c.intermediateSize, c.hiddenSize], kind: 'linear' });
    specs.push({ name: `${p}.mlp.up_proj.weight`, shape: [c.intermediateSize, c.hiddenSize], kind: 'linear' });
    specs.push({ name: `${p}.mlp.down_proj.weight`, shape: [c.hiddenSize, c.intermediateSize], kind: 'linear' });
    if (c.mlpBias) {
      specs.push({ name: `${p}.mlp.gate_proj.bias`, shape: [c.intermediateSize], kind: 'bias' });
      specs.push({ name: `${p}.mlp.up_proj.bias`, shape: [c.intermediateSize], kind: 'bias' });
      specs.push({ name: `${p}.mlp.down_proj.bias`, shape: [c.hiddenSize], kind: 'bias' });
    }
  }
  specs.push({ name: 'model.norm.weight', shape: [c.hiddenSize], kind: 'norm' });
  if (!c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, c.hiddenSize], kind: 'linear' });
  return specs;
}

export function parameterCount(c: ModelConfig): number {
  return weightSpecs(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}
