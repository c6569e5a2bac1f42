// `go tool pprof` as an oracle: its -top table for some pprof files, parsed. Used by the tests that
// compare Embers' query answers with Go's own pprof tooling (query_oracle, go_runtime).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** -unit values that make -top print exact integers for a sample unit. */
export const UNIT_FLAG = { nanoseconds: 'ns', microseconds: 'us', milliseconds: 'ms', bytes: 'B' };

/** `go tool pprof -top` as name → {flat, cum} (numbers as printed, unit forced), plus the total line. */
export function pprofTop(files, { sampleIndex, unit } = {}) {
  const args = ['tool', 'pprof', '-top', '-symbolize=none', '-nodecount=1000000', '-nodefraction=0', '-edgefraction=0'];
  if (sampleIndex !== undefined) args.push(`-sample_index=${sampleIndex}`);
  if (unit) args.push(`-unit=${unit}`);
  const r = spawnSync('go', [...args, ...files], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `go tool pprof failed: ${r.stderr}`);
  const lines = r.stdout.split('\n');
  const header = lines.findIndex((l) => /^\s*flat\s+flat%/.test(l));
  assert.ok(header >= 0, `no -top table in:\n${r.stdout}`);
  const total = /of (\S+) total/.exec(r.stdout)?.[1];
  const byName = new Map();
  for (const line of lines.slice(header + 1)) {
    const m = /^\s*(\S+)\s+\S+\s+\S+\s+(\S+)\s+\S+\s+(.*)$/.exec(line);
    if (!m) continue;
    const prev = byName.get(m[3]);
    // A name shared by two functions (other file) appears twice: keep both, joined.
    byName.set(m[3], prev ? { flat: `${prev.flat}+${m[1]}`, cum: `${prev.cum}+${m[2]}` } : { flat: m[1], cum: m[2] });
  }
  return { total, byName, text: r.stdout };
}

/** Numeric value of a -top cell ("0", "1234ns", "12+3"). */
export function cellValue(cell) {
  return cell.split('+').reduce((s, part) => s + Number(part.replace(/[a-zA-Z]+$/, '')), 0);
}
