// Formats profile values by the sample unit of their profile type (nanoseconds of CPU, bytes,
// objects, counts), for the tooltip, tables and the timeline axis.

export function unitOf(profileTypeID: string): string {
  // name:sample_type:sample_unit:period_type:period_unit
  return profileTypeID.split(':')[2] ?? '';
}

function scaled(v: number, steps: Array<[number, string]>): string {
  const a = Math.abs(v);
  for (const [size, suffix] of steps) {
    if (a >= size) return `${trim(v / size)} ${suffix}`;
  }
  const [, base] = steps[steps.length - 1];
  return `${trim(v / steps[steps.length - 1][0])} ${base}`;
}

function trim(v: number): string {
  const a = Math.abs(v);
  const fixed = a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

export function formatValue(v: number, unit: string): string {
  switch (unit) {
    case 'nanoseconds':
      return scaled(v, [[86400e9, 'd'], [3600e9, 'h'], [60e9, 'min'], [1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']]);
    case 'microseconds':
      return scaled(v * 1e3, [[3600e9, 'h'], [60e9, 'min'], [1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']]);
    case 'bytes':
      return scaled(v, [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB'], [1, 'B']]);
    case 'objects':
    case 'count':
    case '':
    default:
      return scaled(v, [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k'], [1, unit === 'objects' ? 'objects' : '']]).trim();
  }
}

export function formatPercent(share: number): string {
  if (!Number.isFinite(share)) return share > 0 ? 'new' : '—';
  return `${(share * 100).toFixed(2)}%`;
}
