// `generate`: one prompt file through the model, plain greedy/sampling or speculative.
import fs from 'node:fs';
import type { DecodeResult } from '../decode/decoder';
import type { SamplingOptions } from '../decode/sampling';
import { openModelHost, plainPromptIds, type ModelHost } from '../server/host';
import { parseDevice } from '../model/device';
import { hostBytes, type OrtModel } from '../model/session';
import { boolFlag, flag, listFlag, numberFlag, parseArgs, requireFlag } from './args';

export interface GenerateOptions {
  prompt: string;
  references?: string[];
  maxTokens: number;
  mode: 'greedy' | 'speculative';
  sampling?: SamplingOptions;
  maxDraftTokens?: number;
  fixedDraftTokens?: number;
  /** Stop at the model's EOS tokens (default true). */
  stopAtEos?: boolean;
}

export interface GenerateOutput {
  prompt_ids: number[];
  tokens: number[];
  text: string;
  steps: number;
  mat: number;
  tokens_per_s: number;
  ms_total: number;
  finish_reason: string;
  draft_ms: number;
  verify_ms: number;
  accepted_by_drafter: Record<string, number>;
}

export function toOutput(promptIds: number[], r: DecodeResult): GenerateOutput {
  const m = r.metrics;
  const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;
  return {
    prompt_ids: promptIds,
    tokens: r.tokens,
    text: r.text,
    steps: m.steps,
    mat: round(m.mat),
    tokens_per_s: round(m.tokensPerS, 2),
    ms_total: round(m.totalMs, 1),
    finish_reason: r.finishReason,
    draft_ms: round(m.draftMs, 2),
    verify_ms: round(m.verifyMs, 1),
    accepted_by_drafter: m.acceptedByDrafter,
  };
}

/** Runs one generation on a loaded model; the history is not taught (each run stands alone). */
export async function generateWith(host: ModelHost, options: GenerateOptions, requestId = 'generate'): Promise<GenerateOutput> {
  if (options.mode !== 'greedy' && options.mode !== 'speculative') throw new Error(`--mode must be greedy or speculative, got '${String(options.mode)}'`);
  const promptIds = plainPromptIds(host.tokenizer, options.prompt);
  if (promptIds.length === 0) throw new Error('the prompt is empty');
  const references = (options.references ?? []).map((r) => host.tokenizer.encode(r));
  const result = await host.decoder.generate({
    requestId,
    prompt: promptIds,
    references,
    maxTokens: options.maxTokens,
    sampling: options.sampling ?? {},
    eosTokenIds: options.stopAtEos === false ? [] : host.eosTokenIds,
    speculative: options.mode === 'speculative',
    learn: false,
    ...(options.maxDraftTokens !== undefined ? { maxDraftTokens: options.maxDraftTokens } : {}),
    ...(options.fixedDraftTokens !== undefined ? { fixedDraftTokens: options.fixedDraftTokens } : {}),
  });
  return toOutput(promptIds, result);
}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'no-eos']);
  const model = requireFlag(args, 'model');
  const prompt = readText(requireFlag(args, 'prompt-file'), 'prompt file');
  const references = listFlag(args, 'references').map((f) => readText(f, 'reference'));
  const mode = (flag(args, 'mode') ?? 'speculative') as GenerateOptions['mode'];
  const temperature = numberFlag(args, 'temperature', 0);
  const sampling: SamplingOptions = { temperature, seed: numberFlag(args, 'seed', 0) };
  if (flag(args, 'top-p') !== undefined) sampling.topP = numberFlag(args, 'top-p', 1);
  if (flag(args, 'top-k') !== undefined) sampling.topK = numberFlag(args, 'top-k', 0);
  const device = parseDevice(flag(args, 'device')) ?? 'auto';
  const quantization = flag(args, 'quantization') as 'none' | 'int8' | 'int4' | undefined;
  const host = await openModelHost(model, {
    drafter: mode === 'greedy' ? 'none' : flag(args, 'drafter') ?? 'hybrid',
    device,
    ...(quantization ? { quantization } : {}),
    ...(flag(args, 'cache-dir') ? { cacheDir: flag(args, 'cache-dir')! } : {}),
    ...(flag(args, 'threads') ? { threads: numberFlag(args, 'threads', 0) } : {}),
    // the speculator folder for --drafter speculator / hybrid+speculator (default: <model>-speculator)
    ...(flag(args, 'speculator') ? { speculator: flag(args, 'speculator')! } : {}),
    onWarning: (m) => process.stderr.write(`presage: warning: ${m}\n`),
  });
  // Bytes that cross between host and device per decoding step (on the CPU: what the session is fed and returns).
  // Recorded per run; the median is a decoding step's (the prompt's prefill runs are few and much larger).
  // A device cache's compaction runs just before the forward it serves and counts toward it.
  const busBytes: number[] = [];
  let compaction = 0;
  (host.checkpoint.model as Partial<OrtModel>).instrument?.((feeds, outputs) => {
    const bytes = hostBytes(feeds) + hostBytes(outputs);
    if (!('input_ids' in feeds)) compaction += bytes;
    else {
      busBytes.push(bytes + compaction);
      compaction = 0;
    }
  });
  try {
    const out = await generateWith(host, {
      prompt,
      references,
      maxTokens: numberFlag(args, 'max-tokens', 128),
      mode,
      sampling,
      stopAtEos: !boolFlag(args, 'no-eos'),
      ...(flag(args, 'max-draft') !== undefined ? { maxDraftTokens: numberFlag(args, 'max-draft', 64) } : {}),
      ...(flag(args, 'fixed-draft') !== undefined ? { fixedDraftTokens: numberFlag(args, 'fixed-draft', 16) } : {}),
    });
    // The device that actually ran (after any fallback), with the GPU adapter's name.
    const info = host.checkpoint.info;
    const ran = { device: info.device, ...(info.adapter ? { adapter: info.adapter } : {}), bus_bytes_per_run_p50: busBytes.length ? busBytes.sort((a, b) => a - b)[Math.floor(busBytes.length / 2)]! : 0 };
    if (boolFlag(args, 'json')) process.stdout.write(JSON.stringify({ ...out, ...ran }) + '\n');
    else {
      process.stdout.write(out.text + '\n');
      process.stderr.write(`steps ${out.steps}, MAT ${out.mat}, ${out.tokens_per_s} tokens/s, ${out.ms_total} ms, ${out.finish_reason}\n`);
    }
  } finally {
    await host.dispose();
  }
  return 0;
}
