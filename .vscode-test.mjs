// @vscode/test-cli configuration (`npx vscode-test`): the extension-host suite in a downloaded VS Code.
// It needs network access to download VS Code; offline, use `node test/integration/run.mjs` (skips with a
// reason) and the code-server suite `npm run test:e2e`.
import { defineConfig } from '@vscode/test-cli';

export default defineConfig({
  label: 'integration',
  files: 'test/integration/suite/**/*.test.cjs',
  workspaceFolder: 'test/e2e/fixture-workspace',
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  env: { ORT_DISABLE_TELEMETRY: '1' },
  mocha: { ui: 'bdd', timeout: 60_000 },
});
