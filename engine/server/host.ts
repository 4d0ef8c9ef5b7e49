// One loaded model ready to serve: checkpoint, tokenizer, decoder, drafter, prompt templates and a request queue.
import { Decoder } from '../decode/decoder';
import { makeDrafter } from '../decode/drafters';
import { RequestQueue } from '../decode/queue';
import { openSpeculator, usesSpeculator, type SpeculationRunner } from '../decode/speculation';
import type { Drafter } from '../draft/types';
import { calibrateForwardCost, defaultForwardCost } from '../model/forwardCost';
import { loadCheckpoint, type LoadedCheckpoint } from '../model/index';
import type { LoadOptions } from '../model/types';
import { chatTemplateForServing, type ChatTemplate } from '../prompt/chat';
import { detectFimTemplate, type FimTemplateName } from '../prompt/fim';
import type { TextTokenizer } from '../tokenizer';

export interface ModelHost {
  readonly checkpoint: LoadedCheckpoint;
  readonly tokenizer: TextTokenizer;
  readonly decoder: Decoder;
  readonly drafter: Drafter | undefined;
  readonly fimTemplate: FimTemplateName;
  readonly chatTemplate: ChatTemplate;
  readonly queue: RequestQueue;
  readonly eosTokenIds: number[];
  readonly loadMs: number;
  dispose(): Promise<void>;
}

export interface HostOptions extends LoadOptions {
  drafter?: string;
  /** Measure the forward-cost curve of this model at load (a second or two) instead of the default curve. */
  calibrate?: boolean;
  /** The speculator folder for drafters that use one (default: `<model>-speculator` or `<model>/speculator`). */
  speculator?: string;
}

export async function openModelHost(dir: string, options: HostOptions = {}): Promise<ModelHost> {
  const t0 = performance.now();
  const drafter = makeDrafter(options.drafter ?? 'hybrid');
  const checkpoint = await loadCheckpoint(dir, usesSpeculator(options.drafter) ? { ...options, hiddenStates: true } : options);
  const speculator = await openSpeculator(dir, options.drafter, checkpoint.info, { ...(options.speculator ? { dir: options.speculator } : {}), ...(options.onWarning ? { onWarning: options.onWarning } : {}) });
  const costCurve = await costCurveFor(checkpoint, options.calibrate === true);
  return hostFor(checkpoint, drafter, performance.now() - t0, costCurve, speculator);
}

/** The prior forward-cost curve: measured on this model, or the runtime's default for its quantization. */
export async function costCurveFor(checkpoint: LoadedCheckpoint, calibrate: boolean): Promise<(s: number, context: number) => number> {
  if (calibrate) return (await calibrateForwardCost(checkpoint.model)).forwardCostMs;
  return defaultForwardCost(checkpoint.info.quantization).forwardCostMs;
}

export function hostFor(checkpoint: LoadedCheckpoint, drafter: Drafter | undefined, loadMs = 0, costCurve?: (s: number, context: number) => number, speculator?: SpeculationRunner & { dispose(): Promise<void> }): ModelHost {
  const tokenizer = checkpoint.tokenizer;
  const decoder = new Decoder({
    model: checkpoint.model,
    ...(drafter ? { drafter } : {}),
    decode: (ids) => tokenizer.decode(ids),
    ...(costCurve ? { costCurve } : {}),
    ...(speculator ? { speculator } : {}),
  });
  return {
    checkpoint,
    tokenizer,
    decoder,
    drafter,
    fimTemplate: detectFimTemplate(tokenizer),
    chatTemplate: chatTemplateForServing(tokenizer),
    queue: new RequestQueue(),
    eosTokenIds: checkpoint.eosTokenIds,
    loadMs,
    dispose: async () => {
      await checkpoint.model.dispose();
      await speculator?.dispose();
    },
  };
}

/** Token ids of a plain text prompt, with BOS when the tokenizer asks for it. */
export function plainPromptIds(tokenizer: TextTokenizer, text: string): number[] {
  const ids = tokenizer.encode(text);
  const bos = tokenizer.bosTokenId;
  return tokenizer.config.add_bos_token === true && bos !== undefined ? [bos, ...ids] : ids;
}
