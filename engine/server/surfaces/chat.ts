// The chat surface: retrieval over the local documents (the index never leaves this process; only the prompt
// travels), the system prompt with that context, and its budget rule. `generate` is the part below retrieval that
// `/v1/chat/completions` uses, where the client wrote the messages.
import type { PromptMessage } from '../../prompt/chat';
import type { ChatParams, Citation, GenerationResult } from '../../protocol';
import { checkString, EngineError } from '../errors';
import type { Generated } from '../generator/types';
import { retrieveSnippets } from '../retrieval';
import { checkSampling, requestBase, samplingOf, type SamplingInput, type SurfaceContext } from './context';

export const CHAT_PROMPT_CAP = 6144;

export interface ChatGenerateParams extends SamplingInput {
  requestId: string;
  messages: PromptMessage[];
  maxTokens?: number;
  prediction?: string;
  references?: string[];
}

export class ChatSurface {
  constructor(private readonly _ctx: SurfaceContext) {}

  async answer(p: ChatParams, signal?: AbortSignal, onDelta?: (delta: string) => void): Promise<GenerationResult> {
    this._ctx.generator();
    const requestId = checkString(p?.requestId, 'requestId');
    if (!Array.isArray(p.messages) || p.messages.length === 0) throw new EngineError('messages must be a non-empty array', 'invalid-params');
    const given = Array.isArray(p.context) ? p.context : [];
    const lastUser = [...p.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const retrieved = retrieveSnippets(
      [...this._ctx.workspace.docs.all()].map((d) => ({ uri: d.uri, text: d.text })),
      lastUser,
      { maxSnippets: 3, exclude: new Set(given.map((c) => c.uri)) },
    );
    const snippets = [...given.map((c) => ({ uri: c.uri, text: c.text, startLine: c.startLine })), ...retrieved.map((s) => ({ uri: s.uri, text: s.text, startLine: s.startLine }))];
    const contextText = snippets.map((s) => `File: ${s.uri}${s.startLine !== undefined ? ` (from line ${s.startLine + 1})` : ''}\n\`\`\`\n${s.text}\n\`\`\``).join('\n\n');
    const system = `You are a helpful coding assistant. Answer concisely; quote code in fenced blocks.${contextText ? `\n\nWorkspace context:\n\n${contextText}` : ''}`;
    const messages: PromptMessage[] = [{ role: 'system', content: system }, ...p.messages.filter((m) => m.role !== 'system' || m.content)];
    const r = await this.generate({
      ...samplingOf(p), requestId, messages, ...(p.maxTokens !== undefined ? { maxTokens: p.maxTokens } : {}),
      references: snippets.map((s) => s.text),
    }, signal, onDelta);
    const citations: Citation[] = snippets.map((s) => (s.startLine !== undefined ? { uri: s.uri, startLine: s.startLine } : { uri: s.uri }));
    return { text: r.text, finishReason: r.finishReason, metrics: r.metrics, citations };
  }

  async generate(p: ChatGenerateParams, signal?: AbortSignal, onDelta?: (delta: string) => void): Promise<Generated> {
    const generator = this._ctx.generator();
    checkSampling(p);
    const maxTokens = p.maxTokens ?? 512;
    const t0 = performance.now();
    const r = await generator.chat({
      ...requestBase(generator, p, maxTokens, CHAT_PROMPT_CAP, signal, onDelta), messages: p.messages,
      ...(p.prediction !== undefined ? { prediction: p.prediction } : {}),
      ...(p.references ? { references: p.references } : {}),
    });
    this._ctx.record('chat', t0, r);
    return r;
  }
}
