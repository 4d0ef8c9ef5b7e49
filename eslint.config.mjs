// Lint rules and the import boundaries of ARCHITECTURE.md. Each zone lists what its files must never import;
// a later zone that matches the same file replaces the earlier list, so every zone repeats the rules it inherits.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const forbid = (regex, message) => ({ regex, message });
/** Matches a relative import of a sibling engine folder from any depth below engine/ (e.g. '../../model/x'). */
const sibling = (folder) => `^(\\.\\./)+${folder}(/|$)`;

const standalone = [
  forbid('^vscode$', 'engine/ is a standalone process: it never imports vscode (ARCHITECTURE.md).'),
  forbid('(^|/)extension(/|$)', 'engine/ never imports extension/ (ARCHITECTURE.md).'),
];
/** Folders of engine/ above a given layer: a lower layer must not reach up into them. */
const above = (folders, layer) =>
  folders.map((f) => forbid(sibling(f), `engine/${layer}/ must not import engine/${f}/ (ARCHITECTURE.md layers).`));

const zones = [
  { files: ['engine/**/*.ts'], forbidden: standalone },
  {
    files: ['engine/protocol/**/*.ts'],
    forbidden: [
      ...standalone,
      forbid('^\\.\\./', 'engine/protocol/ is the wire contract: it imports nothing from the rest of engine/.'),
    ],
  },
  { files: ['engine/draft/**/*.ts'], forbidden: [...standalone, ...above(['model', 'decode', 'prompt', 'complete', 'server', 'cli', 'bench', 'train'], 'draft')] },
  { files: ['engine/syntax/**/*.ts'], forbidden: [...standalone, ...above(['model', 'decode', 'draft', 'prompt', 'complete', 'server', 'cli', 'bench', 'train'], 'syntax')] },
  { files: ['engine/model/**/*.ts'], forbidden: [...standalone, ...above(['decode', 'draft', 'prompt', 'complete', 'server', 'cli', 'bench'], 'model')] },
  { files: ['engine/prompt/**/*.ts'], forbidden: [...standalone, ...above(['decode', 'complete', 'server', 'cli', 'bench'], 'prompt')] },
  { files: ['engine/decode/**/*.ts'], forbidden: [...standalone, ...above(['complete', 'server', 'cli', 'bench'], 'decode')] },
  { files: ['engine/complete/**/*.ts'], forbidden: [...standalone, ...above(['server', 'cli', 'bench'], 'complete')] },
  { files: ['engine/server/**/*.ts'], forbidden: [...standalone, ...above(['cli', 'bench'], 'server')] },
  {
    files: ['extension/**/*.ts'],
    forbidden: [
      forbid('(^|/)engine/(?!protocol(/|$))', 'extension/ reaches the engine only through engine/protocol/ (ARCHITECTURE.md).'),
    ],
  },
  {
    files: ['extension/common/**/*.ts'],
    forbidden: [
      forbid('(^|/)engine/(?!protocol(/|$))', 'extension/ reaches the engine only through engine/protocol/ (ARCHITECTURE.md).'),
      forbid('^vscode$', 'extension/common/ is pure logic, tested without VS Code: no vscode import.'),
    ],
  },
  {
    files: ['media/**/*.ts'],
    forbidden: [
      forbid('^vscode$', 'media/ runs in the webview: no vscode import.'),
      forbid('(^|/)engine/', 'media/ runs in the webview: it never imports the engine.'),
    ],
  },
  // A benchmark harness drives the real engine process from the extension's side on purpose.
  { files: ['extension/bench/**/*.ts'], forbidden: [] },
  // Tests may drive a layer through a higher one (a test builds a checkpoint with the CLI's writer), but engine
  // tests still never import vscode or the extension.
  { files: ['engine/**/*.test.ts'], forbidden: standalone },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'test/fixtures/**', 'test/e2e/fixture-workspace/**', 'models/**', '**/*.mjs', '**/*.cjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests read loosely typed JSON from real processes and servers.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  ...zones.map(({ files, forbidden }) => ({
    files,
    rules: { 'no-restricted-imports': forbidden.length ? ['error', { patterns: forbidden }] : 'off' },
  })),
);
