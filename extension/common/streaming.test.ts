import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstLine, isSettled } from './streaming';

describe('streaming helpers', () => {
  it('a first line is complete only at its newline and never blank', () => {
    assert.equal(firstLine('return a'), undefined);
    assert.equal(firstLine('return a + b;\n  '), 'return a + b;');
    assert.equal(firstLine('\n  x'), undefined);
    assert.equal(firstLine('  \nx'), undefined);
  });

  it('tells settled promises from pending ones', async () => {
    assert.equal(await isSettled(Promise.resolve(1)), true);
    const rejected = Promise.reject(new Error('x'));
    assert.equal(await isSettled(rejected), true);
    assert.equal(await isSettled(new Promise(() => undefined)), false);
  });
});
