// The local back end: the model in the slot, its own FIM and chat templates, token healing and our speculative
// decoder. The prediction and the references become draft sources, so they change speed, never the output.
import { healedView } from '../../complete/healed';
import type { DecodeResult } from '../../decode/decoder';
import { buildChatPrompt, buildRewritePrompt } from '../../prompt/chat';
import { buildFimPrompt, supportsRepoContext, type BuiltPrompt } from '../../prompt/fim';
import { healingConstraint, planHealing, vocabularyTexts } from '../../prompt/healing';
import type { BackendHealth, GenerationMetrics } from '../../protocol';
import { EngineError } from '../errors';
import { plainPromptIds } from '../host';
import type { GenerateTextRequest, ModelSlot } from '../modelSlot';
import { predictionUsage } from '../prediction';
import { samplingOf } from '../sampling';
import type { Surface } from '../stats';
import type { ChatRequest, FimRequest, GenerateBase, Generated, Generator, PlainRequest, RewriteRequest } from './types';

export function toMetrics(r: DecodeResult): GenerationMetrics {
  const m = r.metrics;
  return {
    steps: m.steps, tokens: m.tokens, mat: m.mat, tokensPerS: m.tokensPerS, draftMs: m.draftMs, verifyMs: m.verifyMs,
    totalMs: m.totalMs, firstTokenMs: m.firstTokenMs, acceptedByDrafter: m.acceptedByDrafter,
  };
}

export class LocalGenerator implements Generator {
  readonly kind = 'local' as const;

  constructor(private readonly _slot: ModelSlot) {}

  contextTokens(): number {
    return this._slot.requireHost().checkpoint.info.maxContext;
  }

  async fim(req: FimRequest): Promise<Generated> {
    const host = this._slot.requireHost();
    const vocabTexts = req.healing ? vocabularyTexts(host.tokenizer, host.checkpoint.info.vocabSize) : undefined;
    const healing = vocabTexts ? planHealing(host.tokenizer, vocabTexts, req.prefix) : { kept: req.prefix, removed: '' };
    const view = healedView(healing.removed);
    // Models trained on repository-level data also see related workspace files in their multi-file format.
    const repo = supportsRepoContext(host.tokenizer, host.fimTemplate) ? req.repoContext?.() : undefined;
    const prompt = buildFimPrompt(host.tokenizer, host.fimTemplate, healing.kept, req.suffix, {
      maxPromptTokens: req.maxPromptTokens,
      ...(repo ? { path: repo.path, repoName: repo.repoName, related: repo.related } : {}),
    });
    const r = await this._run('complete', req, prompt, {
      cancelStale: req.cancelStale,
      ...(req.stopAt ? { stopAt: view.stopAt(req.stopAt) } : {}),
      ...(vocabTexts && healing.removed ? { constraint: healingConstraint(vocabTexts, healing.removed) } : {}),
      ...(req.onDelta ? { onDelta: view.onDelta(req.onDelta) } : {}),
    });
    return { ...r, text: view.text(r.text), healed: healing.removed };
  }

  async plain(req: PlainRequest): Promise<Generated> {
    const host = this._slot.requireHost();
    const prompt: BuiltPrompt = { ids: plainPromptIds(host.tokenizer, req.prompt), stopTokenIds: [], stop: [], template: 'plain' };
    if (prompt.ids.length === 0) throw new EngineError('prompt is empty', 'invalid-params');
    // A plain prompt is the caller's own text: it is refused, not cut, when it does not fit.
    const maxContext = host.checkpoint.info.maxContext;
    if (prompt.ids.length >= maxContext) throw new EngineError(`the prompt is ${prompt.ids.length} tokens; the model's context is ${maxContext} tokens`, 'invalid-params');
    return this._run('complete', req, prompt);
  }

  async chat(req: ChatRequest): Promise<Generated> {
    const host = this._slot.requireHost();
    // Reasoning models (Qwen3) answer directly: their template writes an empty think block.
    const prompt = buildChatPrompt(host.tokenizer, host.chatTemplate, req.messages, { maxPromptTokens: req.maxPromptTokens, templateVariables: { enable_thinking: false } });
    return this._run('chat', req, prompt);
  }

  async rewrite(req: RewriteRequest): Promise<Generated> {
    const host = this._slot.requireHost();
    const prompt = buildRewritePrompt(host.tokenizer, host.chatTemplate, req.input, { maxPromptTokens: req.maxPromptTokens });
    return this._run('rewrite', req, prompt);
  }

  countTokens(text: string): number {
    return this._slot.requireHost().tokenizer.encode(text).length;
  }

  async health(): Promise<BackendHealth> {
    const path = this._slot.modelPath;
    return this._slot.host && path ? { backend: 'local', ok: true, model: path } : { backend: 'local', ok: false, error: 'no model is loaded' };
  }

  private async _run(surface: Surface, req: GenerateBase, prompt: BuiltPrompt, extra: Partial<GenerateTextRequest> = {}): Promise<Generated> {
    const host = this._slot.requireHost();
    const predicted = req.prediction !== undefined ? host.tokenizer.encode(req.prediction) : undefined;
    const references = [...(predicted ? [predicted] : []), ...(req.references ?? []).map((t) => host.tokenizer.encode(t))];
    const r = await this._slot.generateText({
      requestId: req.requestId, surface, prompt, maxTokens: req.maxTokens,
      ...samplingOf(req),
      ...(references.length > 0 ? { references } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      ...(req.onDelta ? { onDelta: req.onDelta } : {}),
      ...extra,
    });
    return {
      text: r.text, finishReason: r.finishReason, metrics: toMetrics(r), promptIds: prompt.ids, promptTemplate: prompt.template, tokens: r.tokens,
      ...(predicted ? { predictionUsage: predictionUsage(predicted, r.tokens) } : {}),
    };
  }
}
