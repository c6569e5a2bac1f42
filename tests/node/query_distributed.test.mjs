// Query plans split among query-backend processes (reference §8.2–8.3): two `embers
// -target=query-backend` processes and one `-target=all` process whose query-frontend sends them
// the plan (-query-backend.address, which also lists a dead address), all three on one filesystem
// bucket. Twelve pushes of a real Go CPU profile (push i adds i to every value) become twelve
// objects of one shard; a query sends each shard's objects as one share (the scope in which a
// retried push is de-duplicated), so the five queries below go round-robin over the three
// addresses: flame graph, pprof, series totals and heatmap counts must count every push exactly
// once, both backends must have served Invoke calls (their /metrics), and a share sent to the dead
// address must have been retried elsewhere.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, it, after } from 'node:test';
import { createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { EMBERS_SRC, call, freePort, startServer, stopCleanly } from './harness.mjs';
import { compileDescriptorSet, pusherServiceDescriptor, querierServiceDescriptor } from './protos.mjs';

const TESTDATA = process.env.EMBERS_TESTDATA || path.join(EMBERS_SRC, '..', 'shared', 'testdata');
const FILE = path.join(TESTDATA, 'pyroscope', 'pprof', 'go_cpu_with_labels.pb.gz');
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const PUSHES = 12;

describe('a query plan split among query-backend processes', { skip: fs.existsSync(FILE) ? false : `no testdata at ${FILE}` }, () => {
  const bucket = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-shared-bucket-'));
  const servers = [];
  after(async () => {
    for (const s of servers) await s.kill?.();
  });

  const start = async (args) => {
    const s = await startServer({ extraArgs: [`-storage.filesystem.dir=${bucket}`, ...args] });
    servers.push(s);
    return s;
  };
  const transport = (s) => createConnectTransport({ httpVersion: '1.1', baseUrl: s.baseUrl, useBinaryFormat: true });
  const invokes = async (s) => {
    const res = await call(s, '/metrics');
    const line = res.text.split('\n').find((l) => l.startsWith('embers_rpc_requests_total') && l.includes('QueryBackendService/Invoke') && l.includes('code="OK"'));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('merges the shares of both backends into the right answer, past a dead backend', { timeout: 120_000 }, async () => {
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, compileDescriptorSet('google/v1/profile.proto')));
    const schema = registry.getMessage('google.v1.Profile');
    const b1 = await start(['-target=query-backend']);
    const b2 = await start(['-target=query-backend']);
    // Shares go round-robin to three addresses; one sent to the dead one is retried elsewhere.
    const dead = `127.0.0.1:${await freePort()}`;
    const frontend = await start(['-target=all', `-query-backend.address=${b1.internalAddress},${dead},${b2.internalAddress}`,
      '-validation.reject-older-than=0', '-segment-writer.segment-duration=50ms', '-distributor.ingestion-rate-limit-mb=0']);

    const profile = fromBinary(schema, zlib.gunzipSync(fs.readFileSync(FILE)));
    const cpu = profile.sampleType.findIndex((t) => profile.stringTable[Number(t.type)] === 'cpu');
    const original = profile.sample.map((s) => s.value.slice());
    const base = original.reduce((sum, v) => sum + Number(v[cpu]), 0);
    const now = Date.now();
    const pusher = createClient(pusherServiceDescriptor(), transport(frontend));
    let total = 0;
    const ids = Array.from({ length: PUSHES }, (_, i) => `5d0c7e11-0000-4000-8000-${String(i).padStart(12, '0')}`);
    for (let i = 0; i < PUSHES; i++) {
      // Push i adds i to every value: totals tell whether every object was read exactly once.
      profile.timeNanos = BigInt(now - i * 1000) * 1_000_000n;
      profile.sample.forEach((s, k) => { s.value = original[k].map((v) => v + BigInt(i)); });
      total += base + i * profile.sample.length;
      await pusher.push({ series: [{ labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: 'split' }], samples: [{ rawProfile: toBinary(schema, profile), ID: ids[i] }] }] }, { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 80)); // one segment, so one object, per push
    }
    const query = { profileTypeID: CPU, labelSelector: '{service_name="split"}', start: BigInt(now - 3_600_000), end: BigInt(now + 60_000), maxNodes: 1_048_576n };
    const querier = createClient(querierServiceDescriptor(), transport(frontend));
    const fg = await querier.selectMergeStacktraces(query, { timeoutMs: 30_000 });
    assert.equal(Number(fg.flamegraph.total), total, 'flame graph total over every push');
    const pprof = await querier.selectMergeProfile(query, { timeoutMs: 30_000 });
    assert.equal(pprof.sample.reduce((s, x) => s + Number(x.value[0]), 0), total, 'pprof total');
    const series = await querier.selectSeries({ ...query, step: 60 }, { timeoutMs: 30_000 });
    assert.equal(series.series[0].points.reduce((s, p) => s + p.value, 0), total, 'series total');
    // Heatmap values travel in the report codec: each push (split into series by its sample
    // labels, one id) counts once, and each exemplar is one of the pushes.
    const heatmap = await querier.selectHeatmap({ ...query, step: 60, queryType: 1, exemplarType: 2 }, { timeoutMs: 30_000 });
    const slots = heatmap.series.flatMap((x) => x.slots);
    assert.equal(slots.reduce((s, slot) => s + slot.counts.reduce((a, c) => a + c, 0), 0), PUSHES, 'heatmap count');
    assert.ok(slots.every((slot) => slot.exemplars.every((e) => ids.includes(e.profileId))), 'heatmap exemplars are pushes');
    const names = await querier.labelValues({ name: 'service_name', start: query.start, end: query.end }, { timeoutMs: 30_000 });
    assert.deepEqual(names.names, ['split']);
    assert.ok(await invokes(b1) > 0, 'backend 1 served shares');
    assert.ok(await invokes(b2) > 0, 'backend 2 served shares');
    for (const s of [frontend, b1, b2]) assert.equal(await stopCleanly(s), null);
  });
});
