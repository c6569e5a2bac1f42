// The sandwich view of one function: its callers (every stack that reaches it, merged, with the
// function at the root and its callers above) and its callees (every subtree under it, merged).
// A recursive function is taken at its outermost call, so nothing counts twice. Built as
// FlameTrees so the same FlameGraph draws them. Pure; used by SandwichView.tsx and the tests.
import { FlameTree } from './tree.ts';

interface TrieNode { name: number; total: number; self: number; children: Map<number, TrieNode> }

const trieNode = (name: number): TrieNode => ({ name, total: 0, self: 0, children: new Map() });

function child(parent: TrieNode, name: number): TrieNode {
  let c = parent.children.get(name);
  if (!c) { c = trieNode(name); parent.children.set(name, c); }
  return c;
}

/** A trie as a FlameTree: level by level, children left to right by name, self after them. */
function toFlameTree(names: string[], root: TrieNode): FlameTree {
  const levels: Array<Array<{ node: TrieNode; x: number; parent: number }>> = [[{ node: root, x: 0, parent: -1 }]];
  let count = 1;
  for (let d = 0; ; d++) {
    const next: Array<{ node: TrieNode; x: number; parent: number }> = [];
    const base = count - levels[d].length;
    levels[d].forEach((e, k) => {
      let x = e.x;
      const kids = [...e.node.children.values()].sort((a, b) => names[a.name].localeCompare(names[b.name]));
      for (const c of kids) { next.push({ node: c, x, parent: base + k }); x += c.total; }
    });
    if (next.length === 0) break;
    levels.push(next);
    count += next.length;
  }
  const t: FlameTree = {
    names, depth: levels.length, levelStart: new Int32Array(levels.length + 1),
    level: new Int32Array(count), x: new Float64Array(count), total: new Float64Array(count),
    self: new Float64Array(count), name: new Int32Array(count), parent: new Int32Array(count),
  };
  let i = 0;
  levels.forEach((l, d) => {
    t.levelStart[d] = i;
    for (const e of l) {
      t.level[i] = d; t.x[i] = e.x; t.total[i] = e.node.total; t.self[i] = e.node.self;
      t.name[i] = e.node.name; t.parent[i] = e.parent;
      i++;
    }
  });
  t.levelStart[levels.length] = i;
  return t;
}

export function sandwich(t: FlameTree, functionName: string): { callers: FlameTree; callees: FlameTree } | null {
  const f = t.names.indexOf(functionName);
  if (f < 0) return null;
  const n = t.level.length;
  // outer[i]: node i or an ancestor is f (so a deeper f is inside an outer one).
  const outer = new Uint8Array(n);
  const callersRoot = trieNode(f);
  const calleesRoot = trieNode(f);
  // Callees: a node below an outermost f maps to the trie node of its path from that f.
  const calleeOf = new Map<number, TrieNode>();
  let found = false;
  for (let i = 0; i < n; i++) {
    const p = t.parent[i];
    const parentOuter = p >= 0 && outer[p] === 1;
    if (t.name[i] === f && p >= 0 && !parentOuter) {
      found = true;
      outer[i] = 1;
      calleesRoot.total += t.total[i];
      calleesRoot.self += t.self[i];
      calleeOf.set(i, calleesRoot);
      // Callers: the path up to the root, reversed under f, weighted by this call's total.
      callersRoot.total += t.total[i];
      let at = callersRoot;
      let up = p;
      while (up > 0) { at = child(at, t.name[up]); at.total += t.total[i]; up = t.parent[up]; }
      at.self += t.total[i]; // the outermost caller: where these stacks start
      if (at === callersRoot) callersRoot.self = callersRoot.total;
      continue;
    }
    if (parentOuter) {
      outer[i] = 1;
      const c = child(calleeOf.get(p)!, t.name[i]);
      c.total += t.total[i];
      c.self += t.self[i];
      calleeOf.set(i, c);
    }
  }
  if (!found) return null;
  return { callers: toFlameTree(t.names, callersRoot), callees: toFlameTree(t.names, calleesRoot) };
}
