import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cleanRewriteOutput, layoutProposal } from './proposal';
import { splitLines } from './lineDiff';

test('layoutProposal marks changed lines and anchors removed ones', () => {
  const layout = layoutProposal('a\nb\nc\nd', 'a\nB\nc');
  assert.deepEqual(layout.insertedLines, [1]);
  assert.deepEqual(layout.removed, [
    { anchorLine: 1, placement: 'before', lines: ['b'] },
    { anchorLine: 2, placement: 'after', lines: ['d'] },
  ]);
  assert.equal(layout.lineCount, 3);
  assert.equal(layout.unchanged, false);
  assert.equal(layoutProposal('x\ny', 'x\ny').unchanged, true);
});

test('layoutProposal: removed lines plus kept lines rebuild the original, in order', () => {
  const text = fc.array(fc.constantFrom('a', 'b', 'c', ''), { maxLength: 12 }).map((l) => l.join('\n'));
  fc.assert(
    fc.property(text, text, (original, proposal) => {
      const layout = layoutProposal(original, proposal);
      const newLines = splitLines(proposal);
      const inserted = new Set(layout.insertedLines);
      const rebuilt: string[] = [];
      for (let i = 0; i < newLines.length; i++) {
        for (const block of layout.removed) if (block.anchorLine === i && block.placement === 'before') rebuilt.push(...block.lines);
        if (!inserted.has(i)) rebuilt.push(newLines[i]!);
        for (const block of layout.removed) if (block.anchorLine === i && block.placement === 'after') rebuilt.push(...block.lines);
      }
      assert.deepEqual(rebuilt, splitLines(original));
      for (const block of layout.removed) assert.ok(block.anchorLine >= 0 && block.anchorLine < layout.lineCount);
    }),
    { numRuns: 300 },
  );
});

test('cleanRewriteOutput strips a wrapping fence and keeps the trailing newline of the selection', () => {
  assert.equal(cleanRewriteOutput('```ts\nconst a = 1;\n```\nsome talk', 'let a = 1;\n', true), 'const a = 1;\n');
  assert.equal(cleanRewriteOutput('const a = 1;', 'let a = 1;\n', true), 'const a = 1;\n');
  assert.equal(cleanRewriteOutput('const a = 1;\n\n', 'let a = 1;', true), 'const a = 1;');
  assert.equal(cleanRewriteOutput('a\nb', 'x\r\ny\r\n', true), 'a\r\nb\r\n');
});

test('cleanRewriteOutput on partial text hides unfinished fences', () => {
  assert.equal(cleanRewriteOutput('```typ', 'x', false), '');
  assert.equal(cleanRewriteOutput('```ts\nconst a', 'x', false), 'const a');
  assert.equal(cleanRewriteOutput('const a = 1;\n``', 'x', false), 'const a = 1;\n');
  assert.equal(cleanRewriteOutput('const s = `', 'x', false), 'const s = `');
});
