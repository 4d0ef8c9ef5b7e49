// Engine entry point: `presage <command> [flags]`. Each command lives in its own module under engine/cli/.
process.env.ORT_DISABLE_TELEMETRY = '1';

type CommandModule = { run(argv: string[]): Promise<number | void> };

const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  replay: { summary: 'oracle replay of recorded outputs through a drafter (no model)', load: () => import('./cli/replay') },
  'bench-index': { summary: 'index >= 1 M tokens of real code; prints bytes/token and tokens/s', load: () => import('./cli/benchIndex') },
  'make-tiny-model': { summary: 'write a random checkpoint in Hugging Face layout', load: () => import('./cli/makeTinyModel') },
  generate: { summary: 'generate from a prompt file (greedy or speculative)', load: () => import('./cli/generate') },
  'render-prompt': { summary: 'the chat, rewrite or FIM prompt for a checkpoint: {text, ids}', load: () => import('./cli/renderPrompt') },
  'bench-forward': { summary: 'forward-pass cost curve for tree sizes and contexts', load: () => import('./cli/benchForward') },
  'bench-history': { summary: 'history load time at 1, 4 and 16 MB (read, check, import)', load: () => import('./cli/benchHistory') },
  'bench-e2e': { summary: 'greedy vs speculative tokens/s on the replay prompts', load: () => import('./cli/benchE2e') },
  complete: { summary: 'one inline completion at --file/--line/--character, as the editor would show it', load: () => import('./cli/complete') },
  rewrite: { summary: 'Rewrite Selection on --file --start L:C --end L:C --instruction TEXT: the replacement text', load: () => import('./cli/rewrite') },
  'bench-rewrite': { summary: 'rewrite cases (JSONL): exact match per kind, greedy vs speculative tokens/s, identical output', load: () => import('./bench/rewrite') },
  'bench-quality': { summary: 'ghost-text quality on cut replay completions, each stop stage switched off in turn', load: () => import('./bench/quality') },
  'bench-memory': { summary: 'peak RSS and prefill tokens/s at 256 and 1500-token prompts, per model and bit width', load: () => import('./bench/memory') },
  'bench-real-shape': { summary: 'a released model\'s exact shapes (random weights, real tokenizer) through the engine process: load, RSS, tokens/s', load: () => import('./bench/realShape') },
  'bench-remote': { summary: 'inline-completion latency, local model vs the same model behind serve on loopback, one run', load: () => import('./bench/remote') },
  serve: { summary: 'OpenAI-compatible HTTP server on loopback', load: () => import('./cli/serve') },
  stdio: { summary: 'JSON-RPC engine over stdio (used by the VS Code extension)', load: () => import('./cli/stdio') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`);
  return `usage: presage <command> [flags]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`presage: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const code = await (await command.load()).run(rest);
  return typeof code === 'number' ? code : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`presage: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.PRESAGE_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    process.exitCode = 1;
  },
);
