// Flame graph layout: which rectangles to draw for a tree, a focused node and a canvas width.
// Pure (no DOM) so the unit tests check it, and allocation-free per frame (typed arrays reused)
// because focus and resize redraw 100k-node trees. Used by FlameGraph.tsx.
//
// The focused node fills the width; its ancestors are drawn full width above it (so the
// breadcrumb is visible in the graph too); nodes outside its range are not drawn. Nodes narrower
// than minWidth pixels are not drawn one by one: a run of them side by side becomes one
// "collapsed" rectangle (node -1), so a level of 10,000 slivers costs one fillRect.

import { FlameTree, firstNodeEndingAfter } from './tree.ts';

export interface Layout {
  count: number;
  node: Int32Array; // -1: a collapsed run of narrow nodes
  level: Int32Array; // row, counted from the root (0)
  left: Float32Array; // pixels
  width: Float32Array; // pixels
}

export function newLayout(capacity = 1024): Layout {
  return {
    count: 0,
    node: new Int32Array(capacity),
    level: new Int32Array(capacity),
    left: new Float32Array(capacity),
    width: new Float32Array(capacity),
  };
}

function push(l: Layout, node: number, level: number, left: number, width: number): Layout {
  if (l.count === l.node.length) {
    const bigger = newLayout(l.node.length * 2);
    bigger.node.set(l.node); bigger.level.set(l.level); bigger.left.set(l.left); bigger.width.set(l.width);
    bigger.count = l.count;
    l = bigger;
  }
  l.node[l.count] = node; l.level[l.count] = level; l.left[l.count] = left; l.width[l.count] = width;
  l.count++;
  return l;
}

/**
 * Lays out `t` focused on node `focus` (0: the root) over `widthPx` pixels. Returns `into` (or a
 * grown copy when it was too small), with count set.
 */
export function layoutFlameGraph(t: FlameTree, focus: number, widthPx: number, minWidth: number,
  into: Layout = newLayout()): Layout {
  let l = into;
  l.count = 0;
  if (t.level.length === 0 || focus < 0) return l;
  // Ancestors of the focus (and the focus itself) span the whole width.
  const chain: number[] = [];
  for (let n = focus; n >= 0; n = t.parent[n]) chain.push(n);
  for (let k = chain.length - 1; k >= 0; k--) l = push(l, chain[k], t.level[chain[k]], 0, widthPx);

  const x0 = t.x[focus];
  const span = t.total[focus];
  if (span <= 0) return l;
  const scale = widthPx / span;
  const x1 = x0 + span;
  for (let lv = t.level[focus] + 1; lv < t.depth; lv++) {
    const end = t.levelStart[lv + 1];
    let runLeft = -1;
    let runRight = -1;
    let any = false;
    for (let i = firstNodeEndingAfter(t, lv, x0); i < end && t.x[i] < x1; i++) {
      any = true;
      const left = (t.x[i] - x0) * scale;
      const width = t.total[i] * scale;
      if (width >= minWidth) {
        if (runLeft >= 0) { l = push(l, -1, lv, runLeft, runRight - runLeft); runLeft = -1; }
        l = push(l, i, lv, left, width);
      } else if (runLeft >= 0 && left - runRight < 0.5) {
        runRight = left + width;
      } else {
        if (runLeft >= 0) l = push(l, -1, lv, runLeft, runRight - runLeft);
        runLeft = left;
        runRight = left + width;
      }
    }
    if (runLeft >= 0) l = push(l, -1, lv, runLeft, runRight - runLeft);
    if (!any) break; // nothing deeper under the focus
  }
  return l;
}

/** The deepest level that has a node under the focus (rows to size the canvas by). */
export function visibleDepth(t: FlameTree, focus: number): number {
  if (focus < 0 || t.level.length === 0) return 0;
  const x0 = t.x[focus];
  const x1 = x0 + t.total[focus];
  let lv = t.level[focus] + 1;
  for (; lv < t.depth; lv++) {
    const i = firstNodeEndingAfter(t, lv, x0);
    if (!(i < t.levelStart[lv + 1] && t.x[i] < x1)) break;
  }
  return lv;
}
