// Sorting and filtering of the function tables (the Top table and the diff table): a substring
// filter on the function name, a sort by any column (ties by name), and what a click on a column
// header does. Pure, so the unit tests cover both tables' behaviour at once.

export interface Sort<C extends string> { by: C; desc: boolean }

/** A column's value for a row: numbers sort numerically, strings by localeCompare. */
export type SortKey<T, C extends string> = (row: T, col: C) => number | string;

/** The rows whose name contains `filter` (case-insensitive, trimmed), in a new array. */
export function filterByName<T extends { name: string }>(rows: readonly T[], filter: string): T[] {
  const f = filter.trim().toLowerCase();
  return f ? rows.filter((r) => r.name.toLowerCase().includes(f)) : rows.slice();
}

/** Sorts `rows` in place by `sort`; equal values by name (A → Z whatever the direction). */
export function sortRows<T extends { name: string }, C extends string>(rows: T[], sort: Sort<C>, key: SortKey<T, C>): T[] {
  const dir = sort.desc ? -1 : 1;
  return rows.sort((a, b) => {
    const x = key(a, sort.by);
    const y = key(b, sort.by);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return dir * c || a.name.localeCompare(b.name);
  });
}

/** Filtered, then sorted: what a table shows. */
export function filterAndSort<T extends { name: string }, C extends string>(rows: readonly T[], filter: string,
  sort: Sort<C>, key: SortKey<T, C>): T[] {
  return sortRows(filterByName(rows, filter), sort, key);
}

/** A click on `col`'s header: the same column flips direction; another starts descending
 * (biggest first), except the text column `textCol`, which starts A → Z. */
export function nextSort<C extends string>(sort: Sort<C>, col: C, textCol: C): Sort<C> {
  return { by: col, desc: sort.by === col ? !sort.desc : col !== textCol };
}
