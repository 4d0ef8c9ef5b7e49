// Where the project's shared material (tokenizers, replay data) lives: `../shared` beside the repository,
// or PRESAGE_SHARED_DIR.
import path from 'node:path';

export const SHARED_DIR = process.env.PRESAGE_SHARED_DIR ?? path.resolve(__dirname, '..', '..', 'shared');
export const sharedPath = (...parts: string[]): string => path.join(SHARED_DIR, ...parts);
