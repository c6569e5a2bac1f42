// FlameTree: a flame graph decoded from Pyroscope's flamebearer encoding (querier.v1 FlameGraph or
// FlameGraphDiff levels) into flat typed arrays, plus the questions the views ask of it: which
// node is at a point, its ancestors, search matches and their share, per-function self/total.
// Pure (no DOM) so node's test runner checks it; used by the flame graph, top table and diff view.
//
// Node i is stored level by level, left to right, so the nodes of level d are the index range
// [levelStart[d], levelStart[d+1]) sorted by x: a range of x is found by binary search.
// x and total are in "ticks": the profile's values (for a diff, left + right added up, which is
// how the Pyroscope UI lays a diff out).

export interface FlameTree {
  names: string[];
  depth: number; // number of levels, the root's included
  levelStart: Int32Array; // depth + 1 entries
  level: Int32Array;
  x: Float64Array;
  total: Float64Array;
  self: Float64Array;
  name: Int32Array; // index into names
  parent: Int32Array; // -1 for the root
  // Set for a diff (FlameGraphDiff): each side's own total and self per node, and side totals.
  diff?: {
    leftTotal: Float64Array; leftSelf: Float64Array;
    rightTotal: Float64Array; rightSelf: Float64Array;
    leftTicks: number; rightTicks: number;
  };
}

/** Levels as they come in Connect JSON (int64 values are strings there), or as numbers
 * (flamegraph/wire.ts reads the protobuf form into Float64Arrays). */
type LevelValues = ArrayLike<string | number>;
export type WireLevels = Array<{ values?: LevelValues } | LevelValues>;

function levelValues(l: WireLevels[number]): LevelValues {
  return 'length' in l ? (l as LevelValues) : ((l as { values?: LevelValues }).values ?? []);
}

/**
 * Decodes flamebearer levels: 4 values a node (x delta, total, self, name) for a single profile,
 * 7 for a diff (left x delta, total, self, right x delta, total, self, name). x deltas are relative
 * to the end of the previous node of the same level.
 */
export function decodeFlamebearer(names: string[], levels: WireLevels,
  diffTicks?: { leftTicks: number; rightTicks: number }): FlameTree {
  const stride = diffTicks ? 7 : 4;
  const raw = levels.map(levelValues);
  let count = 0;
  for (const l of raw) count += Math.floor(l.length / stride);
  const t: FlameTree = {
    names,
    depth: raw.length,
    levelStart: new Int32Array(raw.length + 1),
    level: new Int32Array(count),
    x: new Float64Array(count),
    total: new Float64Array(count),
    self: new Float64Array(count),
    name: new Int32Array(count),
    parent: new Int32Array(count),
  };
  const d = diffTicks ? {
    leftTotal: new Float64Array(count), leftSelf: new Float64Array(count),
    rightTotal: new Float64Array(count), rightSelf: new Float64Array(count),
    leftTicks: diffTicks.leftTicks, rightTicks: diffTicks.rightTicks,
  } : undefined;
  if (d) t.diff = d;
  let i = 0;
  for (let lv = 0; lv < raw.length; lv++) {
    t.levelStart[lv] = i;
    const l = raw[lv];
    if (!d && l instanceof Float64Array) {
      // The protobuf reader's levels: numbers already, one monomorphic loop (a cold page runs
      // this once over 100k+ nodes, mostly before the JIT has optimised it).
      i = decodeNumericLevel(t, l, lv, i);
      continue;
    }
    let leftEnd = 0;
    let rightEnd = 0;
    for (let k = 0; k + stride <= l.length; k += stride, i++) {
      t.level[i] = lv;
      if (d) {
        const lx = leftEnd + Number(l[k]);
        const lt = Number(l[k + 1]);
        const rx = rightEnd + Number(l[k + 3]);
        const rt = Number(l[k + 4]);
        leftEnd = lx + lt;
        rightEnd = rx + rt;
        d.leftTotal[i] = lt;
        d.leftSelf[i] = Number(l[k + 2]);
        d.rightTotal[i] = rt;
        d.rightSelf[i] = Number(l[k + 5]);
        t.x[i] = lx + rx;
        t.total[i] = lt + rt;
        t.self[i] = d.leftSelf[i] + d.rightSelf[i];
        t.name[i] = Number(l[k + 6]);
      } else {
        const x = leftEnd + Number(l[k]);
        t.x[i] = x;
        t.total[i] = Number(l[k + 1]);
        t.self[i] = Number(l[k + 2]);
        t.name[i] = Number(l[k + 3]);
        leftEnd = x + t.total[i];
      }
    }
  }
  t.levelStart[raw.length] = i;
  linkParents(t);
  return t;
}

function decodeNumericLevel(t: FlameTree, l: Float64Array, lv: number, first: number): number {
  const { level, x, total, self, name } = t;
  let i = first;
  let end = 0;
  const n = l.length - 3;
  for (let k = 0; k < n; k += 4) {
    const at = end + l[k];
    const tot = l[k + 1];
    level[i] = lv;
    x[i] = at;
    total[i] = tot;
    self[i] = l[k + 2];
    name[i] = l[k + 3];
    end = at + tot;
    i++;
  }
  return i;
}

/** parent[i]: the node of the level above whose x range holds node i (both levels sorted by x). */
function linkParents(t: FlameTree): void {
  for (let lv = 0; lv < t.depth; lv++) {
    const begin = t.levelStart[lv];
    const end = t.levelStart[lv + 1];
    if (lv === 0) {
      for (let i = begin; i < end; i++) t.parent[i] = -1;
      continue;
    }
    let p = t.levelStart[lv - 1];
    const pEnd = t.levelStart[lv];
    for (let i = begin; i < end; i++) {
      while (p < pEnd - 1 && t.x[i] >= t.x[p] + t.total[p]) p++;
      t.parent[i] = p;
    }
  }
}

/** The root's total: what percentages are of. */
export function rootTotal(t: FlameTree): number {
  return t.depth > 0 && t.levelStart[1] > 0 ? t.total[0] : 0;
}

/** The first node of `level` whose range ends after `x` (binary search). */
export function firstNodeEndingAfter(t: FlameTree, level: number, x: number): number {
  let lo = t.levelStart[level];
  let hi = t.levelStart[level + 1];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t.x[mid] + t.total[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The node of `level` whose range [x, x + total) holds `x`, or -1. */
export function nodeAt(t: FlameTree, level: number, x: number): number {
  if (level < 0 || level >= t.depth) return -1;
  const i = firstNodeEndingAfter(t, level, x);
  return i < t.levelStart[level + 1] && t.x[i] <= x ? i : -1;
}

/** Node i and its ancestors, root first. */
export function pathTo(t: FlameTree, i: number): number[] {
  const path: number[] = [];
  for (let n = i; n >= 0; n = t.parent[n]) path.push(n);
  return path.reverse();
}

/** The names of the path to node i below the root, joined by ";" (how the URL keeps a focus). */
export function pathKey(t: FlameTree, i: number): string {
  return pathTo(t, i).slice(1).map((n) => t.names[t.name[n]]).join(';');
}

/** The node whose pathKey is `key`, or -1 (0, the root, for an empty key). */
export function findByPathKey(t: FlameTree, key: string): number {
  if (t.depth === 0 || t.levelStart[1] === 0) return -1;
  if (key === '') return 0;
  let node = 0;
  const parts = key.split(';');
  for (let lv = 1; lv <= parts.length; lv++) {
    if (lv >= t.depth) return -1;
    let found = -1;
    const end = t.levelStart[lv + 1];
    for (let i = firstNodeEndingAfter(t, lv, t.x[node]); i < end && t.x[i] < t.x[node] + t.total[node]; i++) {
      if (t.parent[i] === node && t.names[t.name[i]] === parts[lv - 1]) { found = i; break; }
    }
    if (found < 0) return -1;
    node = found;
  }
  return node;
}

export interface SearchResult {
  matched: Uint8Array; // 1 where the node's name contains the query
  count: number; // matching nodes
  total: number; // ticks under matching nodes, each stack counted once (outermost match)
  share: number; // total / root total
}

/** Case-insensitive substring search over node names. */
export function search(t: FlameTree, query: string): SearchResult {
  const n = t.level.length;
  const matched = new Uint8Array(n);
  const q = query.trim().toLowerCase();
  if (q === '') return { matched, count: 0, total: 0, share: 0 };
  const nameMatches = t.names.map((s) => s.toLowerCase().includes(q));
  // under[i]: node i or an ancestor matched, so its descendants add nothing to the share.
  const under = new Uint8Array(n);
  let count = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const m = nameMatches[t.name[i]] && t.parent[i] >= 0; // the root "total" is not a frame
    const p = t.parent[i];
    const parentUnder = p >= 0 && under[p] === 1;
    if (m) {
      matched[i] = 1;
      count++;
      if (!parentUnder) total += t.total[i];
    }
    under[i] = m || parentUnder ? 1 : 0;
  }
  const root = rootTotal(t);
  return { matched, count, total, share: root > 0 ? total / root : 0 };
}

export interface FunctionRow {
  name: string;
  self: number;
  total: number; // each stack counted once even when the function recurses
  // Diff only: the same per side.
  leftSelf?: number; leftTotal?: number; rightSelf?: number; rightTotal?: number;
}

/** Self and total per function name (the Top table), in no particular order. */
export function functionTable(t: FlameTree): FunctionRow[] {
  const n = t.level.length;
  const m = t.names.length;
  // Children as one array in CSR form (childStart[p]..childStart[p+1]): 100k small arrays would
  // cost more than the walk itself.
  const childStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) if (t.parent[i] >= 0) childStart[t.parent[i] + 1]++;
  for (let i = 0; i < n; i++) childStart[i + 1] += childStart[i];
  const fill = childStart.slice(0, n);
  const children = new Int32Array(n);
  for (let i = 0; i < n; i++) if (t.parent[i] >= 0) children[fill[t.parent[i]]++] = i;

  const self = new Float64Array(m);
  const total = new Float64Array(m);
  const seen = new Uint8Array(m);
  const d = t.diff;
  const side = d ? { ls: new Float64Array(m), lt: new Float64Array(m), rs: new Float64Array(m), rt: new Float64Array(m) } : null;
  // Depth first with an explicit stack; ~i marks leaving node i. onPath[name] > 0 while a node
  // of that name is an ancestor, so a recursive function's stacks count once in its total.
  const onPath = new Int32Array(m);
  const stack = new Int32Array(2 * n + 2);
  let sp = 0;
  for (let i = 0; i < n; i++) if (t.parent[i] < 0) stack[sp++] = i;
  while (sp > 0) {
    const v = stack[--sp];
    if (v < 0) { onPath[t.name[~v]]--; continue; }
    const nm = t.name[v];
    if (t.parent[v] >= 0) { // not the root "total"
      seen[nm] = 1;
      self[nm] += t.self[v];
      if (side) { side.ls[nm] += d!.leftSelf[v]; side.rs[nm] += d!.rightSelf[v]; }
      if (onPath[nm] === 0) {
        total[nm] += t.total[v];
        if (side) { side.lt[nm] += d!.leftTotal[v]; side.rt[nm] += d!.rightTotal[v]; }
      }
    }
    onPath[nm]++;
    stack[sp++] = ~v;
    for (let c = childStart[v]; c < childStart[v + 1]; c++) stack[sp++] = children[c];
  }
  const rows: FunctionRow[] = [];
  for (let nm = 0; nm < m; nm++) {
    if (!seen[nm]) continue;
    const row: FunctionRow = { name: t.names[nm], self: self[nm], total: total[nm] };
    if (side) Object.assign(row, { leftSelf: side.ls[nm], leftTotal: side.lt[nm], rightSelf: side.rs[nm], rightTotal: side.rt[nm] });
    rows.push(row);
  }
  return rows;
}
