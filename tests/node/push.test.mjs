// The write path end to end through real clients: real pprof files (from Pyroscope's test data)
// pushed with push.v1.PusherService/Push over the Connect protocol (@connectrpc/connect-node, proto
// and JSON) and over gRPC (@grpc/grpc-js) are acknowledged, land in an object under segments/ in
// the filesystem bucket, and their profile types are then listed by QuerierService/ProfileTypes.
// Bad pushes get a 400 with a message and leave nothing behind.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, before } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { EMBERS_SRC, stopCleanly, useEmbers } from './harness.mjs';
import { PUSH_PROTO, loadGrpcPackage, pusherServiceDescriptor, querierServiceDescriptor } from './protos.mjs';

const TESTDATA = process.env.EMBERS_TESTDATA || path.join(EMBERS_SRC, '..', 'shared', 'testdata');
const PPROF_DIR = path.join(TESTDATA, 'pyroscope', 'pprof');
const haveTestdata = fs.existsSync(PPROF_DIR);

function listFiles(dir) {
  const out = [];
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

describe('push.v1 Push end to end', { skip: haveTestdata ? false : `no testdata at ${PPROF_DIR}` }, () => {
  // Test data is years old: disable the too-old check, as Pyroscope's own integration tests do.
  const embers = useEmbers({ extraArgs: ['-validation.reject-older-than=0', '-segment-writer.segment-duration=100ms', '-distributor.ingestion-rate-limit-mb=0'] });
  let Pusher, Querier;
  before(() => { Pusher = pusherServiceDescriptor(); Querier = querierServiceDescriptor(); });

  const connect = (binary) => createConnectTransport({ httpVersion: '1.1', baseUrl: embers().baseUrl, useBinaryFormat: binary });
  const series = (service, file, name = 'process_cpu') => ({
    labels: [{ name: '__name__', value: name }, { name: 'service_name', value: service }],
    samples: [{ rawProfile: fs.readFileSync(path.join(PPROF_DIR, file)), ID: 'e2e' }],
  });

  it('Connect (proto) push of a Go CPU profile is acknowledged and written to the bucket', { timeout: 30_000 }, async () => {
    const res = await createClient(Pusher, connect(true)).push({ series: [series('connect-proto', 'go_cpu_tiny.pb.gz')] }, { timeoutMs: 10_000 });
    assert.ok(res, 'empty PushResponse');
    const objects = listFiles(path.join(embers().dir, 'data', 'segments'));
    assert.ok(objects.some((f) => f.endsWith('block.bin')), `no segment object in ${objects}`);
  });

  it('Connect (JSON) push is acknowledged', { timeout: 30_000 }, async () => {
    await createClient(Pusher, connect(false)).push({ series: [series('connect-json', 'go_cpu_with_labels.pb.gz')] }, { timeoutMs: 10_000 });
  });

  it('gRPC push is acknowledged', { timeout: 30_000 }, async () => {
    const pkg = loadGrpcPackage(PUSH_PROTO);
    const client = new pkg.push.v1.PusherService(`127.0.0.1:${embers().grpcPort}`, grpc.credentials.createInsecure());
    try {
      await new Promise((resolve, reject) => {
        // proto-loader keeps the proto field names (raw_profile), unlike Connect's camelCase.
        const s = series('grpc', 'nodejs_heap.pb.gz', 'memory');
        const req = { series: [{ labels: s.labels, samples: [{ raw_profile: s.samples[0].rawProfile, ID: 'e2e' }] }] };
        client.Push(req, { deadline: Date.now() + 10_000 },
          (err, res) => (err ? reject(err) : resolve(res)));
      });
    } finally {
      client.close();
    }
  });

  it('ProfileTypes lists the types of what was pushed', { timeout: 30_000 }, async () => {
    const res = await createClient(Querier, connect(true)).profileTypes({ start: 1n, end: BigInt(Date.now()) }, { timeoutMs: 10_000 });
    const ids = res.profileTypes.map((t) => t.ID).sort();
    for (const want of ['process_cpu:cpu:nanoseconds:cpu:nanoseconds', 'process_cpu:samples:count:cpu:nanoseconds',
      'memory:inuse_space:bytes:inuse_space:bytes', 'memory:inuse_objects:count:inuse_space:bytes']) {
      assert.ok(ids.includes(want), `${want} missing from ${ids}`);
    }
  });

  it('a push whose profile is not pprof is a 400 Connect error with a message', { timeout: 30_000 }, async () => {
    const bad = { labels: [{ name: 'service_name', value: 'x' }], samples: [{ rawProfile: Buffer.from([0xff, 0xff, 0xff]), ID: '' }] };
    await assert.rejects(createClient(Pusher, connect(true)).push({ series: [bad] }, { timeoutMs: 10_000 }), (err) => {
      assert.ok(err instanceof ConnectError, `${err}`);
      assert.equal(err.code, Code.InvalidArgument, err.message);
      assert.match(err.message, /series 0 sample 0/);
      return true;
    });
  });

  it('the invalid UTF-8 profile from the test data is rejected with 400', { timeout: 30_000 }, async () => {
    await assert.rejects(createClient(Pusher, connect(true)).push({ series: [series('utf8', 'invalid_utf8.pb.gz')] }, { timeoutMs: 10_000 }),
      (err) => err instanceof ConnectError && err.code === Code.InvalidArgument);
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});
