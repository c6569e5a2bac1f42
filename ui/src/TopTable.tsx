// The Top table beside the flame graph: self and total per function, sortable by any column,
// filtered by a substring. An accessible <table> whose rows carry data-name/-self/-total (raw
// values) so tests and scripts read what the user sees. Clicking a name searches for it in the
// flame graph. For a diff it lists each side and the change instead, biggest change first.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { change, rankByChange } from './flamegraph/diff.ts';
import { FlameTree, functionTable, rootTotal } from './flamegraph/tree.ts';
import { formatPercent, formatValue } from './units.ts';

const MAX_ROWS = 300; // a 100k-function profile stays responsive; the filter finds the rest

/** The tree once the browser has painted a frame with the new one: the flame graph is drawn
 * first, the table (a walk of every node and a few hundred rows) right after. */
function useAfterPaint(tree: FlameTree): FlameTree | null {
  const [ready, setReady] = useState<FlameTree | null>(null);
  useEffect(() => {
    const id = requestAnimationFrame(() => setTimeout(() => setReady(tree), 0));
    return () => cancelAnimationFrame(id);
  }, [tree]);
  return ready === tree ? tree : null;
}

type Column = 'name' | 'self' | 'total';

export function TopTable(p: { tree: FlameTree; unit: string; onPick: (name: string) => void;
  onSandwich?: (name: string) => void }) {
  const [sort, setSort] = useState<{ by: Column; desc: boolean }>({ by: 'self', desc: true });
  const [filter, setFilter] = useState('');
  const tree = useAfterPaint(p.tree);
  const all = useMemo(() => (tree ? functionTable(tree) : []), [tree]);
  const total = rootTotal(p.tree);
  const rows = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const r = f ? all.filter((x) => x.name.toLowerCase().includes(f)) : all.slice();
    const dir = sort.desc ? -1 : 1;
    r.sort((a, b) => sort.by === 'name' ? dir * a.name.localeCompare(b.name)
      : dir * (a[sort.by] - b[sort.by]) || a.name.localeCompare(b.name));
    return r;
  }, [all, filter, sort]);
  const header = (col: Column, label: string) => (
    <th scope="col" aria-sort={sort.by === col ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" onClick={() => setSort({ by: col, desc: sort.by === col ? !sort.desc : col !== 'name' })}>
        {label}{sort.by === col ? (sort.desc ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );
  return (
    <section class="top-table" aria-label="Top functions">
      <input type="search" placeholder="Filter functions" aria-label="Filter functions" value={filter}
        onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      <div class="table-scroll">
        <table data-testid="top-table">
          <thead><tr>{header('name', 'Function')}{header('self', 'Self')}<th scope="col">Self %</th>{header('total', 'Total')}<th scope="col">Total %</th></tr></thead>
          <tbody>
            {rows.slice(0, MAX_ROWS).map((r) => (
              <tr key={r.name} data-name={r.name} data-self={r.self} data-total={r.total}
                data-self-percent={total > 0 ? (100 * r.self) / total : 0} data-total-percent={total > 0 ? (100 * r.total) / total : 0}>
                <td class="name">
                  {p.onSandwich && <button type="button" class="sandwich-button" aria-label={`Sandwich view of ${r.name}`}
                    title="Sandwich view: callers and callees" onClick={() => p.onSandwich!(r.name)}>↕</button>}
                  <button type="button" class="link" title={r.name} onClick={() => p.onPick(r.name)}>{r.name}</button>
                </td>
                <td>{formatValue(r.self, p.unit)}</td><td>{formatPercent(total > 0 ? r.self / total : 0)}</td>
                <td>{formatValue(r.total, p.unit)}</td><td>{formatPercent(total > 0 ? r.total / total : 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rows.length > MAX_ROWS && <p class="note">Showing {MAX_ROWS} of {rows.length} functions; filter to find the rest.</p>}
    </section>
  );
}

export function DiffTable(p: { tree: FlameTree; unit: string; onPick: (name: string) => void }) {
  const d = p.tree.diff!;
  const tree = useAfterPaint(p.tree);
  const rows = useMemo(() => (tree ? rankByChange(functionTable(tree), d.leftTicks, d.rightTicks) : []), [tree]);
  return (
    <section class="top-table" aria-label="Functions ranked by change">
      <div class="table-scroll">
        <table data-testid="diff-table">
          <thead><tr><th scope="col">Function</th><th scope="col">Baseline self</th><th scope="col">Comparison self</th><th scope="col">Change</th></tr></thead>
          <tbody>
            {rows.slice(0, MAX_ROWS).map((r) => {
              const c = change(r.left, r.right, d.leftTicks, d.rightTicks);
              return (
                <tr key={r.name} data-name={r.name} data-left={r.left} data-right={r.right}
                  data-delta={c.delta} class={c.delta > 0 ? 'worse' : c.delta < 0 ? 'better' : ''}>
                  <td class="name"><button type="button" class="link" title={r.name} onClick={() => p.onPick(r.name)}>{r.name}</button></td>
                  <td>{formatValue(r.left, p.unit)} ({formatPercent(c.leftShare)})</td>
                  <td>{formatValue(r.right, p.unit)} ({formatPercent(c.rightShare)})</td>
                  <td>{c.delta >= 0 ? '+' : ''}{(c.delta * 100).toFixed(2)} pp</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
