// Test data for the secret policy: one planted file per rule, shared by the policy's own tests, the extension's
// indexer test and the engine's document-store test. Token values are assembled at run time so this source file
// does not itself look like a secret (it must stay indexable).

const fake = (prefix: string, length: number, alphabet = 'A1b2C3d4E5f6G7h8J9k0'): string =>
  prefix + Array.from({ length }, (_, i) => alphabet[(i * 7) % alphabet.length]).join('');

const PEM_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n';
const pem = (kind: string): string => `-----BEGIN ${kind}PRIVATE KEY-----\n${PEM_BODY}-----END ${kind}PRIVATE KEY-----\n`;

export interface PlantedSecret {
  /** Workspace-relative path. */
  path: string;
  text: string;
  /** What the policy must catch it by. */
  by: 'name' | 'content' | 'vcs';
}

/** Every kind of secret the policy promises to keep out. */
export const PLANTED_SECRETS: readonly PlantedSecret[] = [
  { path: '.ssh/id_rsa', text: pem('RSA '), by: 'name' },
  { path: '.ssh/id_rsa.pub', text: 'ssh-rsa AAAAB3NzaC1yc2E user@host\n', by: 'name' },
  { path: 'keys/id_ed25519', text: pem('OPENSSH '), by: 'name' },
  { path: 'keys/id_ecdsa', text: pem('EC '), by: 'name' },
  { path: 'keys/id_dsa', text: pem('DSA '), by: 'name' },
  { path: 'certs/server.pem', text: 'certificate bytes\n', by: 'name' },
  { path: 'certs/server.key', text: 'key bytes\n', by: 'name' },
  { path: 'certs/client.p12', text: 'p12 bytes\n', by: 'name' },
  { path: 'certs/client.pfx', text: 'pfx bytes\n', by: 'name' },
  { path: 'android/release.jks', text: 'jks bytes\n', by: 'name' },
  { path: 'android/debug.keystore', text: 'keystore bytes\n', by: 'name' },
  { path: '.env', text: 'DATABASE_URL=postgres://admin:hunter2@db/prod\n', by: 'name' },
  { path: 'config/.env.production', text: 'API_KEY=plain-value\n', by: 'name' },
  { path: '.aws/credentials', text: '[default]\naws_secret_access_key = plainvalue\n', by: 'name' },
  { path: '.npmrc', text: `//registry.npmjs.org/:_authToken=${fake('', 24)}\n`, by: 'content' },
  { path: '.git-credentials', text: 'https://user:plainvalue@github.com\n', by: 'name' },
  { path: '.netrc', text: 'machine example.com login me password plainvalue\n', by: 'name' },
  { path: '.pgpass', text: 'db:5432:app:admin:plainvalue\n', by: 'name' },
  { path: 'config/secrets.json', text: '{"apiKey": "plainvalue"}\n', by: 'name' },
  { path: 'config/credentials.json', text: '{"client_secret": "plainvalue"}\n', by: 'name' },
  { path: '.kube/config', text: 'users:\n- name: admin\n  user:\n    token: plainvalue\n', by: 'name' },
  { path: '.docker/config.json', text: '{"auths": {"registry": {"auth": "cGxhaW4="}}}\n', by: 'name' },
  { path: 'infra/prod.tfvars', text: 'db_password = "plainvalue"\n', by: 'name' },
  { path: 'vendor/lib/.git/config', text: `[remote "origin"]\n\turl = https://x:${fake('', 20)}@example.com/r.git\n`, by: 'vcs' },
  // Harmless names, secret content.
  { path: 'docs/notes.txt', text: `keep this safe:\n${pem('')}`, by: 'content' },
  { path: 'src/github.ts', text: `export const token = '${fake('ghp_', 36)}';\n`, by: 'content' },
  { path: 'src/githubPat.ts', text: `const t = "${fake('github_pat_', 40)}";\n`, by: 'content' },
  { path: 'src/slack.py', text: `SLACK = "${fake('xoxb-', 24)}"\n`, by: 'content' },
  { path: 'src/aws.go', text: `const key = "${fake('AKIA', 16, 'ABCDEFGHIJ2345')}"\n`, by: 'content' },
  { path: 'src/openai.ts', text: `const key = '${fake('sk-', 40)}';\n`, by: 'content' },
  { path: 'src/gitlab.rb', text: `TOKEN = '${fake('glpat-', 20)}'\n`, by: 'content' },
  { path: 'src/npm.js', text: `const t = '${fake('npm_', 36)}';\n`, by: 'content' },
  { path: 'src/google.java', text: `String k = "${fake('AIza', 35)}";\n`, by: 'content' },
];

/** Files that look a little like secrets but are not: they must still be indexed. */
export const HARMLESS_FILES: ReadonlyArray<{ path: string; text: string }> = [
  { path: 'src/env.ts', text: 'export const env = process.env.NODE_ENV;\n' },
  { path: 'src/keys.ts', text: 'export const keys = ["up", "down"];\n' },
  { path: 'src/task.ts', text: 'const risk = "disk-usage-report-for-the-whole-cluster";\n' },
  { path: 'src/pem.md', text: 'A PEM file starts with -----BEGIN CERTIFICATE-----.\n' },
  { path: 'web/.npmrc', text: 'registry=https://registry.npmjs.org/\nsave-exact=true\n' },
  { path: 'src/credentials.ts', text: 'export interface Credentials { user: string }\n' },
];
