// SelectSeries answers → the timeline's lines: aligned on the union of their timestamps, one line
// per value of the group-by label, the top N by sum and the rest added up as "other". Pure, so
// the unit tests check it; used by the explore view for Timeline.tsx.
import type { WireSeries } from './api.ts';

export const TOP_N = 8;

export interface TimelineData { times: number[]; lines: Array<{ label: string; values: Array<number | null> }> }

/** Aligns series on the union of their timestamps (seconds) and keeps the top N by sum. */
export function timelineData(series: WireSeries[], groupBy: string, topN = TOP_N): TimelineData {
  const timeSet = new Set<number>();
  const named = series.map((s) => {
    const label = groupBy ? (s.labels?.find((l) => l.name === groupBy)?.value ?? '(none)') : 'total';
    const points = new Map<number, number>();
    let sum = 0;
    for (const pt of s.points ?? []) {
      const t = Number(pt.timestamp ?? 0) / 1000;
      const v = pt.value ?? 0;
      points.set(t, (points.get(t) ?? 0) + v);
      timeSet.add(t);
      sum += v;
    }
    return { label, points, sum };
  }).sort((a, b) => b.sum - a.sum || a.label.localeCompare(b.label));
  const times = [...timeSet].sort((a, b) => a - b);
  const top = named.slice(0, topN);
  const rest = named.slice(topN);
  if (rest.length > 0) {
    const points = new Map<number, number>();
    for (const r of rest) for (const [t, v] of r.points) points.set(t, (points.get(t) ?? 0) + v);
    top.push({ label: `other (${rest.length})`, points, sum: 0 });
  }
  return { times, lines: top.map((s) => ({ label: s.label, values: times.map((t) => s.points.get(t) ?? null) })) };
}

