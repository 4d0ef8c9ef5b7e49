// Minimal flag parser shared by the CLI commands: --name value, --flag, repeated flags collect into arrays.
export interface ParsedArgs {
  flags: Map<string, string[]>;
  positional: string[];
}

export function parseArgs(argv: string[], booleanFlags: readonly string[] = []): ParsedArgs {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (booleanFlags.includes(name)) value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) value = 'true';
      else {
        value = next;
        i++;
      }
    }
    const list = flags.get(name) ?? [];
    list.push(value);
    flags.set(name, list);
  }
  return { flags, positional };
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return v ? v[v.length - 1] : undefined;
}

export function requireFlag(args: ParsedArgs, name: string): string {
  const v = flag(args, name);
  if (v === undefined) throw new Error(`missing required flag --${name}`);
  return v;
}

export function numberFlag(args: ParsedArgs, name: string, fallback: number): number {
  const v = flag(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} expects a number, got '${v}'`);
  return n;
}

export function listFlag(args: ParsedArgs, name: string): string[] {
  return args.flags.get(name) ?? [];
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  const v = flag(args, name);
  return v !== undefined && v !== 'false' && v !== '0';
}
