// Unit tests of the flame graph model and layout (src/flamegraph): decoding flamebearer levels,
// parents, focus layout with collapsed narrow nodes, hit testing, search share, the Top table's
// self/total (recursion counted once) and package colours.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layoutFlameGraph, visibleDepth } from '../src/flamegraph/layout.ts';
import { PALETTE, murmur3, packageColor, packageOf } from '../src/flamegraph/colors.ts';
import {
  decodeFlamebearer, findByPathKey, functionTable, nodeAt, pathKey, search,
} from '../src/flamegraph/tree.ts';

// total 100: main 100 (self 0) → a 60 (self 10) → b 50 (self 50); main → c 40 (self 30) → a 10.
// Level encoding: [x delta, total, self, name] with x relative to the previous node's end.
const names = ['total', 'main', 'a', 'c', 'b'];
const levels = [
  { values: ['0', '100', '0', '0'] },
  { values: ['0', '100', '0', '1'] },
  { values: ['0', '60', '10', '2', '0', '40', '30', '3'] },
  { values: ['0', '50', '50', '4', '10', '10', '10', '2'] },
];

describe('decodeFlamebearer', () => {
  const t = decodeFlamebearer(names, levels);
  it('decodes absolute x and links each node to its parent', () => {
    assert.equal(t.depth, 4);
    assert.deepEqual([...t.x], [0, 0, 0, 60, 0, 60]);
    assert.deepEqual([...t.total], [100, 100, 60, 40, 50, 10]);
    assert.deepEqual([...t.parent], [-1, 0, 1, 1, 2, 3]);
    assert.deepEqual([...t.levelStart], [0, 1, 2, 4, 6]);
  });
  it('finds the node at a point and by its path', () => {
    assert.equal(nodeAt(t, 2, 59.9), 2);
    assert.equal(nodeAt(t, 2, 60), 3);
    assert.equal(nodeAt(t, 3, 55), -1); // a gap: a's self
    assert.equal(pathKey(t, 5), 'main;c;a');
    assert.equal(findByPathKey(t, 'main;c;a'), 5);
    assert.equal(findByPathKey(t, 'main;a;a'), -1);
    assert.equal(findByPathKey(t, ''), 0);
  });
  it('decodes a diff (7 values a node) with each side and the combined width', () => {
    const d = decodeFlamebearer(['total', 'f', 'g'], [
      { values: ['0', '10', '0', '0', '30', '0', '0'] },
      { values: ['0', '6', '6', '0', '10', '10', '1', '0', '4', '4', '0', '20', '20', '2'] },
    ], { leftTicks: 10, rightTicks: 30 });
    assert.deepEqual([...d.total], [40, 16, 24]);
    assert.deepEqual([...d.x], [0, 0, 16]);
    assert.deepEqual([...d.diff!.leftTotal], [10, 6, 4]);
    assert.deepEqual([...d.diff!.rightTotal], [30, 10, 20]);
    assert.deepEqual([...d.parent], [-1, 0, 0]);
  });
});

describe('layoutFlameGraph', () => {
  const t = decodeFlamebearer(names, levels);
  it('fills the width with the root and scales children', () => {
    const l = layoutFlameGraph(t, 0, 1000, 1);
    const rects = Array.from({ length: l.count }, (_, k) => [l.node[k], l.level[k], l.left[k], l.width[k]]);
    assert.deepEqual(rects, [[0, 0, 0, 1000], [1, 1, 0, 1000], [2, 2, 0, 600], [3, 2, 600, 400], [4, 3, 0, 500], [5, 3, 600, 100]]);
    assert.equal(visibleDepth(t, 0), 4);
  });
  it('focus: ancestors span the width, the focused subtree fills it, the rest is not drawn', () => {
    const c = findByPathKey(t, 'main;c');
    const l = layoutFlameGraph(t, c, 400, 1);
    const rects = Array.from({ length: l.count }, (_, k) => [l.node[k], l.level[k], l.left[k], l.width[k]]);
    assert.deepEqual(rects, [[0, 0, 0, 400], [1, 1, 0, 400], [3, 2, 0, 400], [5, 3, 0, 100]]);
    assert.equal(visibleDepth(t, findByPathKey(t, 'main;a;b')), 4);
  });
  it('collapses runs of nodes narrower than the minimum into one rectangle', () => {
    // 1,000 leaves of 1 tick under one parent: 1,000 ticks over 100 px, 0.1 px each.
    const values: string[] = [];
    const leafNames = ['total', 'parent'];
    for (let i = 0; i < 1000; i++) { values.push('0', '1', '1', String(leafNames.length)); leafNames.push(`leaf${i}`); }
    const wide = decodeFlamebearer(leafNames, [{ values: ['0', '1000', '0', '0'] }, { values: ['0', '1000', '0', '1'] }, { values }]);
    const l = layoutFlameGraph(wide, 0, 100, 2);
    assert.equal(l.count, 3);
    assert.equal(l.node[2], -1);
    assert.ok(Math.abs(l.width[2] - 100) < 1e-3);
  });
});

describe('search and the Top table', () => {
  const t = decodeFlamebearer(names, levels);
  it('counts a matching stack once (outermost match) for the share', () => {
    const r = search(t, 'C'); // c: 40 of 100, case-insensitive
    assert.equal(r.count, 1);
    assert.equal(r.total, 40);
    assert.equal(r.share, 0.4);
    const nested = search(t, 'a'); // main, a and a under c: main holds the others
    assert.equal(nested.count, 3);
    assert.equal(nested.total, 100);
    assert.equal(nested.share, 1);
    assert.equal(search(t, '').count, 0);
  });
  it('sums self per function and counts recursion once in total', () => {
    const rows = new Map(functionTable(t).map((r) => [r.name, [r.self, r.total]]));
    assert.deepEqual(Object.fromEntries(rows), { main: [0, 100], a: [20, 70], b: [50, 50], c: [30, 40] });
    // f → f → f (recursion): self 5 at the bottom, total 5, not 15.
    const rec = decodeFlamebearer(['total', 'f'], [
      { values: ['0', '5', '0', '0'] }, { values: ['0', '5', '0', '1'] }, { values: ['0', '5', '0', '1'] }, { values: ['0', '5', '5', '1'] },
    ]);
    assert.deepEqual(functionTable(rec).map((r) => [r.name, r.self, r.total]), [['f', 5, 5]]);
  });
});

describe('colours by package', () => {
  it('reads the package of Go, C++ and Java names', () => {
    assert.equal(packageOf('github.com/grafana/pyroscope/pkg/model.(*Tree).Insert'), 'github.com/grafana/pyroscope/pkg/model');
    assert.equal(packageOf('runtime.mallocgc'), 'runtime');
    assert.equal(packageOf('std::vector<int>::push_back'), 'std::vector<int>');
    assert.equal(packageOf('java.util.HashMap.get'), 'java.util.HashMap');
    assert.equal(packageOf('main'), 'main');
  });
  it('gives one package one colour', () => {
    assert.equal(packageColor('runtime.mallocgc'), packageColor('runtime.scanobject'));
  });
  it('hashes as MurmurHash3 x86_32 (published test vectors)', () => {
    assert.equal(murmur3(''), 0);
    assert.equal(murmur3('', 1), 0x514e28b7);
    assert.equal(murmur3('hello'), 0x248bfa47);
    assert.equal(murmur3('The quick brown fox jumps over the lazy dog'), 0x2e4ff723);
  });
  it('picks from the Pyroscope palette by that hash', () => {
    assert.equal(PALETTE.length, 24);
    assert.equal(packageColor('runtime.mallocgc'), PALETTE[murmur3('runtime') % 24]);
  });
});

describe('sandwich', () => {
  it('merges the callers and the callees of a function', async () => {
    const { sandwich } = await import('../src/flamegraph/sandwich.ts');
    const t = decodeFlamebearer(names, levels);
    const s = sandwich(t, 'a')!; // main → a (60) → b; main → c → a (10)
    // Callers: a (70, the root) ← main (60) and a ← c (10) ← main (10).
    assert.equal(s.callers.names[s.callers.name[0]], 'a');
    assert.equal(s.callers.total[0], 70);
    assert.deepEqual(functionTable(s.callers).map((r) => [r.name, r.total]).sort(), [['c', 10], ['main', 70]]);
    assert.equal(pathKey(s.callers, findByPathKey(s.callers, 'c;main')), 'c;main');
    // Callees: a (70, self 20) → b (50).
    assert.deepEqual([s.callees.total[0], s.callees.self[0]], [70, 20]);
    assert.deepEqual(functionTable(s.callees).map((r) => [r.name, r.self, r.total]), [['b', 50, 50]]);
    assert.equal(sandwich(t, 'nope'), null);
  });
});
