// Unit tests of times in both zones (src/time_range.ts): ISO date-times without an offset read in
// the chosen zone (the browser's or UTC), with one as written; display in either zone, read back.
// The browser's zone is pinned to Asia/Kolkata (+05:30, no daylight saving) for this process.
process.env.TZ = 'Asia/Kolkata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTime, parseTime, resolveRange, zoneName } from '../src/time_range.ts';
import { DEFAULTS, formatState, parseState } from '../src/url_state.ts';

const now = Date.UTC(2026, 0, 2, 12, 0, 0);
const tenUtc = Date.UTC(2026, 0, 2, 10, 0, 0);
const h = 3600e3;

describe('time zones', () => {
  it('reads an ISO time without an offset in the chosen zone', () => {
    assert.equal(parseTime('2026-01-02T10:00', now, 'utc'), tenUtc);
    assert.equal(parseTime('2026-01-02 10:00:00', now, 'utc'), tenUtc);
    assert.equal(parseTime('2026-01-02T10:00', now, 'local'), tenUtc - 5.5 * h);
    assert.equal(parseTime('2026-01-02', now, 'utc'), Date.UTC(2026, 0, 2));
    assert.equal(parseTime('2026-01-02', now, 'local'), Date.UTC(2026, 0, 2) - 5.5 * h);
    assert.equal(parseTime('2026-01-02T10:00:00.250', now, 'utc'), tenUtc + 250);
  });
  it('reads an offset as written, whatever the zone', () => {
    for (const tz of ['utc', 'local'] as const) {
      assert.equal(parseTime('2026-01-02T10:00:00Z', now, tz), tenUtc);
      assert.equal(parseTime('2026-01-02T15:30+05:30', now, tz), tenUtc);
      assert.equal(parseTime('2026-01-02T05:00-0500', now, tz), tenUtc);
      assert.equal(parseTime('now-1h', now, tz), now - h); // relative and unix times have no zone
      assert.equal(parseTime('1767348000', now, tz), tenUtc);
    }
  });
  it('refuses dates that do not exist', () => {
    for (const t of ['2026-02-30', '2026-13-01', '2026-01-02T24:00', '2026-01-02T10:60', '2026-01-02T10:00 UTC+1']) {
      assert.ok(Number.isNaN(parseTime(t, now, 'utc')), t);
    }
  });
  it('shows times in the chosen zone, in a form read back the same', () => {
    assert.equal(formatTime(tenUtc, 'utc'), '2026-01-02 10:00:00');
    assert.equal(formatTime(tenUtc, 'local'), '2026-01-02 15:30:00');
    for (const tz of ['utc', 'local'] as const) assert.equal(parseTime(formatTime(tenUtc + 7e3, tz), now, tz), tenUtc + 7e3);
    assert.equal(zoneName('utc'), 'UTC');
    assert.match(zoneName('local'), /^Asia\/(Kolkata|Calcutta)$/); // ICU's older name in some builds
  });
  it('resolves a range typed in either zone', () => {
    const r = { from: '2026-01-02 10:00', until: '2026-01-02 11:00' };
    assert.deepEqual(resolveRange(r, now, 'utc'), { start: tenUtc, end: tenUtc + h });
    assert.deepEqual(resolveRange(r, now, 'local'), { start: tenUtc - 5.5 * h, end: tenUtc - 4.5 * h });
  });
  it('keeps the zone in the URL as tz=utc; the browser\'s zone is the default', () => {
    assert.equal(parseState('').tz, 'local');
    assert.equal(parseState('?tz=utc').tz, 'utc');
    assert.equal(parseState('?tz=Mars').tz, 'local');
    assert.equal(formatState({ ...DEFAULTS, tz: 'utc' }), '?tz=utc');
    assert.equal(formatState({ ...DEFAULTS, tz: 'local' }), '');
  });
});
