// Placeholder until this command is implemented.
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('presage: this command is not available in this build yet\n');
  return 2;
}
