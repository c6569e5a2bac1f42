// The read path end to end through real clients: a real Go CPU profile (Pyroscope's test data) is
// pushed with push.v1.PusherService/Push, then queried back with querier.v1.QuerierService over
// Connect (SelectMergeStacktraces, SelectSeries) and with the legacy GET /pyroscope/render; and
// SelectHeatmap over synthetic profiles and spans of known values and times (last describe).
// Expected values are computed here, independently of Embers, by decoding the same pprof file
// with @bufbuild/protobuf and our google/v1/profile.proto: the flame graph total equals the sum
// of the profile's values of that type, self per function equals the profile's flat values, and
// the time series and the render timeline add up to the same total. Bad queries are 400s.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, it, before } from 'node:test';
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { Http2SessionManager, createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { EMBERS_SRC, call, show, stopCleanly, useEmbers } from './harness.mjs';
import { compileDescriptorSet, pusherServiceDescriptor, querierServiceDescriptor } from './protos.mjs';
import { encodeProfile, flameGraphStacks } from './synthetic_profiles.mjs';

const TESTDATA = process.env.EMBERS_TESTDATA || path.join(EMBERS_SRC, '..', 'shared', 'testdata');
const PPROF_DIR = path.join(TESTDATA, 'pyroscope', 'pprof');
const FILE = 'go_cpu_with_labels.pb.gz';
const haveTestdata = fs.existsSync(path.join(PPROF_DIR, FILE));

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const SAMPLES = 'process_cpu:samples:count:cpu:nanoseconds';
const SERVICE = 'query-e2e';

/** The profile decoded, with the expected total and flat value per function of each sample type. */
function expectedFromPprof(raw) {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, compileDescriptorSet('google/v1/profile.proto')));
  const p = fromBinary(registry.getMessage('google.v1.Profile'), zlib.gunzipSync(raw));
  const str = (i) => p.stringTable[Number(i)];
  const functions = new Map(p.function.map((f) => [f.id, str(f.name)]));
  const locations = new Map(p.location.map((l) => [l.id, l]));
  const leafName = (loc) => (loc.line.length > 0 ? functions.get(loc.line[0].functionId) : `0x${loc.address.toString(16)}`);
  const byType = {};
  p.sampleType.forEach((t, i) => {
    let total = 0;
    const flat = new Map();
    for (const s of p.sample) {
      const v = Number(s.value[i]);
      if (v === 0 || s.locationId.length === 0) continue;
      total += v;
      const name = leafName(locations.get(s.locationId[0]));
      flat.set(name, (flat.get(name) ?? 0) + v);
    }
    byType[`${str(t.type)}:${str(t.unit)}`] = { total, flat };
  });
  const timeMs = p.timeNanos > 0n ? Number(p.timeNanos / 1_000_000n) : Date.now();
  return { byType, timeMs };
}

/** Self value per function name, summed over every node of a flame graph's levels. */
function selfPerFunction(names, levels) {
  const out = new Map();
  for (let d = 1; d < levels.length; d++) {
    const l = levels[d];
    for (let i = 0; i + 3 < l.length; i += 4) {
      const self = Number(l[i + 2]);
      if (self === 0) continue;
      const name = names[Number(l[i + 3])];
      out.set(name, (out.get(name) ?? 0) + self);
    }
  }
  return out;
}

/** Checks the flamebearer layout: delta-decoded offsets nest inside a parent, totals add up. */
function checkLevels(levels, numTicks) {
  assert.deepEqual(levels[0].map(Number), [0, numTicks, 0, 0], 'root level');
  const abs = levels.map((l) => {
    const nodes = [];
    let end = 0;
    for (let i = 0; i + 3 < l.length; i += 4) {
      const x = end + Number(l[i]);
      nodes.push({ x, total: Number(l[i + 1]), self: Number(l[i + 2]), children: 0 });
      end = x + Number(l[i + 1]);
    }
    return nodes;
  });
  for (let d = 1; d < abs.length; d++) {
    for (const n of abs[d]) {
      const parent = abs[d - 1].find((p) => p.x <= n.x && n.x + n.total <= p.x + p.total);
      assert.ok(parent, `level ${d}: node at ${n.x} has no parent`);
      parent.children += n.total;
    }
  }
  for (const level of abs.slice(1)) for (const n of level) assert.equal(n.total, n.self + n.children);
}

describe('querier.v1 queries end to end', { skip: haveTestdata ? false : `no testdata at ${PPROF_DIR}` }, () => {
  // Test data is years old: disable the too-old check, as Pyroscope's own integration tests do.
  const embers = useEmbers({ extraArgs: ['-validation.reject-older-than=0', '-querier.max-query-lookback=0', '-segment-writer.segment-duration=100ms'] });
  let Pusher, Querier, expected, start, end;
  const raw = haveTestdata ? fs.readFileSync(path.join(PPROF_DIR, FILE)) : null;
  const connect = () => createConnectTransport({ httpVersion: '1.1', baseUrl: embers().baseUrl, useBinaryFormat: true });

  before(async () => {
    Pusher = pusherServiceDescriptor();
    Querier = querierServiceDescriptor();
    expected = expectedFromPprof(raw);
    start = expected.timeMs - 3_600_000;
    end = expected.timeMs + 3_600_000;
    await createClient(Pusher, connect()).push({
      series: [{
        labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: SERVICE }],
        samples: [{ rawProfile: raw, ID: 'e2e' }],
      }],
    }, { timeoutMs: 10_000 });
  });

  for (const [type, key] of [[CPU, 'cpu:nanoseconds'], [SAMPLES, 'samples:count']]) {
    it(`SelectMergeStacktraces ${type}: total and self per function equal the profile's`, { timeout: 30_000 }, async () => {
      const want = expected.byType[key];
      assert.ok(want && want.total > 0, `test profile has no ${key} values`);
      const res = await createClient(Querier, connect()).selectMergeStacktraces({
        profileTypeID: type, labelSelector: `{service_name="${SERVICE}"}`, start: BigInt(start), end: BigInt(end),
        maxNodes: 1_000_000n,
      }, { timeoutMs: 10_000 });
      const fg = res.flamegraph;
      assert.equal(Number(fg.total), want.total);
      const levels = fg.levels.map((l) => l.values);
      checkLevels(levels, want.total);
      assert.deepEqual(new Map([...selfPerFunction(fg.names, levels)].sort()), new Map([...want.flat].sort()));
    });
  }

  it('SelectMergeStacktraces truncates to max_nodes with an "other" node and the same total', { timeout: 30_000 }, async () => {
    const res = await createClient(Querier, connect()).selectMergeStacktraces({
      profileTypeID: CPU, labelSelector: `{service_name="${SERVICE}"}`, start: BigInt(start), end: BigInt(end), maxNodes: 5n,
    }, { timeoutMs: 10_000 });
    const fg = res.flamegraph;
    assert.equal(Number(fg.total), expected.byType['cpu:nanoseconds'].total);
    assert.ok(fg.names.includes('other'), `no "other" in ${fg.names}`);
    checkLevels(fg.levels.map((l) => l.values), Number(fg.total));
  });

  it('SelectMergeProfile with GoPGO keeps the leaf-most frames; the leaf self values and the total are the profile\'s', { timeout: 30_000 }, async () => {
    const want = expected.byType['cpu:nanoseconds'];
    const query = (goPgo) => createClient(Querier, connect()).selectMergeProfile({
      profileTypeID: CPU, labelSelector: `{service_name="${SERVICE}"}`, start: BigInt(start), end: BigInt(end),
      maxNodes: 10n, // GoPGO takes precedence over max_nodes (and the call site), as upstream
      stackTraceSelector: { callSite: [{ name: 'no.such.function' }], goPgo },
    }, { timeoutMs: 10_000 });
    const resolve = (p) => {
      const fn = new Map(p.function.map((f) => [f.id, p.stringTable[Number(f.name)]]));
      const loc = new Map(p.location.map((l) => [l.id, l]));
      return p.sample.map((smp) => ({ value: Number(smp.value[0]), frames: smp.locationId.map((id) => loc.get(id)), fn }));
    };
    let samples = resolve(await query({ keepLocations: 1 }));
    assert.ok(samples.every((x) => x.frames.length === 1), 'one location per sample');
    const flat = new Map();
    for (const x of samples) {
      const name = x.fn.get(x.frames[0].line[0].functionId);
      flat.set(name, (flat.get(name) ?? 0) + x.value);
    }
    assert.deepEqual(new Map([...flat].sort()), new Map([...want.flat].sort()));

    samples = resolve(await query({ keepLocations: 5, aggregateCallees: true }));
    assert.ok(samples.every((x) => x.frames.length >= 1 && x.frames.length <= 5), 'at most 5 locations');
    assert.ok(samples.every((x) => Number(x.frames[0].line[0]?.line ?? 0) === 0), 'leaf lines cleared');
    assert.ok(samples.some((x) => x.frames.length > 1 && Number(x.frames[1].line[0].line) > 0), 'caller lines kept');
    assert.equal(samples.reduce((a, x) => a + x.value, 0), want.total);
    assert.ok(samples.every((x) => x.fn.get(x.frames[0].line[0].functionId) !== 'other'), 'no max_nodes truncation');
  });

  it('SelectSeries: the points add up to the total', { timeout: 30_000 }, async () => {
    const res = await createClient(Querier, connect()).selectSeries({
      profileTypeID: CPU, labelSelector: `{service_name="${SERVICE}"}`, start: BigInt(start), end: BigInt(end), step: 15,
    }, { timeoutMs: 10_000 });
    assert.equal(res.series.length, 1);
    const sum = res.series[0].points.reduce((s, p) => s + p.value, 0);
    assert.equal(sum, expected.byType['cpu:nanoseconds'].total);
  });

  it('GET /pyroscope/render answers flamebearer JSON with the same total and a timeline', { timeout: 30_000 }, async () => {
    const q = encodeURIComponent(`${CPU}{service_name="${SERVICE}"}`);
    const res = await call(embers(), `/pyroscope/render?query=${q}&from=${start}&until=${end}&max-nodes=1000000`);
    assert.equal(res.status, 200, show(res));
    const body = res.json();
    const total = expected.byType['cpu:nanoseconds'].total;
    assert.equal(body.version, 1);
    assert.equal(body.flamebearer.numTicks, total);
    assert.equal(body.flamebearer.names[0], 'total');
    checkLevels(body.flamebearer.levels, total);
    assert.deepEqual(body.metadata, { format: 'single', spyName: '', sampleRate: 100, units: 'samples', name: 'cpu' });
    assert.equal(body.timeline.durationDelta, 15); // 2 h / 1500 → the 15 s minimum
    assert.equal(body.timeline.startTime, Math.floor(start / 1000));
    assert.equal(body.timeline.samples.length, Math.floor((Math.floor(end / 1000) - Math.floor(start / 1000)) / 15));
    assert.equal(body.timeline.samples.reduce((s, v) => s + v, 0), total);
    assert.equal(body.groups, null);
  });

  it('GET /pyroscope/render: a profile pushed a moment ago is in the newest step of the timeline', { timeout: 30_000 }, async () => {
    // Regression: the newest step's point (at its end, >= until) was dropped, so every sample
    // was 0 until the next step passed although the flame graph already counted the profile.
    const cpu = 70_000_000;
    await createClient(Pusher, connect()).push({
      series: [{
        labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: 'just-pushed' }],
        samples: [{ rawProfile: encodeProfile({ samples: [{ stack: ['main', 'work'], cpu, count: 7 }], timeMs: Date.now() - 1_000 }) }],
      }],
    }, { timeoutMs: 10_000 });
    const q = encodeURIComponent(`${CPU}{service_name="just-pushed"}`);
    for (const range of ['from=now-1h&until=now', 'from=now-3607s&until=now']) {
      const res = await call(embers(), `/pyroscope/render?query=${q}&${range}`);
      assert.equal(res.status, 200, show(res));
      const body = res.json();
      assert.equal(body.flamebearer.numTicks, cpu, range);
      const samples = body.timeline.samples;
      assert.equal(samples.reduce((a, v) => a + v, 0), cpu, `${range}: ${JSON.stringify(samples.slice(-3))}`);
      assert.ok(samples.slice(-2).includes(cpu), `${range}: in one of the newest steps: ${JSON.stringify(samples.slice(-3))}`);
    }
  });

  it('GET /pyroscope/render with groupBy splits the timeline by the label\'s values, "*" for series without it', { timeout: 30_000 }, async () => {
    // Expected per value of the `function` sample label, decoded here from the file.
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, compileDescriptorSet('google/v1/profile.proto')));
    const p = fromBinary(registry.getMessage('google.v1.Profile'), zlib.gunzipSync(raw));
    const str = (i) => p.stringTable[Number(i)];
    const cpu = p.sampleType.findIndex((t) => str(t.type) === 'cpu');
    const want = {};
    for (const smp of p.sample) {
      const l = smp.label.find((x) => str(x.key) === 'function');
      const key = l ? str(l.str) : '*';
      want[key] = (want[key] ?? 0) + Number(smp.value[cpu]);
    }
    const q = encodeURIComponent(`${CPU}{service_name="${SERVICE}"}`);
    const res = await call(embers(), `/pyroscope/render?query=${q}&from=${start}&until=${end}&groupBy=function`);
    assert.equal(res.status, 200, show(res));
    const body = res.json();
    const got = Object.fromEntries(Object.entries(body.groups).map(([k, t]) => [k, t.samples.reduce((a, v) => a + v, 0)]));
    assert.deepEqual(got, want);
    for (const t of Object.values(body.groups)) {
      assert.equal(t.durationDelta, 15);
      assert.equal(t.startTime, Math.floor(start / 1000));
    }
    assert.equal(body.flamebearer.numTicks, expected.byType['cpu:nanoseconds'].total);
  });

  it('bad queries are 400s with a message', { timeout: 30_000 }, async () => {
    const client = createClient(Querier, connect());
    const cases = [
      [{ profileTypeID: CPU, labelSelector: '{service_name=}', start: 1n, end: 2n }, /selector/],
      [{ profileTypeID: 'nope', labelSelector: '{}', start: 1n, end: 2n }, /profile-type/],
      [{ profileTypeID: CPU, labelSelector: '{}', start: 2n, end: 1n }, /before start/],
      [{ profileTypeID: CPU, labelSelector: '{}', start: 1n, end: BigInt(1 + 25 * 3_600_000) }, /exceeds the limit/],
      [{ profileTypeID: CPU, labelSelector: '{}', start: 1n, end: 2n, traceIdSelector: ['7c9e6679742544'] }, /invalid trace id .*32 hexadecimal/],
      [{ profileTypeID: CPU, labelSelector: '{}', start: 1n, end: 2n, traceIdSelector: ['0'.repeat(32)] }, /invalid trace id/],
      [{ profileTypeID: CPU, labelSelector: '{}', start: 1n, end: 2n, traceIdSelector: ['7c9e66797425440de944be07fc1f90ae'],
        spanSelector: ['00000000000000a1'] }, /cannot be combined/],
    ];
    for (const [req, message] of cases) {
      await assert.rejects(client.selectMergeStacktraces(req, { timeoutMs: 10_000 }), (err) => {
        assert.ok(err instanceof ConnectError, `${err}`);
        assert.equal(err.code, Code.InvalidArgument, err.message);
        assert.match(err.message, message);
        return true;
      });
    }
    for (const [step, message] of [[0, /positive/], [-1, /positive/], [1e20, /too large/]]) {
      await assert.rejects(client.selectSeries({ profileTypeID: CPU, labelSelector: '{}', start: 1n, end: 2n, step }, { timeoutMs: 10_000 }),
        (err) => err.code === Code.InvalidArgument && message.test(err.message), `step ${step}`);
    }
    const res = await call(embers(), `/pyroscope/render?query=${encodeURIComponent(`${CPU}{a=}`)}&from=now-1h&until=now`);
    assert.equal(res.status, 400, show(res));
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});

// SelectHeatmap over synthetic profiles of known values at known times. The expected grid is
// computed here from upstream's rules (slot = right edge of the step holding the profile on the
// start + k*step grid, clamped to [start, end]; 20 equal integer value buckets between the
// smallest and the largest value of the answer); the exemplars are checked against what was
// pushed and selected back by their profile or span id.
describe('querier.v1 SelectHeatmap end to end', () => {
  const embers = useEmbers({ extraArgs: ['-validation.reject-older-than=0', '-querier.max-query-lookback=0', '-segment-writer.segment-duration=100ms'] });
  const connect = () => createConnectTransport({ httpVersion: '1.1', baseUrl: embers().baseUrl, useBinaryFormat: true });
  const STEP = 60_000;
  const start = Date.now() - 600_000; // any millisecond: the grid is start + k*step
  const end = start + 300_000;
  const uuid = (i) => `7a3e0c55-0000-4000-8000-${String(i).padStart(12, '0')}`;
  // Individual profiles (service heatmap-e2e). Profile 5 has two samples with different thread
  // labels: two series, one profile, so one point of their summed value.
  const profiles = [
    { id: uuid(1), pod: 'a', at: start - 30_000, cpu: [10] },       // in the step before start: slot start
    { id: uuid(2), pod: 'a', at: start + 10_000, cpu: [20] },       // slot start+1m
    { id: uuid(3), pod: 'b', at: start + 60_000, cpu: [20] },       // slot start+1m (right edge inclusive)
    { id: uuid(4), pod: 'b', at: start + 61_000, cpu: [300] },      // slot start+2m
    { id: uuid(5), pod: 'a', at: start + 170_000, cpu: [100, 50] }, // slot start+3m, value 150
    { id: uuid(6), pod: 'b', at: start + 175_000, cpu: [160] },     // slot start+3m
    { id: uuid(7), pod: 'b', at: start + 200_000, cpu: [5] },       // slot start+4m
    { id: uuid(8), pod: 'b', at: start - 61_000, cpu: [999] },      // before the read (start - step): out
    { id: uuid(9), pod: 'a', at: end + 1_000, cpu: [999] },         // after end: out
  ].map((p) => ({ ...p, value: p.cpu.reduce((a, v) => a + v, 0) * 1_000_000 }));
  const counted = profiles.filter((p) => p.at >= start - STEP && p.at <= end);
  // Spans (service heatmap-spans-e2e): span a1 has two samples (different stacks) summed into one
  // point, a sample without a span counts in no span, c3 is in another slot.
  const SPANS = { a1: '00000000000000a1', b2: '00000000000000b2', c3: '00000000000000c3' };
  // Spans a1 and b2 belong to one trace, c3 to another (the trace_id label beside span_id).
  const TRACE_A = '7c9e66797425440de944be07fc1f90ae';
  const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';
  const TRACE_OF = { [SPANS.a1]: TRACE_A, [SPANS.b2]: TRACE_A, [SPANS.c3]: TRACE_B };
  const spanProfiles = [
    { id: uuid(11), at: start + 100_000, samples: [['x', 10, SPANS.a1], ['y', 20, SPANS.a1], ['x', 40, SPANS.b2], ['z', 5, null]] },
    { id: uuid(12), at: start + 250_000, samples: [['x', 70, SPANS.c3]] },
  ];
  const spans = [
    { span: SPANS.a1, at: start + 100_000, value: 30_000_000 },
    { span: SPANS.b2, at: start + 100_000, value: 40_000_000 },
    { span: SPANS.c3, at: start + 250_000, value: 70_000_000 },
  ];

  /** Upstream's slot of a timestamp: rounded up to the grid, clamped to [start, end rounded up]. */
  const slotOf = (t) => {
    const up = (x) => start + Math.ceil((x - start) / STEP) * STEP;
    return Math.min(Math.max(up(t), start), up(end));
  };
  /** Expected slots: timestamp → 20 counts, for points [{at, value}] on one shared value axis. */
  function expectedGrid(points, all = points) {
    let lo = Math.min(...all.map((p) => p.value));
    let hi = Math.max(0, ...all.map((p) => p.value));
    if (lo === hi) hi = lo + 1;
    const size = (hi - lo) / 20;
    const mins = Array.from({ length: 20 }, (_, i) => lo + Math.trunc(i * size));
    const maxs = Array.from({ length: 20 }, (_, i) => (i === 19 ? hi : lo + Math.trunc((i + 1) * size)));
    const bucketOf = (v) => {
      const i = mins.findIndex((m, k) => v >= m && v < maxs[k]);
      return i >= 0 ? i : 19;
    };
    const slots = new Map();
    for (const p of points) {
      const t = slotOf(p.at);
      if (!slots.has(t)) slots.set(t, new Array(20).fill(0));
      slots.get(t)[bucketOf(p.value)]++;
    }
    return { mins, slots: new Map([...slots].sort(([a], [b]) => a - b)) };
  }
  /** A series' slots as Map timestamp → counts, checking y_min and the slot order. */
  function gridOf(series, mins) {
    const out = new Map();
    let last = -Infinity;
    for (const slot of series.slots) {
      const t = Number(slot.timestamp);
      assert.ok(t > last, `slots sorted by time: ${t} after ${last}`);
      last = t;
      assert.deepEqual(slot.yMin, mins, `y_min of slot ${t}`);
      out.set(t, slot.counts);
    }
    return out;
  }
  const request = (extra) => ({
    profileTypeID: CPU, start: BigInt(start), end: BigInt(end), step: STEP / 1000, ...extra,
  });

  before(async () => {
    const Pusher = pusherServiceDescriptor();
    const push = async (service, extraLabels, p, samples) => createClient(Pusher, connect()).push({
      series: [{
        labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: service }, ...extraLabels],
        samples: [{ rawProfile: encodeProfile({ samples, timeMs: p.at }), ID: p.id }],
      }],
    }, { timeoutMs: 10_000 });
    for (const p of profiles) {
      await push('heatmap-e2e', [{ name: 'pod', value: p.pod }], p,
        p.cpu.map((ms, i) => ({ stack: ['main', `work${i}`], cpu: ms * 1_000_000, count: 1, labels: { thread: `t${i}` } })));
    }
    for (const p of spanProfiles) {
      await push('heatmap-spans-e2e', [], p,
        p.samples.map(([fn, ms, span]) => ({ stack: ['main', fn], cpu: ms * 1_000_000, count: 1, span, trace: TRACE_OF[span] })));
    }
  });

  it('individual profiles: one count per profile in its slot and value bucket; exemplars are stored profiles', { timeout: 30_000 }, async () => {
    const Querier = querierServiceDescriptor();
    const client = createClient(Querier, connect());
    const res = await client.selectHeatmap(request({
      labelSelector: '{service_name="heatmap-e2e"}', queryType: 1 /* INDIVIDUAL */, exemplarType: 2, /* INDIVIDUAL */
    }), { timeoutMs: 10_000 });
    assert.equal(res.series.length, 1);
    const want = expectedGrid(counted);
    assert.deepEqual(gridOf(res.series[0], want.mins), want.slots);
    for (const slot of res.series[0].slots) {
      const t = Number(slot.timestamp);
      const inSlot = counted.filter((p) => slotOf(p.at) === t);
      assert.equal(slot.counts.reduce((a, c) => a + c, 0), inSlot.length, `profiles in slot ${t}`);
      // One exemplar per non-empty cell: the largest profile of the cell, as pushed.
      assert.equal(slot.exemplars.length, slot.counts.filter((c) => c > 0).length, `exemplars of slot ${t}`);
      for (const ex of slot.exemplars) {
        const p = inSlot.find((x) => x.id === ex.profileId);
        assert.ok(p, `exemplar ${ex.profileId} is a profile pushed into slot ${t}`);
        assert.equal(Number(ex.value), p.value);
        assert.equal(Number(ex.timestamp), p.at);
        assert.equal(ex.labels.find((l) => l.name === 'pod')?.value, p.pod);
        assert.ok(!ex.labels.some((l) => l.name === 'thread') || p.cpu.length === 1, 'labels shared by the whole profile only');
        // It points at a stored profile: selecting it by id gives its value back.
        const fg = await client.selectMergeStacktraces({
          profileTypeID: CPU, labelSelector: '{service_name="heatmap-e2e"}', start: BigInt(start - STEP), end: BigInt(end),
          profileIdSelector: [ex.profileId],
        }, { timeoutMs: 10_000 });
        assert.equal(Number(fg.flamegraph.total), p.value, `profile ${ex.profileId} selected by id`);
      }
    }
    // Without an exemplar type there are none.
    const plain = await client.selectHeatmap(request({ labelSelector: '{service_name="heatmap-e2e"}', queryType: 1 }), { timeoutMs: 10_000 });
    assert.deepEqual(gridOf(plain.series[0], want.mins), want.slots);
    assert.ok(plain.series[0].slots.every((s) => s.exemplars.length === 0));
  });

  it('group_by splits series on one shared value axis; limit keeps the series with the most profiles', { timeout: 30_000 }, async () => {
    const client = createClient(querierServiceDescriptor(), connect());
    const res = await client.selectHeatmap(request({
      labelSelector: '{service_name="heatmap-e2e"}', queryType: 1, groupBy: ['pod'],
    }), { timeoutMs: 10_000 });
    assert.deepEqual(res.series.map((s) => s.labels.map((l) => `${l.name}=${l.value}`)), [['pod=a'], ['pod=b']]);
    for (const s of res.series) {
      const pod = s.labels[0].value;
      const want = expectedGrid(counted.filter((p) => p.pod === pod), counted);
      assert.deepEqual(gridOf(s, want.mins), want.slots, `pod ${pod}`);
    }
    const top = await client.selectHeatmap(request({
      labelSelector: '{service_name="heatmap-e2e"}', queryType: 1, groupBy: ['pod'], limit: 1n,
    }), { timeoutMs: 10_000 });
    assert.deepEqual(top.series.map((s) => s.labels[0].value), ['b']); // 4 profiles against 3
  });

  it('spans: one count per span (its samples summed); exemplars name spans that select their value', { timeout: 30_000 }, async () => {
    const client = createClient(querierServiceDescriptor(), connect());
    const res = await client.selectHeatmap(request({
      labelSelector: '{service_name="heatmap-spans-e2e"}', queryType: 2 /* SPAN */, exemplarType: 3, /* SPAN */
    }), { timeoutMs: 10_000 });
    assert.equal(res.series.length, 1);
    const want = expectedGrid(spans);
    assert.deepEqual(gridOf(res.series[0], want.mins), want.slots);
    let exemplars = 0;
    for (const slot of res.series[0].slots) {
      const t = Number(slot.timestamp);
      const inSlot = spans.filter((s) => slotOf(s.at) === t);
      assert.equal(slot.counts.reduce((a, c) => a + c, 0), inSlot.length, `spans in slot ${t}`);
      for (const ex of slot.exemplars) {
        exemplars++;
        const s = inSlot.find((x) => x.span === ex.spanId);
        assert.ok(s, `exemplar span ${ex.spanId} was pushed into slot ${t}`);
        assert.equal(Number(ex.value), s.value);
        assert.equal(ex.profileId, '', 'span exemplars name the span, as upstream');
        assert.equal(ex.traceId, TRACE_OF[ex.spanId], 'and its trace');
        const fg = await client.selectMergeSpanProfile({
          profileTypeID: CPU, labelSelector: '{service_name="heatmap-spans-e2e"}', start: BigInt(start - STEP), end: BigInt(end),
          spanSelector: [ex.spanId],
        }, { timeoutMs: 10_000 });
        assert.equal(Number(fg.flamegraph.total), s.value, `span ${ex.spanId} selected`);
      }
    }
    assert.equal(exemplars, 3);
    // The same profiles as individual profiles: two, whatever their spans.
    const individual = await client.selectHeatmap(request({ labelSelector: '{service_name="heatmap-spans-e2e"}', queryType: 1 }), { timeoutMs: 10_000 });
    const counts = individual.series[0].slots.map((s) => s.counts.reduce((a, c) => a + c, 0));
    assert.deepEqual(counts, [1, 1]);
  });

  it('trace_id_selector keeps the samples of the given traces (SelectMergeStacktraces, SelectMergeProfile, Diff)', { timeout: 30_000 }, async () => {
    const client = createClient(querierServiceDescriptor(), connect());
    const q = (traceIdSelector) => ({
      profileTypeID: CPU, labelSelector: '{service_name="heatmap-spans-e2e"}', start: BigInt(start - STEP), end: BigInt(end),
      traceIdSelector, maxNodes: 1_048_576n,
    });
    // What was pushed, by trace: cpu ms per function.
    const want = (traces) => {
      const byFn = {};
      for (const p of spanProfiles) {
        for (const [fn, ms, span] of p.samples) if (traces.includes(TRACE_OF[span])) byFn[fn] = (byFn[fn] ?? 0) + ms * 1_000_000;
      }
      return byFn;
    };
    for (const traces of [[TRACE_A], [TRACE_B], [TRACE_A, TRACE_B], ['00000000000000000000000000000001']]) {
      const fg = await client.selectMergeStacktraces(q(traces), { timeoutMs: 10_000 });
      const got = {};
      for (const [stack, self] of flameGraphStacks(fg.flamegraph)) got[stack.split(';').pop()] = self;
      assert.deepEqual(got, want(traces), `flame graph of ${traces}`);
      const pprof = await client.selectMergeProfile(q(traces), { timeoutMs: 10_000 });
      const total = pprof.sample.reduce((a, x) => a + Number(x.value[0]), 0);
      assert.equal(total, Object.values(want(traces)).reduce((a, v) => a + v, 0), `pprof of ${traces}`);
    }
    // Diff: trace A on the left, B on the right.
    const diff = await client.diff({ left: q([TRACE_A]), right: q([TRACE_B]) }, { timeoutMs: 10_000 });
    assert.equal(Number(diff.flamegraph.leftTicks), 70_000_000);
    assert.equal(Number(diff.flamegraph.rightTicks), 70_000_000);
  });

  it('is served over gRPC on the gRPC port too', { timeout: 30_000 }, async () => {
    const baseUrl = `http://${embers().grpcAddress}`;
    const sessionManager = new Http2SessionManager(baseUrl);
    try {
      const client = createClient(querierServiceDescriptor(), createGrpcTransport({ baseUrl, sessionManager }));
      const res = await client.selectHeatmap(request({ labelSelector: '{service_name="heatmap-e2e"}', queryType: 1 }), { timeoutMs: 10_000 });
      const want = expectedGrid(counted);
      assert.deepEqual(gridOf(res.series[0], want.mins), want.slots);
    } finally {
      sessionManager.abort();
    }
  });

  it('bad requests are 400 (InvalidArgument) with a message', { timeout: 30_000 }, async () => {
    const good = { profileTypeID: CPU, labelSelector: '{}', start, end, step: 60, queryType: 'HEATMAP_QUERY_TYPE_INDIVIDUAL' };
    const cases = [
      [{ step: 0 }, /step must be >= 1ms/],
      [{ step: 0.0005 }, /step must be >= 1ms/],
      [{ limit: -1 }, /limit must be non-negative/],
      [{ end: start }, /start time must be before end time/],
      [{ start: end, end: start }, /start time must be before end time/],
      [{ profileTypeID: 'nope' }, /profile-type/],
      [{ queryType: 'HEATMAP_QUERY_TYPE_UNSPECIFIED' }, /valid heatmap query type must be specified/],
      [{ exemplarType: 'EXEMPLAR_TYPE_SPAN' }, /span exemplars only available for span query type/],
      [{ queryType: 'HEATMAP_QUERY_TYPE_SPAN', exemplarType: 'EXEMPLAR_TYPE_INDIVIDUAL' }, /individual exemplars only available/],
    ];
    for (const [change, message] of cases) {
      const res = await call(embers(), '/querier.v1.QuerierService/SelectHeatmap', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...good, ...change }),
      });
      assert.equal(res.status, 400, `${JSON.stringify(change)}: ${show(res)}`);
      assert.equal(res.json().code, 'invalid_argument', show(res));
      assert.match(res.json().message, message);
    }
    const res = await call(embers(), '/querier.v1.QuerierService/SelectHeatmap', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(good),
    });
    assert.equal(res.status, 200, show(res));
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});
