// What the language modules' tests share: examples over several seeds, and the checks every example must pass.
import assert from 'node:assert/strict';
import { editParses, parseSource } from './parse';
import { fitsSelection, makeRng, REWRITE_KINDS, type LanguageRewrites, type RewriteExample, type RewriteKind } from './types';

/** A module's examples from one source, for seeds 1..seeds; the source must parse cleanly. */
export async function examplesOf(rewrites: LanguageRewrites, source: string, seeds: number): Promise<RewriteExample[]> {
  const out: RewriteExample[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const tree = await parseSource(rewrites.language, source);
    try {
      assert.equal(tree.rootNode.hasError, false, 'the fixture parses');
      out.push(...rewrites.generate(source, tree, makeRng(seed)));
    } finally {
      tree.delete();
    }
  }
  return out;
}

/**
 * Every kind but `absent` has examples and none of `absent` does; each example is a whole-line selection of the
 * source that fits the fine-tune, changes something, and leaves a file that parses.
 */
export async function assertWholeLineExamples(rewrites: LanguageRewrites, source: string, all: RewriteExample[],
  absent: readonly RewriteKind[]): Promise<void> {
  const kinds = new Set(all.map((ex) => ex.kind));
  for (const kind of REWRITE_KINDS) {
    if (absent.includes(kind)) assert.ok(!kinds.has(kind), kind);
    else assert.ok(kinds.has(kind), `no ${kind} example`);
  }
  for (const ex of all) {
    assert.equal(ex.language, rewrites.language);
    assert.equal(source.slice(ex.start, ex.end), ex.selection);
    assert.ok(ex.start === 0 || source[ex.start - 1] === '\n', 'selection starts at a line start');
    assert.ok(fitsSelection(ex.selection));
    assert.notEqual(ex.output, ex.selection);
    assert.ok(await editParses(rewrites.language, source, ex), `${ex.kind} ${ex.instruction} parses:\n${ex.output}`);
  }
}
