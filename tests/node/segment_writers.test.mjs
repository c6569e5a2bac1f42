// The write path across processes (reference §3–4): a `-target=distributor` process sends each
// shard's profiles over gRPC to the segment-writers of -distributor.segment-writer-addresses. The
// list holds a dead address and a live `-target=all` process, 4 tokens each, so shards 0–3 belong to
// the dead writer: their pushes must fall back to the live one *keeping their shard id* (objects
// appear under segments/<0..3>/), every acknowledged push must be queryable, and after enough
// failures the dead writer's circuit breaker must open (pushes skip it without trying).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { EMBERS_SRC, call, freePort, startServer, stopCleanly } from './harness.mjs';
import { compileDescriptorSet, pusherServiceDescriptor, querierServiceDescriptor } from './protos.mjs';

const TESTDATA = process.env.EMBERS_TESTDATA || path.join(EMBERS_SRC, '..', 'shared', 'testdata');
const FILE = path.join(TESTDATA, 'pyroscope', 'pprof', 'go_cpu_tiny.pb.gz');
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const SERVICES = 24;

describe('a distributor process with remote segment-writers', { skip: fs.existsSync(FILE) ? false : `no testdata at ${FILE}` }, () => {
  it('falls back to the next writer with the same shard id and opens the dead writer\'s breaker', { timeout: 120_000 }, async () => {
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, compileDescriptorSet('google/v1/profile.proto')));
    const schema = registry.getMessage('google.v1.Profile');
    const writer = await startServer({ extraArgs: ['-target=all', '-segment-writer.segment-duration=100ms'] });
    const dead = `127.0.0.1:${await freePort()}`;
    const distributor = await startServer({ extraArgs: ['-target=distributor', `-distributor.segment-writer-addresses=${dead},${writer.internalAddress}`,
      '-distributor.ingestion-rate-limit-mb=0'] });
    try {
      const profile = fromBinary(schema, zlib.gunzipSync(fs.readFileSync(FILE)));
      const cpu = profile.sampleType.findIndex((t) => profile.stringTable[Number(t.type)] === 'cpu');
      const perPush = profile.sample.reduce((s, x) => s + Number(x.value[cpu]), 0);
      const now = Date.now();
      profile.timeNanos = BigInt(now) * 1_000_000n;
      const raw = toBinary(schema, profile);
      const pusher = createClient(pusherServiceDescriptor(), createConnectTransport({ httpVersion: '1.1', baseUrl: distributor.baseUrl, useBinaryFormat: true }));
      // Many services spread over all 8 shards; pushes one at a time so the breaker sees them.
      for (let i = 0; i < SERVICES; i++) {
        await pusher.push({ series: [{ labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: `svc-${i}` }], samples: [{ rawProfile: raw, ID: `p${i}` }] }] }, { timeoutMs: 20_000 });
      }

      // Every push is stored, on shard ids of both writers.
      const querier = createClient(querierServiceDescriptor(), createConnectTransport({ httpVersion: '1.1', baseUrl: writer.baseUrl, useBinaryFormat: true }));
      const fg = await querier.selectMergeStacktraces({ profileTypeID: CPU, labelSelector: '{service_name=~"svc-.*"}', start: BigInt(now - 60_000), end: BigInt(now + 60_000) }, { timeoutMs: 30_000 });
      assert.equal(Number(fg.flamegraph.total), SERVICES * perPush);
      const shards = fs.readdirSync(path.join(writer.dir, 'data', 'segments')).map(Number).sort((a, b) => a - b);
      assert.ok(shards.some((s) => s < 4), `fallback kept the dead writer's shard ids: ${shards}`);
      assert.ok(shards.some((s) => s >= 4), `the live writer's own shards are used: ${shards}`);
      assert.ok(shards.every((s) => s < 8), `8 shards in all: ${shards}`);

      const metrics = (await call(distributor, '/metrics')).text;
      const count = (outcome) => metrics.split('\n').filter((l) => l.startsWith('embers_distributor_segment_writer_requests_total') && l.includes(`writer="${dead}"`) && l.includes(`outcome="${outcome}"`))
        .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
      assert.ok(count('error') >= 5, `the dead writer was tried: ${count('error')}`);
      assert.ok(count('skipped') > 0, 'its circuit breaker opened and pushes skipped it');
    } finally {
      assert.equal(await stopCleanly(distributor), null);
      assert.equal(await stopCleanly(writer), null);
    }
  });
});
