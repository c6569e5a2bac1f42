// The Top table beside the flame graph: self and total per function, sortable by any column,
// filtered by a substring. An accessible <table> whose rows carry data-name/-self/-total (raw
// values) so tests and scripts read what the user sees. Clicking a name searches for it in the
// flame graph. For a diff it lists each side and the change instead, biggest change first, sorted
// and filtered by the same code (useSortFilter, table_sort.ts).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { DiffRow, rankByChange } from './flamegraph/diff.ts';
import { FlameTree, functionTable, FunctionRow, rootTotal } from './flamegraph/tree.ts';
import { filterAndSort, nextSort, Sort, SortKey } from './table_sort.ts';
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

/** What both tables share: the filter box, the sortable headers (buttons, aria-sort) and the
 * rows filtered and sorted (table_sort.ts). `textCol` is the name column, sorted A → Z first. */
function useSortFilter<T extends { name: string }, C extends string>(all: readonly T[], initial: Sort<C>,
  textCol: C, key: SortKey<T, C>) {
  const [sort, setSort] = useState<Sort<C>>(initial);
  const [filter, setFilter] = useState('');
  const rows = useMemo(() => filterAndSort(all, filter, sort, key), [all, filter, sort]);
  const header = (col: C, label: string) => (
    <th scope="col" aria-sort={sort.by === col ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" onClick={() => setSort(nextSort(sort, col, textCol))}>
        {label}{sort.by === col ? (sort.desc ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );
  const filterBox = (
    <input type="search" placeholder="Filter functions" aria-label="Filter functions" value={filter}
      onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
  );
  return { rows, header, filterBox };
}

/** Shown under a table cut at MAX_ROWS. */
const moreNote = (n: number) => n > MAX_ROWS && <p class="note">Showing {MAX_ROWS} of {n} functions; filter to find the rest.</p>;

type Column = 'name' | 'self' | 'total';
const topKey = (r: FunctionRow, c: Column) => r[c];

export function TopTable(p: { tree: FlameTree; unit: string; onPick: (name: string) => void;
  onSandwich?: (name: string) => void }) {
  const tree = useAfterPaint(p.tree);
  const all = useMemo(() => (tree ? functionTable(tree) : []), [tree]);
  const total = rootTotal(p.tree);
  const { rows, header, filterBox } = useSortFilter<FunctionRow, Column>(all, { by: 'self', desc: true }, 'name', topKey);
  return (
    <section class="top-table" aria-label="Top functions">
      {filterBox}
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
      {moreNote(rows.length)}
    </section>
  );
}

type DiffColumn = 'name' | 'left' | 'right' | 'change';
// Change sorts by its size, either direction: descending is the ranking by change.
const diffKey = (r: DiffRow, c: DiffColumn) => (c === 'change' ? Math.abs(r.change.delta) : r[c]);

export function DiffTable(p: { tree: FlameTree; unit: string; onPick: (name: string) => void }) {
  const d = p.tree.diff!;
  const tree = useAfterPaint(p.tree);
  const all = useMemo(() => (tree ? rankByChange(functionTable(tree), d.leftTicks, d.rightTicks) : []), [tree]);
  const { rows, header, filterBox } = useSortFilter<DiffRow, DiffColumn>(all, { by: 'change', desc: true }, 'name', diffKey);
  return (
    <section class="top-table" aria-label="Functions ranked by change">
      {filterBox}
      <div class="table-scroll">
        <table data-testid="diff-table">
          <thead><tr>{header('name', 'Function')}{header('left', 'Baseline self')}{header('right', 'Comparison self')}{header('change', 'Change')}</tr></thead>
          <tbody>
            {rows.slice(0, MAX_ROWS).map(({ name, left, right, change: c }) => (
              <tr key={name} data-name={name} data-left={left} data-right={right}
                data-delta={c.delta} class={c.delta > 0 ? 'worse' : c.delta < 0 ? 'better' : ''}>
                <td class="name"><button type="button" class="link" title={name} onClick={() => p.onPick(name)}>{name}</button></td>
                <td>{formatValue(left, p.unit)} ({formatPercent(c.leftShare)})</td>
                <td>{formatValue(right, p.unit)} ({formatPercent(c.rightShare)})</td>
                <td>{c.delta >= 0 ? '+' : ''}{(c.delta * 100).toFixed(2)} pp</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {moreNote(rows.length)}
    </section>
  );
}
