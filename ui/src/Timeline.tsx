// The timeline: SelectSeries (as timeline_data.ts aligns it) drawn with uPlot, one line per value
// of the group-by label, values formatted in the profile's unit. Dragging across the chart selects
// a time range, which becomes the page's absolute range (zoom by brushing). The time axis and the
// legend's time are in the chosen zone (uPlot's tzDate).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { TimeZone } from './time_range.ts';
import type { TimelineData } from './timeline_data.ts';
import { formatValue } from './units.ts';

const COLORS = ['#e6522c', '#3274d9', '#56a64b', '#a352cc', '#f2cc0c', '#ff780a', '#8ab8ff', '#96d98d', '#999999'];

export function Timeline(p: { data: TimelineData; unit: string; start: number; end: number; tz: TimeZone;
  onBrush: (startMs: number, endMs: number) => void }) {
  const el = useRef<HTMLDivElement>(null);
  const brush = useRef(p.onBrush);
  brush.current = p.onBrush;
  useEffect(() => {
    const host = el.current!;
    const axisColor = getComputedStyle(host).getPropertyValue('--fg').trim() || '#222';
    const opts: uPlot.Options = {
      width: Math.max(300, host.clientWidth),
      height: 160,
      ...(p.tz === 'utc' && { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC') }),
      series: [{}, ...p.data.lines.map((l, i) => ({
        label: l.label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false,
        value: (_u: uPlot, v: number | null) => (v == null ? '—' : formatValue(v, p.unit)),
      }))],
      axes: [
        { stroke: axisColor, grid: { stroke: 'rgba(128,128,128,0.2)' } },
        { stroke: axisColor, size: 70, grid: { stroke: 'rgba(128,128,128,0.2)' },
          values: (_u: uPlot, ticks: number[]) => ticks.map((v) => formatValue(v, p.unit)) },
      ],
      // The chosen range, not the data's: a service seen once still shows when in the range.
      scales: { x: { time: true, range: () => [p.start / 1000, p.end / 1000] } },
      cursor: { drag: { x: true, y: false } },
      hooks: {
        setSelect: [(u: uPlot) => {
          if (u.select.width < 3) return;
          const a = u.posToVal(u.select.left, 'x');
          const b = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          brush.current(a * 1000, b * 1000);
        }],
      },
    };
    const plot = new uPlot(opts, [p.data.times, ...p.data.lines.map((l) => l.values)] as uPlot.AlignedData, host);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(300, host.clientWidth), height: 160 }));
    ro.observe(host);
    return () => { ro.disconnect(); plot.destroy(); };
  }, [p.data, p.unit, p.start, p.end, p.tz]);
  return (
    <section class="timeline" aria-label="Timeline" data-testid="timeline" data-tz={p.tz} data-lines={p.data.lines.map((l) => l.label).join('\n')}>
      <div ref={el} />
    </section>
  );
}
