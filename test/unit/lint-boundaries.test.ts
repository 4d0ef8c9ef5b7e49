// The import boundaries of ARCHITECTURE.md, checked through the real ESLint configuration: each deliberate
// violation below must be reported, and each allowed import must pass.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const root = path.resolve(import.meta.dirname, '..', '..');

interface Case {
  /** Where the fixture pretends to live: the zone is chosen by path. */
  file: string;
  code: string;
  /** A fragment of the expected boundary message, or null when the import is allowed. */
  violation: string | null;
}

const cases: Case[] = [
  { file: 'engine/draft/fixture.ts', code: "import { loadModel } from '../model';\nvoid loadModel;\n", violation: 'engine/draft/ must not import engine/model/' },
  { file: 'engine/model/arch/fixture.ts', code: "import { Decoder } from '../../decode/decoder';\nvoid Decoder;\n", violation: 'engine/model/ must not import engine/decode/' },
  { file: 'engine/server/fixture.ts', code: "import * as vscode from 'vscode';\nvoid vscode;\n", violation: 'never imports vscode' },
  { file: 'engine/decode/fixture.ts', code: "import { x } from '../../extension/config';\nvoid x;\n", violation: 'never imports extension/' },
  { file: 'engine/protocol/fixture.ts', code: "import { x } from '../model/types';\nvoid x;\n", violation: 'wire contract' },
  { file: 'extension/inline/fixture.ts', code: "import { x } from '../../engine/decode/decoder';\nvoid x;\n", violation: 'only through engine/protocol/' },
  { file: 'extension/common/fixture.ts', code: "import * as vscode from 'vscode';\nvoid vscode;\n", violation: 'pure logic' },
  { file: 'media/fixture.ts', code: "import { x } from '../engine/protocol';\nvoid x;\n", violation: 'never imports the engine' },
  // Allowed: downward imports and the protocol.
  { file: 'engine/decode/fixture.ts', code: "import { x } from '../draft/types';\nimport { y } from '../model/types';\nvoid x;\nvoid y;\n", violation: null },
  { file: 'extension/inline/fixture.ts', code: "import { x } from '../../engine/protocol';\nimport * as vscode from 'vscode';\nvoid x;\nvoid vscode;\n", violation: null },
  { file: 'engine/model/fixture.test.ts', code: "import { run } from '../cli/makeTinyModel';\nvoid run;\n", violation: null },
];

test('the linter enforces the layer boundaries', async () => {
  const eslint = new ESLint({ cwd: root });
  for (const c of cases) {
    const [result] = await eslint.lintText(c.code, { filePath: path.join(root, c.file) });
    const boundary = result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
    if (c.violation === null) assert.deepEqual(boundary, [], `${c.file} should be allowed`);
    else assert.ok(boundary.some((m) => m.includes(c.violation!)), `${c.file}: expected "${c.violation}", got ${JSON.stringify(boundary)}`);
  }
});
