// Chat panel. (Placeholder until the chat surface lands.)
import type { Ctx } from '../api';

export function registerChat(_ctx: Ctx): void {}
