// Extension entry point: builds the context and starts the engine. (Filled in by the extension core.)
import type * as vscode from 'vscode';

export async function activate(_context: vscode.ExtensionContext): Promise<void> {}

export function deactivate(): void {}
