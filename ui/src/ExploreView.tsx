// The explore view: profile type, service and label selector; time range and refresh; the
// timeline (grouped by a label); the Top table beside the flame graph (or the sandwich view of a
// function); pprof and JSON export. Everything it shows follows from the URL state.
import { useEffect, useMemo, useState } from 'preact/hooks';
import * as api from './api.ts';
import { downloadJson, downloadPprof } from './export.ts';
import { FlameGraph } from './flamegraph/FlameGraph.tsx';
import { SandwichView } from './flamegraph/SandwichView.tsx';
import { decodeFlamebearer, FlameTree } from './flamegraph/tree.ts';
import type { BinaryFlameGraph } from './flamegraph/wire.ts';
import { LabelSelectorInput } from './LabelSelectorInput.tsx';
import { RangePicker } from './RangePicker.tsx';
import { serviceOf, withService } from './selector.ts';
import { absoluteRange, resolveRange, stepFor } from './time_range.ts';
import { Timeline } from './Timeline.tsx';
import { timelineData, TimelineData } from './timeline_data.ts';
import { TopTable } from './TopTable.tsx';
import { unitOf } from './units.ts';
import { joinQuery, splitQuery } from './url_state.ts';
import { MAX_NODES, ViewProps } from './view_props.ts';

/** The flame graph as querier.v1 FlameGraph JSON (what SelectMergeStacktraces answers in JSON). */
function flameGraphJson(fg: BinaryFlameGraph) {
  return { names: fg.names, levels: fg.levels.map((l) => ({ values: Array.from(l, String) })), total: String(fg.total) };
}

export function ExploreView({ state, update, report, refresh, onRefresh }: ViewProps) {
  const { profileType, selector } = splitQuery(state.query);
  const range = useMemo(() => resolveRange(state, Date.now(), state.tz), [state.from, state.until, state.tz, refresh]);
  const ok = !('error' in range);
  const start = ok ? range.start : 0;
  const end = ok ? range.end : 0;
  const [types, setTypes] = useState<api.ProfileType[] | null>(null); // null until loaded
  const [services, setServices] = useState<string[]>([]);
  const [groupLabels, setGroupLabels] = useState<string[]>([]);
  const [flame, setFlame] = useState<{ tree: FlameTree; wire: BinaryFlameGraph; arrivedAt: number; decodeMs: number } | null>(null);
  const [timeline, setTimeline] = useState<TimelineData | null>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    if (!ok) { report(new Error(range.error)); return; }
    const ctl = new AbortController();
    api.profileTypes(start, end, ctl.signal).then((t) => {
      setTypes(t);
      if (!state.query && t.length > 0) {
        const pick = t.find((x) => x.ID.startsWith('process_cpu:cpu:')) ?? t[0];
        update({ query: joinQuery(pick.ID, '{}') }, true);
      }
    }).catch(report);
    return () => ctl.abort();
  }, [start, end, state.tenant, refresh]);

  useEffect(() => {
    if (!ok || !profileType) return;
    const ctl = new AbortController();
    const matchers = [`{__profile_type__="${profileType}"}`];
    api.labelValues('service_name', matchers, start, end, ctl.signal).then((s) => {
      setServices(s);
      if (!serviceOf(selector) && s.length > 0 && selector.replace(/\s/g, '') === '{}') {
        update({ query: joinQuery(profileType, withService(selector, s[0])) }, true);
      }
    }).catch(report);
    api.labelNames([selector !== '{}' ? selector : matchers[0]], start, end, ctl.signal)
      .then((n) => setGroupLabels(n.filter((x) => !x.startsWith('__')))).catch(report);
    return () => ctl.abort();
  }, [profileType, start, end, state.tenant, refresh]);

  useEffect(() => {
    if (!ok || !profileType) return;
    const ctl = new AbortController();
    setLoading(true);
    api.flameGraph(profileType, selector, start, end, MAX_NODES, ctl.signal).then((wire) => {
      const arrivedAt = performance.now();
      const tree = decodeFlamebearer(wire.names, wire.levels);
      setFlame({ tree, wire, arrivedAt, decodeMs: performance.now() - arrivedAt });
    }).catch((e) => { setFlame(null); report(e); }).finally(() => setLoading(false));
    const groupBy = state.groupBy ? [state.groupBy] : [];
    api.series(profileType, selector, start, end, stepFor(start, end), groupBy, ctl.signal)
      .then((s) => setTimeline(timelineData(s, state.groupBy))).catch((e) => { setTimeline(null); report(e); });
    return () => ctl.abort();
  }, [state.query, start, end, state.groupBy, state.tenant, refresh]);

  const unit = unitOf(profileType);
  const service = serviceOf(selector);
  // The same element while its inputs are the same: Preact then skips it, so focusing or
  // searching the flame graph does not re-render the table and the chart.
  const table = useMemo(() => flame && <TopTable tree={flame.tree} unit={unit} onPick={(name) => update({ search: name })}
    onSandwich={(sandwich) => update({ sandwich })} />,
    [flame, unit]);
  const chart = useMemo(() => timeline && <Timeline data={timeline} unit={unit} start={start} end={end} tz={state.tz}
    onBrush={(a, b) => update(absoluteRange(a, b))} />, [timeline, unit, start, end, state.tz]);
  const setQuery = (q: string) => update({ query: q, focus: '', sandwich: '' });
  return (
    <main class="explore">
      <div class="bar">
        <label>Profile type
          <select aria-label="Profile type" data-testid="profile-type" value={profileType}
            onChange={(e) => setQuery(joinQuery((e.target as HTMLSelectElement).value, selector))}>
            {!types?.some((t) => t.ID === profileType) && profileType && <option value={profileType}>{profileType}</option>}
            {(types ?? []).map((t) => <option key={t.ID} value={t.ID}>{t.ID}</option>)}
          </select>
        </label>
        <label>Service
          <select aria-label="Service" data-testid="service" value={service}
            onChange={(e) => setQuery(joinQuery(profileType, withService(selector, (e.target as HTMLSelectElement).value)))}>
            <option value="">(any)</option>
            {service && !services.includes(service) && <option value={service}>{service}</option>}
            {services.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <LabelSelectorInput value={selector} profileType={profileType} start={start} end={end} onError={report}
          onApply={(s) => setQuery(joinQuery(profileType, s))} />
      </div>
      <div class="bar">
        <RangePicker label="Time range" tz={state.tz} from={state.from} until={state.until} onChange={(from, until) => update({ from, until })} />
        <button type="button" onClick={onRefresh} data-testid="refresh">Refresh</button>
        {loading && <span class="loading" role="status">loading…</span>}
      </div>
      <div class="bar">
        <label>Group by
          <select aria-label="Group by" value={state.groupBy} onChange={(e) => update({ groupBy: (e.target as HTMLSelectElement).value })}>
            <option value="">(none)</option>
            {state.groupBy && !groupLabels.includes(state.groupBy) && <option value={state.groupBy}>{state.groupBy}</option>}
            {groupLabels.map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
        <span class="spacer" />
        <button type="button" disabled={!flame} onClick={() => downloadPprof(profileType, selector, start, end,
          `${service || 'profile'}.pb`).catch(report)}>Download pprof</button>
        <button type="button" disabled={!flame} onClick={() => downloadJson(flameGraphJson(flame!.wire),
          `${service || 'flamegraph'}.json`)}>Download JSON</button>
      </div>
      {types?.length === 0 && !state.query &&
        <p class="empty" data-testid="no-data">No profiles in this time range{state.tenant ? ` for tenant ${state.tenant}` : ''}.</p>}
      {chart}
      {flame && (flame.tree.level.length <= 1
        ? <p class="empty" data-testid="no-data">No profiles for {state.query} in this time range.</p>
        : (
          <div class="panes" data-decode-ms={flame.decodeMs.toFixed(2)} data-nodes={flame.tree.level.length}>
            {table}
            {state.sandwich
              ? <SandwichView tree={flame.tree} unit={unit} name={state.sandwich} onClose={() => update({ sandwich: '' })} />
              : <FlameGraph tree={flame.tree} unit={unit} focus={state.focus} onFocus={(focus) => update({ focus })}
                searchText={state.search} onSearch={(search) => update({ search }, true)}
                orientation={state.orientation} onOrientation={(orientation) => update({ orientation })}
                dataArrivedAt={flame.arrivedAt} />}
          </div>
        ))}
    </main>
  );
}

