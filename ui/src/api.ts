// The querier.v1 Connect JSON client: the only network calls the UI makes, all to the Embers
// serving the page. Errors come back as ApiError with the Connect code and message, shown as is.

import { BinaryFlameGraph, decodeSelectMergeStacktracesResponse, encodeSelectMergeStacktraces } from './flamegraph/wire.ts';

export class ApiError extends Error {
  constructor(public method: string, public code: string, message: string, public httpStatus: number) {
    super(`${method}: ${code}: ${message}`);
  }
}

let tenant = '';
/** The tenant sent as X-Scope-OrgID with every call ('' sends none: the server's default). */
export function setTenant(t: string): void { tenant = t.trim(); }

// An API token (servers with -auth.enabled), sent as a Bearer token. A secret: it is kept for the
// browser tab in sessionStorage, never in the URL.
const TOKEN_KEY = 'embers.apiToken';
export function apiToken(): string {
  try { return sessionStorage.getItem(TOKEN_KEY) ?? ''; } catch { return ''; }
}
export function setApiToken(token: string): void {
  try {
    if (token.trim()) sessionStorage.setItem(TOKEN_KEY, token.trim()); else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token lasts until the page is left */ }
}

function headers(contentType: string): Record<string, string> {
  const h: Record<string, string> = { 'Content-Type': contentType, 'Connect-Protocol-Version': '1' };
  if (tenant) h['X-Scope-OrgID'] = tenant;
  const token = apiToken();
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

export async function call<T>(service: string, method: string, body: unknown,
  signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/${service}/${method}`, { method: 'POST', headers: headers('application/json'), body: JSON.stringify(body), signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(method, 'unavailable', `the server did not answer (${(e as Error).message})`, 0);
  }
  const text = await res.text();
  let json: any;
  try { json = text ? JSON.parse(text) : {}; } catch { json = undefined; }
  if (!res.ok) {
    throw new ApiError(method, json?.code ?? `HTTP ${res.status}`, json?.message ?? text.trim(), res.status);
  }
  if (json === undefined) throw new ApiError(method, 'internal', 'the answer is not JSON', res.status);
  return json as T;
}

/** The same call with Connect's binary protobuf codec: the body and answer are protobuf bytes.
 * Errors are JSON in both codecs. */
export async function callProto(service: string, method: string, body: Uint8Array<ArrayBuffer>,
  signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>> {
  let res: Response;
  try {
    res = await fetch(`/${service}/${method}`, { method: 'POST', headers: headers('application/proto'), body, signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(method, 'unavailable', `the server did not answer (${(e as Error).message})`, 0);
  }
  if (!res.ok) {
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    throw new ApiError(method, json?.code ?? `HTTP ${res.status}`, json?.message ?? text.trim(), res.status);
  }
  return new Uint8Array(await res.arrayBuffer());
}

/** GET of one of the server's JSON status pages (/metastore/status, /cluster/status). */
export async function getJson(path: string, signal?: AbortSignal): Promise<Record<string, any>> {
  let res: Response;
  try {
    res = await fetch(path, { headers: headers('application/json'), signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(path, 'unavailable', `the server did not answer (${(e as Error).message})`, 0);
  }
  const text = await res.text();
  if (!res.ok) throw new ApiError(path, `HTTP ${res.status}`, text.trim(), res.status);
  try { return JSON.parse(text); } catch { throw new ApiError(path, 'internal', 'the answer is not JSON', res.status); }
}

export const querier = <T>(method: string, body: unknown, signal?: AbortSignal) =>
  call<T>('querier.v1.QuerierService', method, body, signal);

export interface ProfileType { ID: string; name?: string; sampleType?: string; sampleUnit?: string }
export interface WireFlameGraph { names: string[]; levels: Array<{ values?: string[] }>; total?: string; maxSelf?: string }
export interface WireDiffFlameGraph extends WireFlameGraph { leftTicks?: string; rightTicks?: string }
export interface WireSeries { labels?: Array<{ name: string; value: string }>; points?: Array<{ value?: number; timestamp?: string }> }

export async function profileTypes(start: number, end: number, signal?: AbortSignal): Promise<ProfileType[]> {
  const r = await querier<{ profileTypes?: ProfileType[] }>('ProfileTypes', { start, end }, signal);
  return r.profileTypes ?? [];
}

export async function labelNames(matchers: string[], start: number, end: number, signal?: AbortSignal): Promise<string[]> {
  const r = await querier<{ names?: string[] }>('LabelNames', { matchers, start, end }, signal);
  return r.names ?? [];
}

export async function labelValues(name: string, matchers: string[], start: number, end: number,
  signal?: AbortSignal): Promise<string[]> {
  const r = await querier<{ names?: string[] }>('LabelValues', { name, matchers, start, end }, signal);
  return r.names ?? [];
}

/** SelectMergeStacktraces over the binary codec (see flamegraph/wire.ts for why). */
export async function flameGraph(profileTypeID: string, labelSelector: string, start: number, end: number,
  maxNodes: number, signal?: AbortSignal): Promise<BinaryFlameGraph> {
  const bytes = await callProto('querier.v1.QuerierService', 'SelectMergeStacktraces',
    encodeSelectMergeStacktraces(profileTypeID, labelSelector, start, end, maxNodes), signal);
  return decodeSelectMergeStacktracesResponse(bytes);
}

export async function series(profileTypeID: string, labelSelector: string, start: number, end: number,
  step: number, groupBy: string[], signal?: AbortSignal): Promise<WireSeries[]> {
  const r = await querier<{ series?: WireSeries[] }>('SelectSeries',
    { profileTypeID, labelSelector, start, end, step, groupBy }, signal);
  return r.series ?? [];
}

export interface Side { profileTypeID: string; labelSelector: string; start: number; end: number }

export async function diff(left: Side, right: Side, maxNodes: number, signal?: AbortSignal): Promise<WireDiffFlameGraph> {
  const r = await querier<{ flamegraph?: WireDiffFlameGraph }>('Diff',
    { left: { ...left, maxNodes }, right: { ...right, maxNodes } }, signal);
  return r.flamegraph ?? { names: [], levels: [] };
}
