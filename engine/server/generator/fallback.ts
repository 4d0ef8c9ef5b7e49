// presage.remote.fallbackToLocal: the remote serves while it can; when it cannot be reached (refused, timeout,
// 5xx, a stream cut before any text) and a local model is loaded, the same request runs locally.
import type { BackendHealth } from '../../protocol';
import { RemoteError } from './openaiClient';
import type { GenerateBase, Generated, Generator } from './types';

export class FallbackGenerator implements Generator {
  readonly kind = 'remote' as const;

  constructor(private readonly _remote: Generator, private readonly _local: () => Generator | undefined, private readonly _warn: (message: string) => void) {}

  contextTokens(): number {
    return this._remote.contextTokens();
  }

  countTokens(text: string): number {
    return this._remote.countTokens(text);
  }

  health(signal?: AbortSignal): Promise<BackendHealth> {
    return this._remote.health(signal);
  }

  private async _try<R extends GenerateBase>(req: R, run: (g: Generator, r: R) => Promise<Generated>): Promise<Generated> {
    let streamed = false;
    const onDelta = req.onDelta;
    const watched = onDelta ? { ...req, onDelta: (d: string) => {
      streamed = true;
      onDelta(d);
    } } : req;
    try {
      return await run(this._remote, watched);
    } catch (err) {
      const local = this._local();
      // Text already shown cannot be taken back: only a request that streamed nothing starts again locally.
      if (!(err instanceof RemoteError) || !err.unavailable || !local || streamed) throw err;
      this._warn(`${err.message}; answering from the local model`);
      // The local prompt budget is the local model's.
      return run(local, { ...req, maxPromptTokens: Math.min(req.maxPromptTokens, Math.max(16, local.contextTokens() - req.maxTokens - 8)) });
    }
  }

  fim: Generator['fim'] = (req) => this._try(req, (g, r) => g.fim(r));
  plain: Generator['plain'] = (req) => this._try(req, (g, r) => g.plain(r));
  chat: Generator['chat'] = (req) => this._try(req, (g, r) => g.chat(r));
  rewrite: Generator['rewrite'] = (req) => this._try(req, (g, r) => g.rewrite(r));
}
