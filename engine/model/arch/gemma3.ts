// Gemma 3, text only (Gemma3ForCausalLM, model_type gemma3_text): Gemma 2's decoder (gemma2.ts) plus a (1 + w)
// RMSNorm over each query and key head (self_attn.q_norm / k_norm) before rope, five sliding layers to one
// global (sliding_window_pattern or layer_types), sliding layers on rope_local_base_freq and global ones on
// rope_theta with rope_scaling; no soft-capping unless the config asks for it.
import { gemmaModule } from './gemma2';

export const gemma3 = gemmaModule('Gemma3ForCausalLM', 'gemma3_text', 'gemma3', {
  // Every other layer global, so a two-layer model has one of each.
  sliding_window_pattern: 2,
  rope_theta: 1_000_000,
  rope_local_base_freq: 10_000,
  // Scales the global layers only, as in Gemma 3 4B and larger.
  rope_scaling: { rope_type: 'linear', factor: 8 },
  attn_logit_softcapping: null,
  final_logit_softcapping: null,
});
