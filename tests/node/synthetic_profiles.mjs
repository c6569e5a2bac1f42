// Random but reproducible pprof profiles for the end-to-end tests that need many different
// pushes (compaction, retention), and canonical forms of query answers so two answers can be
// compared by what they say rather than by the order the server happened to write them in.

import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { compileDescriptorSet } from './protos.mjs';

/** Mulberry32: a small seeded PRNG, so a failing seed can be replayed. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}

let profileSchema = null;
/** google.v1.Profile, compiled from the project's own proto. */
export function pprofSchema() {
  if (!profileSchema) {
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, compileDescriptorSet('google/v1/profile.proto')));
    profileSchema = registry.getMessage('google.v1.Profile');
  }
  return profileSchema;
}

export const CPU_TYPES = [['cpu', 'nanoseconds'], ['samples', 'count']];

/**
 * A CPU profile (types cpu:nanoseconds and samples:count, period cpu:nanoseconds) of `samples`:
 * [{stack: ['main', 'f', ...] root first, cpu, count, span?, trace?, labels?: {name: value}}]
 * taken at timeMs (string sample labels other than span_id and trace_id split the profile into
 * series).
 * Returns the encoded bytes.
 */
export function encodeProfile({ samples, timeMs, durationMs = 10_000 }) {
  const strings = [''];
  const index = new Map([['', 0n]]);
  const str = (s) => {
    if (!index.has(s)) { index.set(s, BigInt(strings.length)); strings.push(s); }
    return index.get(s);
  };
  const functions = new Map();
  const fn = (name) => {
    if (!functions.has(name)) functions.set(name, BigInt(functions.size + 1));
    return functions.get(name);
  };
  const sampleMsgs = samples.map((s) => ({
    locationId: s.stack.slice().reverse().map(fn), // leaf first; location id == function id
    value: [BigInt(s.cpu), BigInt(s.count)],
    label: [
      ...(s.span ? [{ key: str('span_id'), str: str(s.span) }] : []),
      ...(s.trace ? [{ key: str('trace_id'), str: str(s.trace) }] : []),
      ...Object.entries(s.labels ?? {}).map(([k, v]) => ({ key: str(k), str: str(v) })),
    ],
  }));
  const p = create(pprofSchema(), {
    sampleType: CPU_TYPES.map(([t, u]) => ({ type: str(t), unit: str(u) })),
    sample: sampleMsgs,
    location: [...functions.values()].map((id) => ({ id, address: 0x1000n * id, line: [{ functionId: id, line: 1n }] })),
    function: [...functions.entries()].map(([name, id]) => ({ id, name: str(name), systemName: str(name), filename: str('main.go') })),
    timeNanos: BigInt(timeMs) * 1_000_000n,
    durationNanos: BigInt(durationMs) * 1_000_000n,
    periodType: { type: str('cpu'), unit: str('nanoseconds') },
    period: 10_000_000n,
    stringTable: strings,
  });
  return toBinary(pprofSchema(), p);
}

/** A flame graph (names + levels) as Map "root;…;leaf" → self, zero selves left out. */
export function flameGraphStacks(fg) {
  const out = new Map();
  const levels = fg.levels.map((l) => {
    const nodes = [];
    let end = 0;
    for (let i = 0; i + 3 < l.values.length; i += 4) {
      const x = end + Number(l.values[i]);
      const total = Number(l.values[i + 1]);
      nodes.push({ x, total, self: Number(l.values[i + 2]), name: fg.names[Number(l.values[i + 3])] });
      end = x + total;
    }
    return nodes;
  });
  for (let d = 1; d < levels.length; d++) {
    for (const n of levels[d]) {
      const parent = levels[d - 1].find((p) => p.x <= n.x && n.x + n.total <= p.x + p.total);
      n.path = parent && parent.path ? `${parent.path};${n.name}` : n.name;
      if (n.self !== 0) out.set(n.path, (out.get(n.path) ?? 0) + n.self);
    }
  }
  return out;
}

/** A pprof (decoded message) as Map "root;…;leaf" (function names) → value of sample type 0. */
export function pprofStacks(p) {
  const str = (i) => p.stringTable[Number(i)];
  const fn = new Map(p.function.map((f) => [f.id, str(f.name)]));
  const loc = new Map(p.location.map((l) => [l.id, l]));
  const out = new Map();
  for (const s of p.sample) {
    const names = s.locationId.slice().reverse().flatMap((id) => loc.get(id).line.slice().reverse().map((ln) => fn.get(ln.functionId)));
    const key = names.join(';');
    out.set(key, (out.get(key) ?? 0) + Number(s.value[0]));
  }
  for (const [k, v] of out) if (v === 0) out.delete(k);
  return out;
}

/** Map → sorted array of [key, value], for deepEqual with readable diffs. */
export function sorted(map) {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
