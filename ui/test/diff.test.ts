// Unit tests of the diff maths (src/flamegraph/diff.ts) and diff colours: shares normalised by
// each side's total, relative change, new functions, ranking by change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffColor } from '../src/flamegraph/colors.ts';
import { change, rankByChange } from '../src/flamegraph/diff.ts';

describe('change', () => {
  it('normalises each side by its own total', () => {
    // 10 of 100 before, 20 of 200 after: the same share, no change.
    assert.deepEqual(change(10, 20, 100, 200), { leftShare: 0.1, rightShare: 0.1, delta: 0, relative: 0 });
    const c = change(10, 60, 100, 200); // 10 % → 30 %
    assert.ok(Math.abs(c.delta - 0.2) < 1e-12);
    assert.ok(Math.abs(c.relative - 2) < 1e-12);
  });
  it('calls something only on the right new, and something gone -100 %', () => {
    assert.equal(change(0, 5, 100, 100).relative, Infinity);
    assert.equal(change(5, 0, 100, 100).relative, -1);
    assert.equal(change(0, 0, 0, 0).relative, 0);
  });
});

describe('rankByChange', () => {
  it('orders functions by the size of their share change, either direction', () => {
    const rows = rankByChange([
      { name: 'same', leftSelf: 50, rightSelf: 100 },
      { name: 'slower', leftSelf: 10, rightSelf: 80 },
      { name: 'faster', leftSelf: 40, rightSelf: 20 },
      { name: 'absent', leftSelf: 0, rightSelf: 0 },
    ], 100, 200);
    assert.deepEqual(rows.map((r) => r.name), ['faster', 'slower', 'same']);
    assert.ok(rows[0].change.delta < 0 && rows[1].change.delta > 0 && rows[2].change.delta === 0);
  });
});

describe('diffColor', () => {
  it('is red for more, green for less, grey for no change', () => {
    const rgb = (s: string) => s.match(/\d+/g)!.map(Number);
    const [r1, g1] = rgb(diffColor(0.5));
    assert.ok(r1 > g1, 'more is red');
    const [r2, g2] = rgb(diffColor(-0.5));
    assert.ok(g2 > r2, 'less is green');
    assert.equal(diffColor(0), 'rgb(148,142,142)'); // Pyroscope's neutral grey
    assert.equal(diffColor(1), 'rgb(200,0,0)'); // its red, at +100 % and beyond
    assert.equal(diffColor(-1), 'rgb(0,170,0)'); // its green
    assert.equal(diffColor(Infinity), diffColor(1)); // saturates
  });
});
