// The time range picker: quick relative ranges, free-form from/until (now-1h, unix seconds, ISO
// date-times, read in the chosen zone when they carry no offset), and the resolved range in that
// zone (the browser's or UTC, the header's switch). Used by the explore and diff views.
import { useEffect, useState } from 'preact/hooks';
import { formatTime, resolveRange, TimeZone, zoneName } from './time_range.ts';

const PRESETS = ['now-5m', 'now-15m', 'now-1h', 'now-6h', 'now-24h', 'now-7d', 'now-30d'];

export function RangePicker(p: { from: string; until: string; onChange: (from: string, until: string) => void; label: string;
  tz: TimeZone }) {
  const [from, setFrom] = useState(p.from);
  const [until, setUntil] = useState(p.until);
  useEffect(() => { setFrom(p.from); setUntil(p.until); }, [p.from, p.until]);
  const resolved = resolveRange({ from, until }, Date.now(), p.tz);
  const zone = zoneName(p.tz);
  return (
    <form class="range" aria-label={p.label} onSubmit={(e) => { e.preventDefault(); if (!('error' in resolved)) p.onChange(from, until); }}>
      <select aria-label="Quick range" value={PRESETS.includes(from) && until === 'now' ? from : ''}
        onChange={(e) => { const v = (e.target as HTMLSelectElement).value; if (v) p.onChange(v, 'now'); }}>
        <option value="">custom</option>
        {PRESETS.map((r) => <option key={r} value={r}>last {r.slice(4)}</option>)}
      </select>
      <input type="text" aria-label="From" value={from} size={12} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
      <span>to</span>
      <input type="text" aria-label="Until" value={until} size={12} onInput={(e) => setUntil((e.target as HTMLInputElement).value)} />
      <button type="submit" disabled={'error' in resolved}>Set</button>
      <span class="resolved" title={zone} data-testid="resolved-range">
        {'error' in resolved ? <span class="invalid">{resolved.error}</span>
          : `${formatTime(resolved.start, p.tz)} – ${formatTime(resolved.end, p.tz)} (${zone})`}
      </span>
    </form>
  );
}

