// The Generator seam: what the surfaces ask of whoever produces tokens. The surfaces decide what goes into a prompt
// (budget, retrieval, post-processing); a generator decides how it is encoded and run. `LocalGenerator` renders the
// model's own templates and runs our decoder; `RemoteGenerator` sends the same request to an OpenAI-compatible
// server, where that server's templates apply.
import type { BackendHealth, FinishReason, GenerationMetrics } from '../../protocol';
import type { PromptMessage, RewritePromptInput } from '../../prompt/chat';
import type { RepoContext } from '../../prompt/related';

import type { SamplingParams } from '../sampling';

export type { SamplingParams };

export interface GenerateBase extends SamplingParams {
  requestId: string;
  maxTokens: number;
  /** Prompt tokens at most: the surface's budget rule over `contextTokens()`. */
  maxPromptTokens: number;
  /** Text the output probably copies (Predicted Outputs): a draft source locally, `prediction` remotely. */
  prediction?: string;
  /** More draft sources (chat context); a remote server does not get them. */
  references?: string[];
  signal?: AbortSignal;
  onDelta?: (delta: string) => void;
}

export interface FimRequest extends GenerateBase {
  prefix: string;
  suffix: string;
  /** Related workspace files, gathered only when the model reads them. */
  repoContext?: () => RepoContext | undefined;
  /** Stop rule on the text after the cursor (the completion pipeline's): where to cut, or -1. */
  stopAt?: (text: string) => number;
  /** Back the prefix up to a token boundary and constrain the first tokens (local: token healing). */
  healing: boolean;
  /** A new completion cancels the running and queued ones (typing went on). */
  cancelStale: boolean;
}

export interface ChatRequest extends GenerateBase {
  messages: PromptMessage[];
}

export interface RewriteRequest extends GenerateBase {
  input: RewritePromptInput;
}

export interface PlainRequest extends GenerateBase {
  prompt: string;
}

export interface Generated {
  /** For FIM: the text after the cursor (what healing backed up is taken off). */
  text: string;
  finishReason: FinishReason;
  metrics: GenerationMetrics;
  /** Local only: the token ids the model saw and produced. */
  promptIds?: number[];
  /** Local only: the prompt's format (BuiltPrompt.template, e.g. 'base-rewrite'), which decides how the reply ends. */
  promptTemplate?: string;
  tokens?: number[];
  /** Local only: the prefix's end that healing backed up ('' when none). */
  healed?: string;
  /** Local only, with a prediction: predicted tokens used (a longest common subsequence) and not. */
  predictionUsage?: { accepted: number; rejected: number };
}

export interface Generator {
  readonly kind: 'local' | 'remote';
  /** The model's context in tokens, for the surfaces' budget rules. */
  contextTokens(): number;
  /** Tokens of a text (exact locally, estimated remotely), for the surfaces' output budgets. */
  countTokens(text: string): number;
  fim(req: FimRequest): Promise<Generated>;
  /** A plain text continuation (no template). */
  plain(req: PlainRequest): Promise<Generated>;
  chat(req: ChatRequest): Promise<Generated>;
  rewrite(req: RewriteRequest): Promise<Generated>;
  health(signal?: AbortSignal): Promise<BackendHealth>;
  dispose?(): void;
}

export function emptyMetrics(): GenerationMetrics {
  return { steps: 0, tokens: 0, mat: 0, tokensPerS: 0, draftMs: 0, verifyMs: 0, totalMs: 0, firstTokenMs: 0, acceptedByDrafter: {} };
}
