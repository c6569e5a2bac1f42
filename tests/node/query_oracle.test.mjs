// The query path against an independent oracle: every pprof file of Pyroscope's test data is pushed
// (each as its own service), then, for every profile type the Series API lists for it:
//  - SelectMergeProfile's pprof is loaded by `go tool pprof -top` and must give the same flat and
//    cumulative value for every function, and the same total, as `go tool pprof -top` on the
//    original file with that sample index (Go's pprof is the oracle, not Embers' own decoder);
//  - the flame graph's self and cumulative value per function (recursion counted once per stack)
//    equal the same `go tool pprof -top` numbers;
//  - the TREE format decodes to the same totals and DOT names the top function.
// Several profiles of one service merge: two Go CPU profiles pushed to one service compare with
// `go tool pprof -top` over both files. The rest of the query API is checked on the same data:
// LabelNames/LabelValues/Series, Diff and /pyroscope/render-diff, /pyroscope/label-values, the
// stack-trace and span selectors, AnalyzeQuery, and the per-query memory limit (429).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { describe, it, before } from 'node:test';
import { createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { EMBERS_SRC, call, show, startServer, stopCleanly, useEmbers } from './harness.mjs';
import { compileDescriptorSet, pusherServiceDescriptor, querierServiceDescriptor } from './protos.mjs';
import { UNIT_FLAG, cellValue, pprofTop } from './pprof_oracle.mjs';

const TESTDATA = process.env.EMBERS_TESTDATA || path.join(EMBERS_SRC, '..', 'shared', 'testdata');
const PPROF_DIR = path.join(TESTDATA, 'pyroscope', 'pprof');
const haveTestdata = fs.existsSync(PPROF_DIR);
const goVersion = spawnSync('go', ['version'], { encoding: 'utf8', timeout: 10_000 });
const haveGo = goVersion.status === 0;
const skip = !haveTestdata ? `no testdata at ${PPROF_DIR}` : !haveGo ? 'no go toolchain (scripts/install-deps.sh --test installs it)' : false;

// Rejected by design (README): invalid UTF-8, and the .NET profile whose function ids are 0.
const EXCLUDED = new Set(['invalid_utf8.pb.gz', 'dotnet_hyphen_types.pb']);
// Frames without symbols are named by address in flame graphs but by mapping in pprof -top.
const UNSYMBOLIZED = new Set(['native_perf_kernel_cpu.pb.gz']);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-oracle-'));
let profileSchema;

function decodeProfile(file) {
  const raw = fs.readFileSync(file);
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? zlib.gunzipSync(raw) : raw;
  return fromBinary(profileSchema, bytes);
}

/** Self and cumulative value per function name from flame graph levels (recursion once per path). */
function flameGraphTop(fg) {
  const names = fg.names;
  const levels = fg.levels.map((l) => l.values.map(Number));
  const nodes = levels.map((l) => {
    const out = [];
    let end = 0;
    for (let i = 0; i + 3 < l.length; i += 4) {
      const x = end + l[i];
      out.push({ x, total: l[i + 1], self: l[i + 2], name: names[l[i + 3]] });
      end = x + l[i + 1];
    }
    return out;
  });
  const flat = new Map();
  const cum = new Map();
  const walk = (d, node, onPath) => {
    flat.set(node.name, (flat.get(node.name) ?? 0) + node.self);
    const first = !onPath.has(node.name);
    if (first) cum.set(node.name, (cum.get(node.name) ?? 0) + node.total);
    const path2 = first ? new Set([...onPath, node.name]) : onPath;
    for (const c of nodes[d + 1] ?? []) {
      if (c.x >= node.x && c.x + c.total <= node.x + node.total && c.total > 0) walk(d + 1, c, path2);
    }
  };
  for (const top of nodes[1] ?? []) walk(1, top, new Set());
  return { flat, cum };
}

/** Tree bytes (reference §8.4) → total and self per name. */
function decodeTree(bytes) {
  let pos = 0;
  const uvarint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  let total = 0n;
  const self = new Map();
  const stack = [1n];
  while (pos < bytes.length) {
    const len = Number(uvarint());
    const name = Buffer.from(bytes.subarray(pos, pos + len)).toString('utf8');
    pos += len;
    const s = uvarint();
    const children = uvarint();
    total += s;
    if (s > 0n) self.set(name, (self.get(name) ?? 0n) + s);
    stack[stack.length - 1] -= 1n;
    while (stack.length > 0 && stack[stack.length - 1] === 0n) stack.pop();
    if (children > 0n) stack.push(children);
  }
  return { total, self };
}

function nameOf(file) {
  if (/heap/.test(file)) return 'memory';
  if (/wall/.test(file)) return 'wall';
  return 'process_cpu';
}

describe('query results equal go tool pprof on every pprof test file', { skip }, () => {
  const embers = useEmbers({ extraArgs: ["-validation.reject-older-than=0", "-validation.max-profile-stacktrace-samples=100000", "-distributor.ingestion-rate-limit-mb=0", "-segment-writer.segment-duration=100ms"] });
  const files = haveTestdata ? fs.readdirSync(PPROF_DIR).filter((f) => !EXCLUDED.has(f) && /\.pb(\.gz)?$/.test(f)).sort() : [];
  const now = Date.now();
  const start = BigInt(now - 3_600_000);
  const end = BigInt(now + 3_600_000);
  let Pusher, Querier;
  const connect = () => createConnectTransport({ httpVersion: '1.1', baseUrl: embers().baseUrl, useBinaryFormat: true });
  const service = (file) => `oracle-${file.replace(/[^a-z0-9]+/gi, '-')}`;

  before(async () => {
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, compileDescriptorSet('google/v1/profile.proto')));
    profileSchema = registry.getMessage('google.v1.Profile');
    Pusher = pusherServiceDescriptor();
    Querier = querierServiceDescriptor();
    const pusher = createClient(Pusher, connect());
    // Timestamps are moved to now (pprof -top ignores them), so the default lookback applies.
    const push = async (svc, name, file) => {
      const p = decodeProfile(path.join(PPROF_DIR, file));
      p.timeNanos = BigInt(now) * 1_000_000n;
      await pusher.push({
        series: [{
          labels: [{ name: '__name__', value: name }, { name: 'service_name', value: svc }],
          samples: [{ rawProfile: zlib.gzipSync(toBinary(profileSchema, p)), ID: file }],
        }],
      }, { timeoutMs: 20_000 });
    };
    for (const file of files) await push(service(file), nameOf(file), file);
    // Two profiles of one service merge.
    await push('oracle-merged', 'process_cpu', 'go_cpu_with_labels.pb.gz');
    await push('oracle-merged', 'process_cpu', 'go_cpu_truncated_stacks.pb.gz');
  });

  async function typesOf(svc) {
    const res = await createClient(Querier, connect()).series({
      matchers: [`{service_name="${svc}"}`], labelNames: ['__profile_type__'], start, end,
    }, { timeoutMs: 10_000 });
    return res.labelsSet.map((ls) => ls.labels.find((l) => l.name === '__profile_type__').value).sort();
  }

  async function compare(svc, originals, { flameGraph = true } = {}) {
    const types = await typesOf(svc);
    assert.ok(types.length > 0, `no profile types for ${svc}`);
    const querier = createClient(Querier, connect());
    for (const type of types) {
      const [, sampleType, sampleUnit] = type.split(':');
      const unit = UNIT_FLAG[sampleUnit];
      const selector = `{service_name="${svc}"}`;
      const merged = await querier.selectMergeProfile({ profileTypeID: type, labelSelector: selector, start, end, maxNodes: 1_048_576n }, { timeoutMs: 30_000 });
      const out = path.join(tmp, `${svc}-${sampleType}.pb`);
      fs.writeFileSync(out, toBinary(profileSchema, merged));
      const ours = pprofTop([out], { unit });
      const oracle = pprofTop(originals.map((f) => path.join(PPROF_DIR, f)), { sampleIndex: sampleType, unit });
      assert.equal(ours.total, oracle.total, `${svc} ${type}: total\nours:\n${ours.text}\noracle:\n${oracle.text}`);
      assert.deepEqual(new Map([...ours.byName].sort()), new Map([...oracle.byName].sort()), `${svc} ${type}: per-function flat/cum`);

      if (!flameGraph) continue;
      const fgRes = await querier.selectMergeStacktraces({ profileTypeID: type, labelSelector: selector, start, end, maxNodes: 1_048_576n }, { timeoutMs: 30_000 });
      const fg = flameGraphTop(fgRes.flamegraph);
      assert.equal(Number(fgRes.flamegraph.total), cellValue(oracle.total), `${svc} ${type}: flame graph total`);
      // pprof marks inlined frames "name (inline)" or "(partial-inline)"; the flame graph names
      // them plainly. A function
      // seen both ways has two -top lines whose cums cannot be added: only its flat is compared.
      const byFunction = new Map();
      for (const [name, want] of oracle.byName) {
        const plain = name.replace(/ \((partial-)?inline\)$/, '');
        const prev = byFunction.get(plain);
        byFunction.set(plain, prev
          ? { flat: prev.flat + cellValue(want.flat), cum: undefined }
          : { flat: cellValue(want.flat), cum: want.cum.includes('+') ? undefined : cellValue(want.cum) });
      }
      for (const [name, want] of byFunction) {
        assert.equal(fg.flat.get(name) ?? 0, want.flat, `${svc} ${type}: flame graph self of ${name}`);
        if (want.cum !== undefined) assert.equal(fg.cum.get(name) ?? 0, want.cum, `${svc} ${type}: flame graph cum of ${name}`);
      }

      const treeRes = await querier.selectMergeStacktraces({ profileTypeID: type, labelSelector: selector, start, end, maxNodes: 1_048_576n, format: 2 }, { timeoutMs: 30_000 });
      const tree = decodeTree(treeRes.tree);
      assert.equal(Number(tree.total), cellValue(oracle.total), `${svc} ${type}: tree total`);
      for (const [name, self] of tree.self) assert.equal(Number(self), fg.flat.get(name), `${svc} ${type}: tree self of ${name}`);
    }
  }

  for (const file of files) {
    it(`${file}: SelectMergeProfile, flame graph and tree equal go tool pprof -top`, { timeout: 120_000 }, async () => {
      await compare(service(file), [file], { flameGraph: !UNSYMBOLIZED.has(file) });
    });
  }

  it('profiles of one service merge as go tool pprof merges the files', { timeout: 120_000 }, async () => {
    await compare('oracle-merged', ['go_cpu_with_labels.pb.gz', 'go_cpu_truncated_stacks.pb.gz']);
  });

  it('format=PPROF and format=DOT answer the same profile', { timeout: 60_000 }, async () => {
    const svc = service('go_cpu_with_labels.pb.gz');
    const type = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
    const querier = createClient(Querier, connect());
    const res = await querier.selectMergeStacktraces({ profileTypeID: type, labelSelector: `{service_name="${svc}"}`, start, end, format: 4, maxNodes: 1_048_576n }, { timeoutMs: 30_000 });
    const out = path.join(tmp, 'format-pprof.pb');
    fs.writeFileSync(out, toBinary(profileSchema, res.pprof.profile));
    const oracle = pprofTop([path.join(PPROF_DIR, 'go_cpu_with_labels.pb.gz')], { sampleIndex: 'cpu', unit: 'ns' });
    assert.equal(pprofTop([out], { unit: 'ns' }).total, oracle.total);
    const dot = await querier.selectMergeStacktraces({ profileTypeID: type, labelSelector: `{service_name="${svc}"}`, start, end, format: 3 }, { timeoutMs: 30_000 });
    assert.match(dot.dot, /^digraph "unnamed" \{/);
    assert.match(dot.dot, /main\.work/);
    const q = encodeURIComponent(`${type}{service_name="${svc}"}`);
    const http = await call(embers(), `/pyroscope/render?query=${q}&from=now-1h&until=now%2B1h&format=dot`.replace('now%2B1h', String(now + 3_600_000)));
    assert.equal(http.status, 200, show(http));
    assert.match(http.text, /digraph/);
  });

  it('LabelNames, LabelValues, Series, GetProfileStats and /pyroscope/label-values describe what was pushed', { timeout: 60_000 }, async () => {
    const querier = createClient(Querier, connect());
    const names = await querier.labelNames({ matchers: ['{service_name=~"oracle-.*"}'], start, end }, { timeoutMs: 10_000 });
    for (const n of ['__name__', '__profile_type__', 'service_name']) assert.ok(names.names.includes(n), `${n} in ${names.names}`);
    const values = await querier.labelValues({ name: 'service_name', matchers: [], start, end }, { timeoutMs: 10_000 });
    const want = [...new Set([...files.map(service), 'oracle-merged'])].sort();
    assert.deepEqual(values.names, want);
    const series = await querier.series({ matchers: [`{service_name="${service('go_heap_large.pb.gz')}"}`], labelNames: ['__profile_type__', 'service_name'], start, end }, { timeoutMs: 10_000 });
    assert.deepEqual(series.labelsSet.map((ls) => ls.labels.find((l) => l.name === '__profile_type__').value).sort(), [
      'memory:alloc_objects:count:space:bytes', 'memory:alloc_space:bytes:space:bytes',
      'memory:inuse_objects:count:space:bytes', 'memory:inuse_space:bytes:space:bytes',
    ]);
    const http = await call(embers(), `/pyroscope/label-values?label=service_name&from=${now - 3_600_000}&until=${now + 3_600_000}`);
    assert.equal(http.status, 200, show(http));
    assert.deepEqual(http.json(), want);
    const stats = await querier.getProfileStats({}, { timeoutMs: 10_000 });
    assert.equal(stats.dataIngested, true);
    assert.ok(Number(stats.oldestProfileTime) <= now && Number(stats.newestProfileTime) >= now,
      `profiles were stamped ${now}: ${stats.oldestProfileTime}..${stats.newestProfileTime}`);
    const bad = await call(embers(), '/pyroscope/label-values');
    assert.equal(bad.status, 400, show(bad));
    await assert.rejects(querier.labelNames({ matchers: ['{service_name='], start, end }), (e) => e instanceof ConnectError && e.code === Code.InvalidArgument);
  });

  it('Diff and /pyroscope/render-diff align both sides with their own totals', { timeout: 60_000 }, async () => {
    const type = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
    const left = service('go_cpu_with_labels.pb.gz');
    const right = service('go_cpu_truncated_stacks.pb.gz');
    const side = (svc) => ({ profileTypeID: type, labelSelector: `{service_name="${svc}"}`, start, end, maxNodes: 1_048_576n });
    const res = await createClient(Querier, connect()).diff({ left: side(left), right: side(right) }, { timeoutMs: 30_000 });
    const fg = res.flamegraph;
    const leftTotal = cellValue(pprofTop([path.join(PPROF_DIR, 'go_cpu_with_labels.pb.gz')], { sampleIndex: 'cpu', unit: 'ns' }).total);
    const rightTotal = cellValue(pprofTop([path.join(PPROF_DIR, 'go_cpu_truncated_stacks.pb.gz')], { sampleIndex: 'cpu', unit: 'ns' }).total);
    assert.equal(Number(fg.leftTicks), leftTotal);
    assert.equal(Number(fg.rightTicks), rightTotal);
    assert.equal(Number(fg.total), leftTotal + rightTotal);
    const root = fg.levels[0].values.map(Number);
    assert.deepEqual(root, [0, leftTotal, 0, 0, rightTotal, 0, 0]);
    // Every level's left and right selves add up to each side's total.
    let leftSelf = 0;
    let rightSelf = 0;
    for (const l of fg.levels) for (let i = 0; i + 6 < l.values.length; i += 7) { leftSelf += Number(l.values[i + 2]); rightSelf += Number(l.values[i + 5]); }
    assert.equal(leftSelf, leftTotal);
    assert.equal(rightSelf, rightTotal);
    const q = (svc) => encodeURIComponent(`${type}{service_name="${svc}"}`);
    const range = `From=${now - 3_600_000}`;
    const http = await call(embers(), `/pyroscope/render-diff?leftQuery=${q(left)}&left${range}&leftUntil=${now + 3_600_000}&rightQuery=${q(right)}&right${range}&rightUntil=${now + 3_600_000}&max-nodes=1000000`);
    assert.equal(http.status, 200, show(http));
    const body = http.json();
    assert.equal(body.metadata.format, 'double');
    assert.equal(body.leftTicks, leftTotal);
    assert.equal(body.rightTicks, rightTotal);
    const mismatch = await call(embers(), `/pyroscope/render-diff?leftQuery=${q(left)}&rightQuery=${encodeURIComponent(`memory:alloc_space:bytes:space:bytes{}`)}`);
    assert.equal(mismatch.status, 400, show(mismatch));
  });

  it('the stack-trace selector keeps only stacks under the call site', { timeout: 60_000 }, async () => {
    const file = 'go_cpu_with_labels.pb.gz';
    const svc = service(file);
    const type = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
    // The oracle: the value of samples whose root-first function names start with the call site.
    const p = decodeProfile(path.join(PPROF_DIR, file));
    const str = (i) => p.stringTable[Number(i)];
    const fn = new Map(p.function.map((f) => [f.id, str(f.name)]));
    const loc = new Map(p.location.map((l) => [l.id, l]));
    const rootFirst = (s) => s.locationId.slice().reverse().flatMap((id) => loc.get(id).line.slice().reverse().map((ln) => fn.get(ln.functionId)));
    const cpuIndex = p.sampleType.findIndex((t) => str(t.type) === 'cpu');
    const stacks = p.sample.map((s) => ({ names: rootFirst(s), value: Number(s.value[cpuIndex]) }));
    const callSite = stacks.find((s) => s.names.length >= 3).names.slice(0, 3);
    const want = stacks.filter((s) => callSite.every((n, i) => s.names[i] === n)).reduce((a, s) => a + s.value, 0);
    assert.ok(want > 0);
    const querier = createClient(Querier, connect());
    const sel = { callSite: callSite.map((name) => ({ name })) };
    const res = await querier.selectMergeStacktraces({ profileTypeID: type, labelSelector: `{service_name="${svc}"}`, start, end, stackTraceSelector: sel, maxNodes: 1_048_576n }, { timeoutMs: 30_000 });
    assert.equal(Number(res.flamegraph.total), want);
    const series = await querier.selectSeries({ profileTypeID: type, labelSelector: `{service_name="${svc}"}`, start, end, step: 3600, stackTraceSelector: sel }, { timeoutMs: 30_000 });
    assert.equal(series.series.reduce((s, x) => s + x.points.reduce((a, pt) => a + pt.value, 0), 0), want);
  });

  it('the span selector keeps only samples of the given spans', { timeout: 60_000 }, async () => {
    // The test file's span_id values ("239") are not span ids (16 hex digits, reference §9.1):
    // give its samples two real ones, alternating, and push that.
    const p = decodeProfile(path.join(PPROF_DIR, 'go_cpu_span_id.pb.gz'));
    const str = (i) => p.stringTable[Number(i)];
    const ids = ['00000000000000ef', '0000000000000abc'];
    const idIndex = ids.map((id) => { p.stringTable.push(id); return BigInt(p.stringTable.length - 1); });
    const cpuIndex = p.sampleType.findIndex((t) => str(t.type) === 'cpu');
    const want = [0, 0];
    let n = 0;
    for (const s of p.sample) {
      const span = s.label.find((l) => str(l.key) === 'span_id');
      if (!span) continue;
      span.str = idIndex[n % 2];
      want[n % 2] += Number(s.value[cpuIndex]);
      n++;
    }
    assert.ok(want[0] > 0 && want[1] > 0, 'test file has span_id labels');
    p.timeNanos = BigInt(now) * 1_000_000n;
    await createClient(Pusher, connect()).push({
      series: [{ labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: 'oracle-spans' }], samples: [{ rawProfile: toBinary(profileSchema, p), ID: 'spans' }] }],
    }, { timeoutMs: 20_000 });
    const querier = createClient(Querier, connect());
    const select = (spanSelector) => querier.selectMergeSpanProfile({
      profileTypeID: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds', labelSelector: '{service_name="oracle-spans"}',
      spanSelector, start, end, maxNodes: 1_048_576n,
    }, { timeoutMs: 30_000 });
    assert.equal(Number((await select([ids[0]])).flamegraph.total), want[0]);
    assert.equal(Number((await select([ids[1]])).flamegraph.total), want[1]);
    assert.equal(Number((await select(ids)).flamegraph.total), want[0] + want[1]);
    await assert.rejects(select(['xyz']), (e) => e instanceof ConnectError && e.code === Code.InvalidArgument && /span id/.test(e.message));
  });

  it('the profile-id selector keeps only the profiles pushed with those ids', { timeout: 60_000 }, async () => {
    const p = decodeProfile(path.join(PPROF_DIR, 'go_cpu_tiny.pb.gz'));
    const cpu = p.sampleType.findIndex((t) => p.stringTable[Number(t.type)] === 'cpu');
    p.timeNanos = BigInt(now) * 1_000_000n;
    const ids = ['3f2a5b1c-0000-4000-8000-000000000001', '3f2a5b1c-0000-4000-8000-000000000002'];
    const totals = [];
    const pusher = createClient(Pusher, connect());
    for (let k = 0; k < 2; k++) {
      p.sample.forEach((smp) => { smp.value[cpu] *= BigInt(k + 1); });
      totals.push(p.sample.reduce((sum, smp) => sum + Number(smp.value[cpu]), 0));
      await pusher.push({ series: [{ labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: 'oracle-ids' }],
        samples: [{ rawProfile: toBinary(profileSchema, p), ID: ids[k] }] }] }, { timeoutMs: 20_000 });
    }
    const querier = createClient(Querier, connect());
    const base = { profileTypeID: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds', labelSelector: '{service_name="oracle-ids"}', start, end, maxNodes: 1_048_576n };
    assert.equal(Number((await querier.selectMergeStacktraces(base, { timeoutMs: 30_000 })).flamegraph.total), totals[0] + totals[1]);
    for (let k = 0; k < 2; k++) {
      const fg = await querier.selectMergeStacktraces({ ...base, profileIdSelector: [ids[k].toUpperCase()] }, { timeoutMs: 30_000 });
      assert.equal(Number(fg.flamegraph.total), totals[k], `profile ${ids[k]}`);
      const pprof = await querier.selectMergeProfile({ ...base, profileIdSelector: [ids[k]] }, { timeoutMs: 30_000 });
      assert.equal(pprof.sample.reduce((sum, x) => sum + Number(x.value[0]), 0), totals[k]);
    }
    await assert.rejects(querier.selectMergeStacktraces({ ...base, profileIdSelector: ['not-a-uuid'] }),
      (e) => e instanceof ConnectError && e.code === Code.InvalidArgument && /profile id/.test(e.message));
  });

  it('AnalyzeQuery reports the objects, profiles and bytes a query reads', { timeout: 60_000 }, async () => {
    const svc = service('go_heap_large.pb.gz');
    const res = await createClient(Querier, connect()).analyzeQuery({ query: `memory:alloc_space:bytes:space:bytes{service_name="${svc}"}`, start, end }, { timeoutMs: 30_000 });
    const scope = res.queryScopes[0];
    assert.ok(Number(scope.blockCount) >= 1);
    assert.equal(Number(scope.profileCount) > 0, true);
    assert.ok(Number(scope.seriesCount) >= 1);
    assert.ok(Number(scope.profileBytes) > 0 && Number(scope.symbolBytes) > 0 && Number(scope.indexBytes) > 0);
    assert.equal(Number(res.queryImpact.totalBytesInTimeRange), Number(scope.indexBytes) + Number(scope.profileBytes) + Number(scope.symbolBytes));
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});

describe('a query over the per-query memory limit fails cleanly', { skip: haveTestdata ? false : `no testdata at ${PPROF_DIR}` }, () => {
  it('answers 429 with a message and keeps serving', { timeout: 60_000 }, async () => {
    const server = await startServer({ extraArgs: ['-validation.reject-older-than=0', '-segment-writer.segment-duration=100ms', '-query-backend.max-query-memory=65536'] });
    try {
      const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, compileDescriptorSet('google/v1/profile.proto')));
      profileSchema = registry.getMessage('google.v1.Profile');
      const p = decodeProfile(path.join(PPROF_DIR, 'go_heap_large.pb.gz'));
      const now = Date.now();
      p.timeNanos = BigInt(now) * 1_000_000n;
      const transport = createConnectTransport({ httpVersion: '1.1', baseUrl: server.baseUrl, useBinaryFormat: true });
      await createClient(pusherServiceDescriptor(), transport).push({
        series: [{ labels: [{ name: '__name__', value: 'memory' }, { name: 'service_name', value: 'big' }], samples: [{ rawProfile: toBinary(profileSchema, p), ID: 'x' }] }],
      }, { timeoutMs: 20_000 });
      const q = encodeURIComponent('memory:alloc_space:bytes:space:bytes{service_name="big"}');
      const res = await call(server, `/pyroscope/render?query=${q}&from=${now - 60_000}&until=${now + 60_000}`);
      assert.equal(res.status, 429, show(res));
      assert.match(res.text, /memory limit/);
      const ready = await call(server, '/ready');
      assert.equal(ready.status, 200);
    } finally {
      assert.equal(await stopCleanly(server), null);
    }
  });
});
