// The flame graph: a canvas drawn from a FlameTree via layoutFlameGraph, with click to focus,
// breadcrumbs and reset, search highlighting with the matches' share, a tooltip (self and total,
// absolute and percent; both sides and the change for a diff), icicle or flame orientation and
// keyboard access: arrow keys select a frame (announced, outlined, with its tooltip), Enter
// focuses it, Escape resets. Used by the explore, sandwich and diff views.
//
// The canvas carries data attributes for tests and tools (data-focus, data-paint-ms,
// data-draw-ms); draw timings are taken with performance.now() around the synchronous draw.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { change } from './diff.ts';
import { diffColor, packageColor } from './colors.ts';
import { Layout, layoutFlameGraph, newLayout, visibleDepth } from './layout.ts';
import { FlameTree, findByPathKey, firstNodeEndingAfter, nodeAt, pathKey, pathTo, rootTotal, search } from './tree.ts';
import { formatPercent, formatValue } from '../units.ts';
import type { Orientation } from '../url_state.ts';

const ROW = 18;
const MIN_WIDTH = 2; // px: narrower nodes are collapsed into grey runs

interface Props {
  tree: FlameTree;
  unit: string;
  focus: string;
  onFocus: (key: string) => void;
  searchText: string;
  onSearch: (text: string) => void;
  orientation: Orientation;
  onOrientation: (o: Orientation) => void;
  dataArrivedAt?: number; // performance.now() when the data arrived, for the first-paint time
}

function nodeColor(t: FlameTree, i: number): string {
  const d = t.diff;
  if (d) return diffColor(change(d.leftTotal[i], d.rightTotal[i], d.leftTicks, d.rightTicks).relative);
  return packageColor(t.names[t.name[i]]);
}

export function FlameGraph(p: Props) {
  const { tree } = p;
  const canvas = useRef<HTMLCanvasElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const layout = useRef<Layout>(newLayout());
  const firstPaint = useRef(true);
  const [width, setWidth] = useState(800);
  const [tip, setTip] = useState<{ node: number; x: number; y: number } | null>(null);
  const [selected, setSelected] = useState(-1); // the keyboard's frame

  const focusNode = useMemo(() => Math.max(0, findByPathKey(tree, p.focus)), [tree, p.focus]);
  const found = useMemo(() => search(tree, p.searchText), [tree, p.searchText]);
  const rows = useMemo(() => visibleDepth(tree, focusNode), [tree, focusNode]);
  useEffect(() => { firstPaint.current = true; setSelected(-1); }, [tree]);

  useEffect(() => {
    const el = box.current!;
    const ro = new ResizeObserver(() => setWidth(Math.max(100, Math.floor(el.clientWidth))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useLayoutEffect(() => {
    const c = canvas.current!;
    const started = performance.now();
    layout.current = layoutFlameGraph(tree, focusNode, width, MIN_WIDTH, layout.current);
    draw(c, tree, layout.current, width, rows, p.orientation, p.searchText ? found.matched : null, selected);
    const done = performance.now();
    c.dataset.drawMs = (done - started).toFixed(2);
    if (firstPaint.current && p.dataArrivedAt !== undefined) {
      c.dataset.paintMs = (done - p.dataArrivedAt).toFixed(2);
      firstPaint.current = false;
    }
    c.dataset.drawn = String(layout.current.count);
  }, [tree, focusNode, width, rows, p.orientation, found, selected]);

  // Arrow keys walk the tree: towards the leaves (down in an icicle, up in a flame), towards the
  // root, and to the neighbours on the same row.
  const onKey = (e: KeyboardEvent) => {
    const leafward = p.orientation === 'flame' ? 'ArrowUp' : 'ArrowDown';
    const rootward = p.orientation === 'flame' ? 'ArrowDown' : 'ArrowUp';
    const cur = selected >= 0 ? selected : focusNode;
    let next = -1;
    if (e.key === 'Escape') { p.onFocus(''); setSelected(-1); return; }
    if (e.key === 'Enter' && selected >= 0) { p.onFocus(pathKey(tree, selected)); return; }
    if (e.key === leafward) {
      const lv = tree.level[cur] + 1;
      if (lv < tree.depth) {
        const i = firstNodeEndingAfter(tree, lv, tree.x[cur]);
        if (i < tree.levelStart[lv + 1] && tree.parent[i] === cur) next = i;
      }
    } else if (e.key === rootward) {
      next = tree.parent[cur];
    } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      const i = cur + (e.key === 'ArrowLeft' ? -1 : 1);
      const lv = tree.level[cur];
      if (i >= tree.levelStart[lv] && i < tree.levelStart[lv + 1]) next = i;
    } else {
      return;
    }
    e.preventDefault();
    if (next < 0) return;
    // Stay inside the focused subtree (and its ancestors, drawn full width).
    const inside = tree.x[next] >= tree.x[focusNode] && tree.x[next] < tree.x[focusNode] + tree.total[focusNode];
    if (!inside && tree.level[next] > tree.level[focusNode]) return;
    setSelected(next);
  };

  const hit = (ev: MouseEvent): number => {
    const rect = canvas.current!.getBoundingClientRect();
    const px = ev.clientX - rect.left;
    const row = Math.floor((ev.clientY - rect.top) / ROW);
    const level = p.orientation === 'flame' ? rows - 1 - row : row;
    const l = layout.current;
    for (let k = 0; k < l.count; k++) {
      if (l.level[k] === level && px >= l.left[k] && px < l.left[k] + l.width[k]) return l.node[k];
    }
    // A collapsed run: answer the node under the pointer anyway.
    if (level < 0 || level >= tree.depth) return -1;
    const x = tree.x[focusNode] + (px / width) * tree.total[focusNode];
    return nodeAt(tree, level, x);
  };

  const total = rootTotal(tree);
  const crumbs = pathTo(tree, focusNode);
  // The tooltip of the keyboard's frame sits under its rectangle.
  let keyTip: { node: number; x: number; y: number } | null = null;
  if (selected >= 0) {
    const l = layout.current;
    for (let k = 0; k < l.count; k++) {
      if (l.node[k] !== selected) continue;
      const row = p.orientation === 'flame' ? rows - 1 - l.level[k] : l.level[k];
      keyTip = { node: selected, x: l.left[k] + Math.min(l.width[k], 40) / 2, y: row * ROW + ROW / 2 };
    }
  }
  const shownTip = tip ?? keyTip;
  const name = (i: number) => tree.names[tree.name[i]];
  return (
    <section class="flamegraph" aria-label="Flame graph">
      <div class="fg-toolbar">
        <input type="search" placeholder="Search frames" aria-label="Search frames" value={p.searchText}
          onInput={(e) => p.onSearch((e.target as HTMLInputElement).value)} />
        {p.searchText && (
          <span class="fg-matches" data-testid="search-share" data-count={found.count} data-share={found.share}>
            {found.count} matches, {formatPercent(found.share)} of total
          </span>
        )}
        <span class="spacer" />
        <label>
          <select aria-label="Orientation" value={p.orientation}
            onChange={(e) => p.onOrientation((e.target as HTMLSelectElement).value as Orientation)}>
            <option value="icicle">Icicle (root on top)</option>
            <option value="flame">Flame (root at the bottom)</option>
          </select>
        </label>
      </div>
      <nav class="fg-crumbs" aria-label="Focused frame">
        {crumbs.map((n, k) => (
          <button key={n} type="button" aria-current={k === crumbs.length - 1 ? 'true' : undefined}
            onClick={() => p.onFocus(pathKey(tree, n))}>{k === 0 && name(n) === 'total' ? 'all' : name(n)}</button>
        ))}
        {focusNode !== 0 && <button type="button" class="reset" onClick={() => p.onFocus('')}>Reset</button>}
      </nav>
      <div class="fg-canvas" ref={box}>
        <canvas ref={canvas} tabIndex={0} role="img" data-testid="flamegraph"
          data-focus={focusNode === 0 ? '' : name(focusNode)} data-total={total}
          aria-label={`Flame graph of ${total > 0 ? formatValue(total, p.unit) : 'no data'}, focused on ${focusNode === 0 ? 'all' : name(focusNode)}. Click a frame to focus it, or use the arrow keys and Enter; Escape resets.`}
          onMouseMove={(e) => { const n = hit(e); setTip(n > 0 ? { node: n, x: e.offsetX, y: e.offsetY } : null); }}
          onMouseLeave={() => setTip(null)}
          onClick={(e) => { const n = hit(e); if (n >= 0) p.onFocus(pathKey(tree, n)); }}
          data-selected={selected >= 0 ? name(selected) : ''}
          onKeyDown={onKey} onBlur={() => setSelected(-1)} />
        {shownTip && <Tooltip tree={tree} node={shownTip.node} unit={p.unit} x={shownTip.x} y={shownTip.y} width={width} />}
        <div class="sr-only" aria-live="polite">
          {selected >= 0 ? `${name(selected)}: total ${formatPercent(total > 0 ? tree.total[selected] / total : 0)}, self ${formatPercent(total > 0 ? tree.self[selected] / total : 0)}` : ''}
        </div>
      </div>
    </section>
  );
}

function Tooltip(p: { tree: FlameTree; node: number; unit: string; x: number; y: number; width: number }) {
  const t = p.tree;
  const i = p.node;
  const total = rootTotal(t);
  const d = t.diff;
  const style = { left: Math.min(p.x + 12, p.width - 320), top: p.y + 16 };
  return (
    <div class="fg-tooltip" role="tooltip" style={style}>
      <div class="fg-tip-name">{t.names[t.name[i]]}</div>
      {d ? (() => {
        const c = change(d.leftTotal[i], d.rightTotal[i], d.leftTicks, d.rightTicks);
        return (
          <table>
            <tr><th /><th>baseline</th><th>comparison</th></tr>
            <tr><th>Total</th><td>{formatValue(d.leftTotal[i], p.unit)} ({formatPercent(c.leftShare)})</td>
              <td>{formatValue(d.rightTotal[i], p.unit)} ({formatPercent(c.rightShare)})</td></tr>
            <tr><th>Self</th><td>{formatValue(d.leftSelf[i], p.unit)}</td><td>{formatValue(d.rightSelf[i], p.unit)}</td></tr>
            <tr><th>Change</th><td colSpan={2}>{c.delta >= 0 ? '+' : ''}{(c.delta * 100).toFixed(2)} pp ({formatPercent(c.relative)})</td></tr>
          </table>
        );
      })() : (
        <table>
          <tr><th>Self</th><td>{formatValue(t.self[i], p.unit)}</td><td>{formatPercent(total > 0 ? t.self[i] / total : 0)}</td></tr>
          <tr><th>Total</th><td>{formatValue(t.total[i], p.unit)}</td><td>{formatPercent(total > 0 ? t.total[i] / total : 0)}</td></tr>
        </table>
      )}
    </div>
  );
}

// The theme's colours, read once per colour scheme: getComputedStyle forces a style pass of the
// whole page, which a redraw per focus change should not pay.
let themeCache: { dark: boolean; collapsed: string; text: string } | null = null;
function themeColors(c: HTMLCanvasElement): { collapsed: string; text: string } {
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  if (!themeCache || themeCache.dark !== dark) {
    const styles = getComputedStyle(c);
    themeCache = {
      dark,
      collapsed: styles.getPropertyValue('--fg-collapsed').trim() || '#bbb',
      text: styles.getPropertyValue('--fg-text').trim() || '#222',
    };
  }
  return themeCache;
}

function draw(c: HTMLCanvasElement, t: FlameTree, l: Layout, width: number, rows: number,
  orientation: Orientation, matched: Uint8Array | null, selected: number): void {
  const dpr = window.devicePixelRatio || 1;
  const height = Math.max(1, rows) * ROW;
  if (c.width !== Math.round(width * dpr) || c.height !== Math.round(height * dpr)) {
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    c.style.width = `${width}px`;
    c.style.height = `${height}px`;
  }
  const ctx = c.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = '12px ui-monospace, SFMono-Regular, Menlo, monospace';
  ctx.textBaseline = 'middle';
  const charWidth = ctx.measureText('m').width;
  const { collapsed, text } = themeColors(c);
  for (let k = 0; k < l.count; k++) {
    const node = l.node[k];
    const row = orientation === 'flame' ? rows - 1 - l.level[k] : l.level[k];
    const y = row * ROW;
    const x = l.left[k];
    const w = l.width[k];
    if (node < 0) {
      ctx.fillStyle = collapsed;
      ctx.fillRect(x, y + 1, Math.max(w, 0.5), ROW - 2);
      continue;
    }
    ctx.globalAlpha = matched && !matched[node] ? 0.25 : 1;
    const isTotal = node === 0 && t.names[t.name[0]] === 'total';
    ctx.fillStyle = isTotal ? '#b0b0b0' : nodeColor(t, node);
    ctx.fillRect(x + 0.5, y + 1, Math.max(w - 1, 0.5), ROW - 2);
    const chars = Math.floor((w - 6) / charWidth);
    if (chars >= 3) {
      const name = t.names[t.name[node]];
      ctx.fillStyle = text;
      ctx.fillText(name.length <= chars ? name : `${name.slice(0, chars - 1)}…`, x + 3, y + ROW / 2);
    }
    if (node === selected) {
      ctx.globalAlpha = 1;
      ctx.strokeStyle = text;
      ctx.lineWidth = 2;
      ctx.strokeRect(x + 1, y + 1, Math.max(w - 2, 1), ROW - 2);
    }
  }
  ctx.globalAlpha = 1;
}
