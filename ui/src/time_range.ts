// Time ranges as the Pyroscope UI writes them in URLs: "now", "now-1h" (s, m, h, d, w), unix
// seconds or milliseconds, or an ISO date-time (read in the browser's time zone when it has none).
// Used by the explore bar, the timeline brush and the tests.

const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** Milliseconds since the epoch, or NaN when `text` is none of the forms above. */
export function parseTime(text: string, nowMs: number): number {
  const t = text.trim();
  if (t === 'now') return nowMs;
  const rel = /^now-(\d+)([smhdw])$/.exec(t);
  if (rel) return nowMs - Number(rel[1]) * UNIT_MS[rel[2]];
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n < 1e11 ? n * 1000 : n; // seconds (Pyroscope's form) until the year 5138, else ms
  }
  if (/^\d{4}-\d\d-\d\d/.test(t)) {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? NaN : ms;
  }
  return NaN;
}

export interface Range { from: string; until: string }

/** Both ends in ms, or an error message. */
export function resolveRange(r: Range, nowMs: number): { start: number; end: number } | { error: string } {
  const start = parseTime(r.from, nowMs);
  const end = parseTime(r.until, nowMs);
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

/** "2026-12-06 22:41:19" in the browser's time zone. */
export function formatLocal(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
