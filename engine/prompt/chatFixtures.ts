// Conversations the chat-template tests render, and what Meta's Llama 3.1 Instruct template makes of the first
// (written by hand from the documented prompt format): the oracle of the template and render-prompt tests.
import type { TemplateMessage } from './template';

/** A system turn, then two user turns around one reply. */
export const CONVERSATION_WITH_SYSTEM: TemplateMessage[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'What is 2+2?' },
  { role: 'assistant', content: '4' },
  { role: 'user', content: 'And 3+3?' },
];

/** CONVERSATION_WITH_SYSTEM under the Llama 3.1 Instruct template with its default date (26 Jul 2024). */
export const LLAMA31_WITH_SYSTEM =
  '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n' +
  'Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n' +
  'You are a helpful assistant.<|eot_id|>' +
  '<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>' +
  '<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>' +
  '<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>' +
  '<|start_header_id|>assistant<|end_header_id|>\n\n';
