// The speculator drafter's gate: a speculator whose n-grams are accepted keeps being run, one whose n-grams are
// never accepted is skipped except for shadow runs (judged, never given tree slots), and the gate weighs the
// speculator's time against the step's; speculator nodes take tree slots only by beating hybrid's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SpeculationGate, SpeculatorDrafter, type StepCosts } from './speculator';

const COSTS: StepCosts = { stepMs: (tokens) => 10 + 0.5 * tokens };

/** Drives the drafter like the decoder does; `right(step)` says whether the speculation spells the truth. */
function drive(drafter: SpeculatorDrafter, steps: number, right: (step: number) => boolean, speculatorMs: number): { runs: number; accepted: number; drafted: number } {
  const truth = Array.from({ length: steps * 5 + 8 }, (_, i) => (i * 7 + 3) % 50);
  drafter.begin('r', [1, 2, 3]);
  let at = 0;
  let runs = 0;
  let accepted = 0;
  let drafted = 0;
  for (let s = 0; s < steps; s++) {
    if (drafter.wantsSpeculation('r', 8, COSTS)) {
      runs++;
      const next = truth.slice(at, at + 3);
      const tokens = right(s) ? next : next.map((t) => t + 100);
      drafter.setSpeculation('r', { tokens, parents: [-1, 0, 1], probs: [0.9, 0.9, 0.9] }, speculatorMs);
    }
    const draft = drafter.propose('r', 8);
    drafted += draft.tokens.length;
    // accept the draft's chain as far as it spells the truth, then the bonus token
    let n = 0;
    for (let j = 0; j < draft.tokens.length && draft.tokens[j] === truth[at + n] && draft.parents[j] === n - 1; j++) n++;
    accepted += n;
    drafter.observe('r', truth.slice(at, at + n + 1));
    at += n + 1;
  }
  drafter.end('r');
  return { runs, accepted, drafted };
}

test('gate: a speculator that is always right runs every step, one that is always wrong is explored only', () => {
  const good = drive(new SpeculatorDrafter(), 200, () => true, 2);
  assert.equal(good.runs, 200);
  assert.ok(good.accepted >= 3 * 190, `accepted ${good.accepted}`);
  const bad = new SpeculatorDrafter({ exploreEvery: 16 });
  const wrong = drive(bad, 200, () => false, 2);
  assert.equal(wrong.accepted, 0);
  // it learns from shadow runs: the wrong n-grams never take a tree slot after the first verdicts
  assert.ok(wrong.drafted <= 3 * 3, `a never-right speculator drafted ${wrong.drafted} tokens`);
  assert.ok(bad.gate.counts.use <= 2, `used ${bad.gate.counts.use} times`);
  // shadow runs until the first verdict (the text must cover its depth), then one per exploreEvery steps
  assert.ok(wrong.runs <= 200 / 16 + 6, `a never-accepted speculator ran ${wrong.runs} of 200 steps`);
  assert.ok(wrong.runs >= 200 / 16 - 1, `exploration stopped: ${wrong.runs} runs`);
  // without the gate it runs every step whatever it gains
  assert.equal(drive(new SpeculatorDrafter({ gate: false }), 200, () => false, 2).runs, 200);
});

test('gate: recovers when the speculator turns good after a bad stretch', () => {
  const d = new SpeculatorDrafter({ exploreEvery: 8 });
  drive(d, 100, () => false, 2);
  const later = drive(d, 100, () => true, 2);
  assert.ok(later.runs >= 80, `after recovering it ran ${later.runs} of 100 steps`);
});

test('gate: runs exactly when gain times step cost beats expected tokens times speculator time (no exploration)', () => {
  fc.assert(fc.property(
    fc.array(fc.nat(3), { minLength: 1, maxLength: 30 }),
    fc.double({ min: 0.01, max: 20, noNaN: true }),
    fc.double({ min: 1, max: 8, noNaN: true }),
    fc.double({ min: 1, max: 50, noNaN: true }),
    (gains, ms, expected, stepMs) => {
      const gate = new SpeculationGate(1e9);
      gate.recordTime(ms);
      // naive oracle: the decayed mean with its prior of half a token at weight one
      let sum = 0.5;
      let weight = 1;
      for (const g of gains) {
        gate.recordGain(0, g);
        sum = sum * 0.97 + g;
        weight = weight * 0.97 + 1;
      }
      return gate.decide(0, expected, stepMs) === ((sum / weight) * stepMs > expected * ms ? 'use' : 'skip');
    },
  ));
});

/** Root path of node j as a key (the same node in two drafts has the same key). */
function pathKey(d: { tokens: readonly number[]; parents: readonly number[] }, j: number): string {
  const out: number[] = [];
  for (let k = j; k >= 0; k = d.parents[k]!) out.unshift(d.tokens[k]!);
  return out.join(',');
}

test('hybrid+speculator: a speculator node takes a slot only when it beats every hybrid node it displaces', () => {
  const toks = (n: number) => fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: n });
  fc.assert(fc.property(
    toks(40),
    fc.array(fc.record({ parent: fc.nat(), token: fc.integer({ min: 0, max: 5 }), p: fc.double({ min: 0, max: 1, noNaN: true }) }), { minLength: 1, maxLength: 12 }),
    fc.integer({ min: 1, max: 12 }),
    (prompt, nodes, budget) => {
      const hybridAlone = new SpeculatorDrafter({ withHybrid: true });
      const combined = new SpeculatorDrafter({ withHybrid: true });
      hybridAlone.begin('r', prompt);
      combined.begin('r', prompt);
      const spec = { tokens: nodes.map((n) => n.token), parents: nodes.map((n, j) => (j === 0 ? -1 : (n.parent % (j + 1)) - 1)), probs: nodes.map((n) => n.p) };
      combined.setSpeculation('r', spec);
      const alone = hybridAlone.propose('r', budget);
      const both = combined.propose('r', budget);
      assert.ok(both.tokens.length <= budget);
      const kept = new Set(both.tokens.map((_, j) => pathKey(both, j)));
      const displaced = alone.tokens.map((_, j) => j).filter((j) => !kept.has(pathKey(alone, j)));
      const displacedBest = Math.max(0, ...displaced.map((j) => alone.probs[j]!));
      both.sources!.forEach((source, j) => {
        if (source === 'speculator') assert.ok(both.probs[j]! >= displacedBest, `speculator node ${j} (p ${both.probs[j]}) displaced a hybrid node of p ${displacedBest}`);
      });
    },
  ));
});
