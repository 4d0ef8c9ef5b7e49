// Rewrite-selection command. (Placeholder until the rewrite surface lands.)
import type { Ctx } from './api';

export function registerRewrite(_ctx: Ctx): void {}
