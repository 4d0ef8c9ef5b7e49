// Runs inside a real VS Code extension host (test-electron or test-cli), with the fixture workspace open.
const assert = require('node:assert/strict');
const vscode = require('vscode');

const EXTENSION_ID = 'presage.presage';

describe('Presage in the extension host', () => {
  it('is installed and activates without throwing', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not installed`);
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  it('registers every command its manifest contributes', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    const contributed = extension.packageJSON.contributes.commands.map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((command) => !registered.has(command));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  it('opens the fixture workspace with its TypeScript file', async () => {
    const [folder] = vscode.workspace.workspaceFolders ?? [];
    assert.ok(folder, 'no workspace folder is open');
    const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'src', 'shapes.ts'));
    assert.match(document.getText(), /export function distance/);
  });
});
