// The diff view: a baseline and a comparison (each a selector and a time range), shown as one
// diff flame graph (Diff: red for more, green for less, normalised by each side's total) with
// the functions ranked by change, or as both sides' flame graphs side by side.
import { useEffect, useState } from 'preact/hooks';
import * as api from './api.ts';
import { FlameGraph } from './flamegraph/FlameGraph.tsx';
import { decodeFlamebearer, FlameTree } from './flamegraph/tree.ts';
import { LabelSelectorInput } from './LabelSelectorInput.tsx';
import { RangePicker } from './RangePicker.tsx';
import { resolveRange } from './time_range.ts';
import { DiffTable } from './TopTable.tsx';
import { unitOf } from './units.ts';
import { DiffMode, joinQuery, Orientation, splitQuery, TimeZone } from './url_state.ts';
import { MAX_NODES, ViewProps } from './view_props.ts';

function DiffSide(p: { title: string; query: string; from: string; until: string; tz: TimeZone; report: (e: unknown) => void;
  onChange: (query: string, from: string, until: string) => void }) {
  const { profileType, selector } = splitQuery(p.query);
  const r = resolveRange(p, Date.now(), p.tz);
  return (
    <fieldset class="side">
      <legend>{p.title}</legend>
      <LabelSelectorInput label={`${p.title} selector`} value={selector} profileType={profileType}
        start={'error' in r ? 0 : r.start} end={'error' in r ? 0 : r.end} onError={p.report}
        onApply={(s) => p.onChange(joinQuery(profileType, s), p.from, p.until)} />
      <RangePicker label={`${p.title} time range`} tz={p.tz} from={p.from} until={p.until} onChange={(f, u) => p.onChange(p.query, f, u)} />
    </fieldset>
  );
}

/** One side of the side-by-side comparison: its own flame graph, focus and search. */
function ComparisonSide(p: { title: string; query: string; from: string; until: string; tz: TimeZone; refresh: number;
  report: (e: unknown) => void; orientation: Orientation }) {
  const [flame, setFlame] = useState<FlameTree | null>(null);
  const [focus, setFocus] = useState('');
  const [search, setSearch] = useState('');
  const [orientation, setOrientation] = useState<Orientation>(p.orientation);
  const { profileType, selector } = splitQuery(p.query);
  useEffect(() => {
    const r = resolveRange(p, Date.now(), p.tz);
    if ('error' in r || !profileType) return;
    const ctl = new AbortController();
    api.flameGraph(profileType, selector, r.start, r.end, MAX_NODES, ctl.signal)
      .then((fg) => { setFlame(decodeFlamebearer(fg.names, fg.levels)); setFocus(''); })
      .catch((e) => { setFlame(null); p.report(e); });
    return () => ctl.abort();
  }, [p.query, p.from, p.until, p.tz, p.refresh]);
  return (
    <div class="comparison-side" data-testid={`compare-${p.title.toLowerCase()}`}>
      <h3>{p.title}: <code>{p.query}</code></h3>
      {flame && (flame.level.length <= 1
        ? <p class="empty">No profiles for {p.query} in this time range.</p>
        : <FlameGraph tree={flame} unit={unitOf(profileType)} focus={focus} onFocus={setFocus} searchText={search}
          onSearch={setSearch} orientation={orientation} onOrientation={setOrientation} />)}
    </div>
  );
}

export function DiffView({ state, update, report, refresh, onRefresh }: ViewProps) {
  // Both sides start as the explore query; the profile type is the explore one's for both.
  const leftQuery = state.leftQuery || state.query;
  const rightQuery = state.rightQuery || state.query;
  const [flame, setFlame] = useState<{ tree: FlameTree; arrivedAt: number } | null>(null);
  const profileType = splitQuery(leftQuery).profileType;
  const sideBySide = state.compare === 'side-by-side';
  useEffect(() => {
    if (sideBySide) return;
    const now = Date.now();
    const l = resolveRange({ from: state.leftFrom, until: state.leftUntil }, now, state.tz);
    const r = resolveRange({ from: state.rightFrom, until: state.rightUntil }, now, state.tz);
    if ('error' in l) { report(new Error(`baseline: ${l.error}`)); return; }
    if ('error' in r) { report(new Error(`comparison: ${r.error}`)); return; }
    if (!profileType) return;
    const ctl = new AbortController();
    const side = (q: string, range: { start: number; end: number }) =>
      ({ profileTypeID: splitQuery(q).profileType, labelSelector: splitQuery(q).selector, ...range });
    api.diff(side(leftQuery, l), side(rightQuery, r), MAX_NODES, ctl.signal).then((wire) => {
      const arrivedAt = performance.now();
      setFlame({ arrivedAt, tree: decodeFlamebearer(wire.names, wire.levels,
        { leftTicks: Number(wire.leftTicks ?? 0), rightTicks: Number(wire.rightTicks ?? 0) }) });
    }).catch((e) => { setFlame(null); report(e); });
    return () => ctl.abort();
  }, [leftQuery, rightQuery, state.leftFrom, state.leftUntil, state.rightFrom, state.rightUntil, state.tz, state.tenant, refresh, sideBySide]);
  const unit = unitOf(profileType);
  return (
    <main class="diff">
      <div class="sides">
        <DiffSide title="Baseline" tz={state.tz} query={leftQuery} from={state.leftFrom} until={state.leftUntil} report={report}
          onChange={(q, f, u) => update({ leftQuery: q, leftFrom: f, leftUntil: u, focus: '' })} />
        <DiffSide title="Comparison" tz={state.tz} query={rightQuery} from={state.rightFrom} until={state.rightUntil} report={report}
          onChange={(q, f, u) => update({ rightQuery: q, rightFrom: f, rightUntil: u, focus: '' })} />
      </div>
      <div class="bar">
        <button type="button" onClick={onRefresh}>Refresh</button>
        <label>Show
          <select aria-label="Show" value={state.compare}
            onChange={(e) => update({ compare: (e.target as HTMLSelectElement).value as DiffMode })}>
            <option value="diff">the diff flame graph</option>
            <option value="side-by-side">both flame graphs side by side</option>
          </select>
        </label>
        {!sideBySide && <span class="legend"><span class="worse">red: more in the comparison (slower)</span> · <span class="better">green: less (faster)</span> · shares normalised by each side's total</span>}
      </div>
      {sideBySide ? (
        <div class="sides">
          <ComparisonSide title="Baseline" tz={state.tz} query={leftQuery} from={state.leftFrom} until={state.leftUntil}
            refresh={refresh} report={report} orientation={state.orientation} />
          <ComparisonSide title="Comparison" tz={state.tz} query={rightQuery} from={state.rightFrom} until={state.rightUntil}
            refresh={refresh} report={report} orientation={state.orientation} />
        </div>
      ) : flame && (
        <div class="panes">
          <DiffTable tree={flame.tree} unit={unit} onPick={(name) => update({ search: name })} />
          <FlameGraph tree={flame.tree} unit={unit} focus={state.focus} onFocus={(focus) => update({ focus })}
            searchText={state.search} onSearch={(search) => update({ search }, true)}
            orientation={state.orientation} onOrientation={(orientation) => update({ orientation })}
            dataArrivedAt={flame.arrivedAt} />
        </div>
      )}
    </main>
  );
}
