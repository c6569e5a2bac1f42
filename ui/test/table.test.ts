// Unit tests of the function tables' sorting and filtering (src/table_sort.ts), shared by the Top
// table and the diff table: a name filter, a sort by any column with ties by name, and header clicks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rankByChange } from '../src/flamegraph/diff.ts';
import { filterAndSort, filterByName, nextSort, sortRows } from '../src/table_sort.ts';

const top = [
  { name: 'render', self: 150, total: 150 },
  { name: 'parse', self: 30, total: 30 },
  { name: 'gc', self: 20, total: 20 },
  { name: 'handle', self: 0, total: 180 },
  { name: 'main', self: 0, total: 200 },
];
type Col = 'name' | 'self' | 'total';
const key = (r: typeof top[number], c: Col) => r[c];
const names = (rs: Array<{ name: string }>) => rs.map((r) => r.name);

describe('table sorting and filtering', () => {
  it('sorts by a numeric column either way, ties by name A → Z', () => {
    assert.deepEqual(names(sortRows(top.slice(), { by: 'self', desc: true }, key)), ['render', 'parse', 'gc', 'handle', 'main']);
    assert.deepEqual(names(sortRows(top.slice(), { by: 'self', desc: false }, key)), ['handle', 'main', 'gc', 'parse', 'render']);
    assert.deepEqual(names(sortRows(top.slice(), { by: 'total', desc: true }, key)), ['main', 'handle', 'render', 'parse', 'gc']);
  });
  it('sorts by name', () => {
    assert.deepEqual(names(sortRows(top.slice(), { by: 'name', desc: false }, key)), ['gc', 'handle', 'main', 'parse', 'render']);
    assert.deepEqual(names(sortRows(top.slice(), { by: 'name', desc: true }, key)), ['render', 'parse', 'main', 'handle', 'gc']);
  });
  it('filters by a case-insensitive substring of the name, without touching the input', () => {
    const input = top.slice();
    assert.deepEqual(names(filterByName(input, ' AR ')), ['parse']);
    assert.equal(filterByName(input, '').length, 5);
    assert.notEqual(filterByName(input, ''), input);
    assert.deepEqual(names(filterAndSort(input, 'a', { by: 'total', desc: false }, key)), ['parse', 'handle', 'main']);
    assert.deepEqual(names(input), names(top));
  });
  it('a header click flips the same column, starts another descending and the name ascending', () => {
    const s = { by: 'self' as Col, desc: true };
    assert.deepEqual(nextSort(s, 'self', 'name'), { by: 'self', desc: false });
    assert.deepEqual(nextSort(s, 'total', 'name'), { by: 'total', desc: true });
    assert.deepEqual(nextSort(s, 'name', 'name'), { by: 'name', desc: false });
    assert.deepEqual(nextSort({ by: 'name' as Col, desc: false }, 'name', 'name'), { by: 'name', desc: true });
  });
  it('sorts diff rows: by the size of the change (the ranking) or by either side', () => {
    const rows = rankByChange([
      { name: 'render', leftSelf: 50, rightSelf: 100 },
      { name: 'parse', leftSelf: 30, rightSelf: 0 },
      { name: 'gc', leftSelf: 20, rightSelf: 0 },
    ], 100, 100);
    type D = typeof rows[number];
    const dkey = (r: D, c: 'name' | 'left' | 'right' | 'change') => (c === 'change' ? Math.abs(r.change.delta) : r[c]);
    assert.deepEqual(names(filterAndSort(rows, '', { by: 'change', desc: true }, dkey)), names(rows));
    assert.deepEqual(names(filterAndSort(rows, '', { by: 'change', desc: false }, dkey)), ['gc', 'parse', 'render']);
    assert.deepEqual(names(filterAndSort(rows, '', { by: 'left', desc: true }, dkey)), ['render', 'parse', 'gc']);
    assert.deepEqual(names(filterAndSort(rows, 'R', { by: 'right', desc: false }, dkey)), ['parse', 'render']);
  });
});
