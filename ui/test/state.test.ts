// Unit tests of the URL state, selectors and time ranges: the Pyroscope deep-link form, round
// trips, validation messages and autocomplete contexts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyCompletion, completionAt, parseSelector, serviceOf, withService } from '../src/selector.ts';
import { parseTime, resolveRange } from '../src/time_range.ts';
import { formatValue } from '../src/units.ts';
import { DEFAULTS, formatState, parseState, splitQuery } from '../src/url_state.ts';

describe('URL state', () => {
  it('reads the Pyroscope deep link form', () => {
    const s = parseState('?query=process_cpu%3Acpu%3Ananoseconds%3Acpu%3Ananoseconds%7Bservice_name%3D%22api%22%7D&from=now-6h&until=now');
    assert.equal(s.query, 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="api"}');
    assert.equal(s.from, 'now-6h');
    assert.deepEqual(splitQuery(s.query), { profileType: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds', selector: '{service_name="api"}' });
  });
  it('round-trips every field and leaves defaults out', () => {
    const s = { ...DEFAULTS, query: 'memory:alloc_space:bytes::{env=~"prod.*"}', tenant: 't1', focus: 'main;a', search: 'x', orientation: 'flame' as const, view: 'diff' as const };
    assert.deepEqual(parseState(formatState(s)), s);
    assert.equal(formatState(DEFAULTS), '');
  });
});

describe('selectors', () => {
  it('validates and reports where it went wrong', () => {
    assert.deepEqual(parseSelector('{a="b", c=~"d.*"}'), { ok: true, matchers: [{ name: 'a', op: '=', value: 'b' }, { name: 'c', op: '=~', value: 'd.*' }] });
    assert.deepEqual(parseSelector('{}'), { ok: true, matchers: [] });
    const bad = parseSelector('{a="b" c="d"}');
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.at, 7);
    assert.equal(parseSelector('{a=~"("}').ok, false);
    assert.equal(parseSelector('{a="b"').ok, false);
  });
  it('sets and reads the service', () => {
    assert.equal(withService('{env="prod"}', 'api'), '{service_name="api", env="prod"}');
    assert.equal(withService('{service_name="x", env="prod"}', ''), '{env="prod"}');
    assert.equal(serviceOf('{env="prod", service_name="api"}'), 'api');
  });
  it('knows what to complete at the cursor', () => {
    assert.deepEqual(completionAt('{serv', 5), { kind: 'name', prefix: 'serv', from: 1 });
    assert.deepEqual(completionAt('{a="b", ', 8), { kind: 'name', prefix: '', from: 8 });
    assert.deepEqual(completionAt('{service_name="ap', 17), { kind: 'value', name: 'service_name', prefix: 'ap', from: 15 });
    assert.deepEqual(completionAt('{a="b"}', 7), { kind: 'none' });
    const c = completionAt('{serv', 5);
    assert.deepEqual(applyCompletion('{serv}', 5, c, 'service_name'), { text: '{service_name="}', cursor: 15 });
    const v = completionAt('{service_name="ap}', 17);
    assert.deepEqual(applyCompletion('{service_name="ap}', 17, v, 'api'), { text: '{service_name="api"}', cursor: 19 });
  });
});

describe('time ranges and units', () => {
  const now = Date.UTC(2026, 0, 2, 12, 0, 0);
  it('reads relative, unix and ISO times', () => {
    assert.equal(parseTime('now', now), now);
    assert.equal(parseTime('now-1h', now), now - 3600e3);
    assert.equal(parseTime('now-7d', now), now - 7 * 86400e3);
    assert.equal(parseTime('1767355200', now), 1767355200000);
    assert.equal(parseTime('1767355200000', now), 1767355200000);
    assert.equal(parseTime('2026-01-02T12:00:00Z', now), now);
    assert.ok(Number.isNaN(parseTime('yesterday', now)));
    assert.ok('error' in resolveRange({ from: 'now', until: 'now-1h' }, now));
  });
  it('formats CPU time, bytes and counts', () => {
    assert.equal(formatValue(1.5e9, 'nanoseconds'), '1.5 s');
    assert.equal(formatValue(250e6, 'nanoseconds'), '250 ms');
    assert.equal(formatValue(3 * 2 ** 20, 'bytes'), '3 MiB');
    assert.equal(formatValue(12345, 'count'), '12.3 k');
    assert.equal(formatValue(7, 'objects'), '7 objects');
  });
});

describe('timeline data', () => {
  it('aligns series on their timestamps, keeps the top N by sum and adds up the rest as other', async () => {
    const { timelineData } = await import('../src/timeline_data.ts');
    const s = (env: string, points: Array<[number, number]>) => ({
      labels: [{ name: 'env', value: env }], points: points.map(([t, v]) => ({ timestamp: String(t * 1000), value: v })),
    });
    const d = timelineData([s('a', [[10, 1], [20, 1]]), s('b', [[20, 5]]), s('c', [[10, 3]]), s('d', [[30, 1]])], 'env', 2);
    assert.deepEqual(d.times, [10, 20, 30]);
    assert.deepEqual(d.lines, [
      { label: 'b', values: [null, 5, null] },
      { label: 'c', values: [3, null, null] },
      { label: 'other (2)', values: [1, 1, 1] },
    ]);
    assert.deepEqual(timelineData([s('a', [[10, 3]])], '').lines, [{ label: 'total', values: [3] }]);
  });
});
