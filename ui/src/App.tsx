// The page: a header (views, tenant, API token, status links), then the explore, diff or status view. All state
// is the URL's (url_state.ts): every change pushes a history entry, Back restores the previous
// view, a reload or a shared link opens the same one. API errors are shown as the server said them.
import { useCallback, useEffect, useState } from 'preact/hooks';
import * as api from './api.ts';
import { DiffView } from './DiffView.tsx';
import { ExploreView } from './ExploreView.tsx';
import { StatusView } from './StatusView.tsx';
import { zoneName } from './time_range.ts';
import { formatState, parseState, TimeZone, UiState } from './url_state.ts';

function useUrlState(): [UiState, (patch: Partial<UiState>, replace?: boolean) => void] {
  const [state, setState] = useState(() => parseState(location.search));
  useEffect(() => {
    const onPop = () => setState(parseState(location.search));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const update = useCallback((patch: Partial<UiState>, replace = false) => {
    setState((prev) => {
      const next = { ...prev, ...patch };
      const url = `${location.pathname}${formatState(next)}`;
      if (url !== `${location.pathname}${location.search}`) {
        if (replace) history.replaceState(null, '', url); else history.pushState(null, '', url);
      }
      return next;
    });
  }, []);
  return [state, update];
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function App() {
  const [state, update] = useUrlState();
  const [errors, setErrors] = useState<string[]>([]);
  const [refresh, setRefresh] = useState(0);
  // Before any child effect sends a request with it (render runs before effects).
  api.setTenant(state.tenant);
  const report = useCallback((e: unknown) => {
    if ((e as Error)?.name === 'AbortError') return;
    setErrors((old) => [...old.filter((m) => m !== errorText(e)), errorText(e)]);
  }, []);
  // A new view starts without the old errors (same array when there were none: no re-render).
  useEffect(() => setErrors((old) => (old.length > 0 ? [] : old)), [state, refresh]);

  return (
    <div class="app">
      <header class="top">
        <strong class="brand">Embers</strong>
        <nav aria-label="Views">
          <a href={formatState({ ...state, view: 'explore' }) || '?'} aria-current={state.view === 'explore' ? 'page' : undefined}
            onClick={(e) => { e.preventDefault(); update({ view: 'explore' }); }}>Explore</a>
          <a href={formatState({ ...state, view: 'diff' })} aria-current={state.view === 'diff' ? 'page' : undefined}
            onClick={(e) => { e.preventDefault(); update({ view: 'diff' }); }}>Diff</a>
          <a href={formatState({ ...state, view: 'status' })} aria-current={state.view === 'status' ? 'page' : undefined}
            onClick={(e) => { e.preventDefault(); update({ view: 'status' }); }}>Status</a>
        </nav>
        <span class="spacer" />
        <label class="tenant">Time zone
          <select aria-label="Time zone" data-testid="time-zone" value={state.tz}
            onChange={(e) => update({ tz: (e.target as HTMLSelectElement).value as TimeZone })}>
            <option value="local">{`browser (${zoneName('local')})`}</option>
            <option value="utc">UTC</option>
          </select>
        </label>
        <label class="tenant">Tenant
          <input type="text" placeholder="default" value={state.tenant} aria-label="Tenant (X-Scope-OrgID)" data-testid="tenant"
            onChange={(e) => update({ tenant: (e.target as HTMLInputElement).value.trim() })} />
        </label>
        <label class="tenant">Token
          <input type="password" placeholder="none" autocomplete="off" aria-label="API token" data-testid="api-token"
            value={api.apiToken()} title="For servers with -auth.enabled; kept in this tab only, never in the URL"
            onChange={(e) => { api.setApiToken((e.target as HTMLInputElement).value); setRefresh((r) => r + 1); }} />
        </label>
        <nav class="status-links" aria-label="Status pages">
          <a href="/api/v1/status/buildinfo">Build</a>
          <a href="/config">Config</a>
          <a href="/metrics">Metrics</a>
        </nav>
      </header>
      {errors.length > 0 && (
        <div class="errors" role="alert" data-testid="errors">
          {errors.map((m) => <p key={m}>{m}</p>)}
        </div>
      )}
      {state.view === 'status'
        ? <StatusView tz={state.tz} refresh={refresh} onRefresh={() => setRefresh(refresh + 1)} />
        : state.view === 'diff'
        ? <DiffView state={state} update={update} report={report} refresh={refresh} onRefresh={() => setRefresh(refresh + 1)} />
        : <ExploreView state={state} update={update} report={report} refresh={refresh} onRefresh={() => setRefresh(refresh + 1)} />}
    </div>
  );
}

