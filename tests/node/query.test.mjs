// The read path end to end through real clients: a real Go CPU profile (Pyroscope's test data) is
// pushed with push.v1.PusherService/Push, then queried back with querier.v1.QuerierService over
// Connect (SelectMergeStacktraces, SelectSeries) and with the legacy GET /pyroscope/render.
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
import { createConnectTransport } from '@connectrpc/connect-node';
import { EMBERS_SRC, call, show, stopCleanly, useEmbers } from './harness.mjs';
import { compileDescriptorSet, pusherServiceDescriptor, querierServiceDescriptor } from './protos.mjs';
import { encodeProfile } from './synthetic_profiles.mjs';

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
    ];
    for (const [req, message] of cases) {
      await assert.rejects(client.selectMergeStacktraces(req, { timeoutMs: 10_000 }), (err) => {
        assert.ok(err instanceof ConnectError, `${err}`);
        assert.equal(err.code, Code.InvalidArgument, err.message);
        assert.match(err.message, message);
        return true;
      });
    }
    const res = await call(embers(), `/pyroscope/render?query=${encodeURIComponent(`${CPU}{a=}`)}&from=now-1h&until=now`);
    assert.equal(res.status, 400, show(res));
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});
