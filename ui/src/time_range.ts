// Time ranges as the Pyroscope UI writes them in URLs: "now", "now-1h" (s, m, h, d, w), unix
// seconds or milliseconds, or an ISO date-time ("2026-01-02T15:04", "2026-01-02 15:04:05", a date
// alone); one without an offset is read in the chosen time zone (TimeZone: the browser's or UTC),
// and times are shown in it. Used by the range pickers, the timeline and the tests.

/** The zone times are shown and read in: the browser's, or UTC (the URL's tz=utc). */
export type TimeZone = 'local' | 'utc';

const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

const ISO = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,3})\d*)?)?)?\s*(Z|[+-]\d\d:?\d\d)?$/i;

/** An ISO date-time in ms; one without an offset in `tz`. NaN when it is not one (or not a real date). */
function parseIso(t: string, tz: TimeZone): number {
  const m = ISO.exec(t);
  if (!m) return NaN;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((x) => Number(x ?? 0));
  const ms = Number((m[7] ?? '0').padEnd(3, '0'));
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) return NaN;
  const utc = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  if (utc.getUTCDate() !== d) return NaN; // no rolling over: 2026-02-30 is not March 2nd
  const off = m[8]?.toUpperCase();
  if (off === 'Z' || (!off && tz === 'utc')) return utc.getTime();
  if (off) {
    const o = /^([+-])(\d\d):?(\d\d)$/.exec(off)!;
    return utc.getTime() - (o[1] === '-' ? -1 : 1) * (Number(o[2]) * 60 + Number(o[3])) * 60e3;
  }
  return new Date(y, mo - 1, d, h, mi, s, ms).getTime(); // the browser's zone
}

/** Milliseconds since the epoch, or NaN when `text` is none of the forms above. */
export function parseTime(text: string, nowMs: number, tz: TimeZone = 'local'): number {
  const t = text.trim();
  if (t === 'now') return nowMs;
  const rel = /^now-(\d+)([smhdw])$/.exec(t);
  if (rel) return nowMs - Number(rel[1]) * UNIT_MS[rel[2]];
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n < 1e11 ? n * 1000 : n; // seconds (Pyroscope's form) until the year 5138, else ms
  }
  return parseIso(t, tz);
}

export interface Range { from: string; until: string }

/** Both ends in ms, or an error message. */
export function resolveRange(r: Range, nowMs: number, tz: TimeZone = 'local'): { start: number; end: number } | { error: string } {
  const start = parseTime(r.from, nowMs, tz);
  const end = parseTime(r.until, nowMs, tz);
  if (Number.isNaN(start)) return { error: `"${r.from}" is not a time (now, now-1h, unix seconds or 2026-01-02T15:04)` };
  if (Number.isNaN(end)) return { error: `"${r.until}" is not a time (now, now-1h, unix seconds or 2026-01-02T15:04)` };
  if (start >= end) return { error: 'the range starts after it ends' };
  return { start, end };
}

/** An absolute range (unix seconds, the URL form) for a brushed span. */
export function absoluteRange(startMs: number, endMs: number): Range {
  return { from: String(Math.floor(startMs / 1000)), until: String(Math.ceil(endMs / 1000)) };
}

/** A step (seconds) giving about `points` points over the range, at least 10 s. */
export function stepFor(startMs: number, endMs: number, points = 240): number {
  return Math.max(10, Math.ceil((endMs - startMs) / 1000 / points));
}

/** "2026-12-06 22:41:19" in `tz`: the form parseTime reads back. */
export function formatTime(ms: number, tz: TimeZone = 'local'): string {
  const d = new Date(ms);
  const u = tz === 'utc';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${u ? d.getUTCFullYear() : d.getFullYear()}-${p((u ? d.getUTCMonth() : d.getMonth()) + 1)}-${p(u ? d.getUTCDate() : d.getDate())} ` +
    `${p(u ? d.getUTCHours() : d.getHours())}:${p(u ? d.getUTCMinutes() : d.getMinutes())}:${p(u ? d.getUTCSeconds() : d.getSeconds())}`;
}

/** The zone's name as shown: "UTC", or the browser's IANA zone ("Europe/Berlin"). */
export function zoneName(tz: TimeZone): string {
  return tz === 'utc' ? 'UTC' : Intl.DateTimeFormat().resolvedOptions().timeZone;
}
