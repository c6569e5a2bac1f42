// Everything the page shows is a function of its URL, so a reload or a shared link restores it.
// The parameter names are the Pyroscope UI's: query=<profile type>{<selector>}, from, until, and
// leftQuery/leftFrom/leftUntil/rightQuery/... for the comparison, so its deep links open here.

import type { TimeZone } from './time_range.ts';

export type View = 'explore' | 'diff' | 'status';
export type DiffMode = 'diff' | 'side-by-side';
export type Orientation = 'icicle' | 'flame';
export type { TimeZone };

export interface UiState {
  view: View;
  query: string;
  from: string;
  until: string;
  tenant: string;
  groupBy: string;
  search: string;
  focus: string; // pathKey of the focused node, '' for the root
  orientation: Orientation;
  sandwich: string; // a function shown in the sandwich view, '' for none
  compare: DiffMode; // the diff view: one diff flame graph, or both sides' flame graphs
  tz: TimeZone; // times shown and typed in the browser's zone or UTC
  leftQuery: string; leftFrom: string; leftUntil: string;
  rightQuery: string; rightFrom: string; rightUntil: string;
}

export const DEFAULTS: UiState = {
  view: 'explore', query: '', from: 'now-1h', until: 'now', tenant: '', groupBy: '', search: '',
  focus: '', orientation: 'icicle', sandwich: '', compare: 'diff', tz: 'local',
  leftQuery: '', leftFrom: 'now-1h', leftUntil: 'now', rightQuery: '', rightFrom: 'now-1h', rightUntil: 'now',
};

const KEYS = Object.keys(DEFAULTS) as Array<keyof UiState>;

export function parseState(search: string): UiState {
  const p = new URLSearchParams(search);
  const s: UiState = { ...DEFAULTS };
  for (const k of KEYS) {
    const v = p.get(k);
    if (v !== null) (s as any)[k] = v;
  }
  if (s.view !== 'diff' && s.view !== 'status') s.view = 'explore';
  if (s.orientation !== 'flame') s.orientation = 'icicle';
  if (s.compare !== 'side-by-side') s.compare = 'diff';
  if (s.tz !== 'utc') s.tz = 'local';
  return s;
}

/** The query string for a state: only what differs from the defaults, in a stable order. */
export function formatState(s: UiState): string {
  const p = new URLSearchParams();
  for (const k of KEYS) if (s[k] !== DEFAULTS[k]) p.set(k, s[k]);
  const q = p.toString();
  return q ? `?${q}` : '';
}

/** "type{selector}" → its two halves; a bare type gets {}. */
export function splitQuery(query: string): { profileType: string; selector: string } {
  const brace = query.indexOf('{');
  if (brace < 0) return { profileType: query.trim(), selector: '{}' };
  return { profileType: query.slice(0, brace).trim(), selector: query.slice(brace).trim() };
}

export function joinQuery(profileType: string, selector: string): string {
  return `${profileType}${selector || '{}'}`;
}
