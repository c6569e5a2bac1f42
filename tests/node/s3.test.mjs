// The S3 backend end to end (issue 13): embers with -storage.backend=s3 on a real s3rver (started
// here, through s3rver_s3_semantics.cjs), push then query, the objects it wrote read back with the
// AWS SDK, a restart that queries the same data again; a wrong access key, a missing bucket and an
// unreachable endpoint each keep /ready at 503 with one clear error, and a bucket created later is
// picked up without a restart.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, before, after } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { bucketObjects, call, freeStablePort, show, startServer, stopCleanly, waitReady } from './harness.mjs';
import { checkOneErrorThenCleanStop, flameGraphTotal, startUnready } from './store_checks.mjs';
import { startS3rver } from './s3rver.mjs';
import { encodeProfile } from './synthetic_profiles.mjs';

const BUCKET = 'embers';

describe('S3 backend on s3rver', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-s3-'));
  let s3rver;
  let sdk;
  let embers;
  let ports;
  const s3Args = (overrides = {}) => Object.entries({
    'storage.backend': 's3', 'storage.s3.endpoint': s3rver.endpoint, 'storage.s3.bucket-name': BUCKET,
    'storage.s3.insecure': 'true', 'storage.s3.force-path-style': 'true',
    'storage.s3.access-key-id': 'S3RVER', 'storage.s3.secret-access-key': 'S3RVER', ...overrides,
  }).map(([k, v]) => `-${k}=${v}`);
  const common = ['-validation.reject-older-than=0', '-segment-writer.segment-duration=100ms'];
  const json = (method, pathname, body) => call(embers, pathname, {
    method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const total = () => flameGraphTotal(embers, 's3-svc');

  before(async () => {
    s3rver = await startS3rver(path.join(dir, 's3rver'), BUCKET);
    sdk = new S3Client({
      endpoint: `http://${s3rver.endpoint}`, region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  });
  after(async () => {
    if (embers) await embers.kill();
    s3rver?.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pushes go to the bucket and queries read them back', { timeout: 60_000 }, async () => {
    ports = { raft: await freeStablePort() };
    fs.mkdirSync(path.join(dir, 'embers'), { recursive: true });
    embers = await startServer({ extraArgs: [...s3Args(), ...common], dir: path.join(dir, 'embers'), ports });
    ports = { http: embers.httpPort, grpc: embers.grpcPort, internal: embers.internalPort, raft: embers.ports.raft };
    const res = await json('POST', '/push.v1.PusherService/Push', {
      series: [{
        labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: 's3-svc' }],
        samples: [{ rawProfile: Buffer.from(encodeProfile({ samples: [{ stack: ['main', 'work'], cpu: 30_000_000, count: 3 }], timeMs: Date.now() - 1000 })).toString('base64') }],
      }],
    });
    assert.equal(res.status, 200, show(res));
    assert.equal(await total(), 30_000_000);
    // No object on the local disk (only the compaction-worker's scratch directory): the segment is
    // in s3rver (read back in the next test).
    assert.deepEqual(bucketObjects(path.join(dir, 'embers')), []);
    const config = await call(embers, '/config');
    assert.ok(!config.text.includes('secret_access_key: S3RVER'), 'the secret shows in /config');
    // What the store cost, on /metrics: the segment's PUT and the query's reads, with their bytes.
    const metrics = (await call(embers, '/metrics')).text;
    const value = (series) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
    assert.ok(value('embers_objstore_operations_total{backend="s3",operation="put",result="OK"}') >= 1, 'PUTs counted');
    assert.ok(value('embers_objstore_bytes_total{backend="s3",operation="put"}') > 0, 'bytes written counted');
    assert.ok(value('embers_objstore_operation_duration_seconds_count{backend="s3",operation="put"}') >= 1, 'PUTs timed');
    // The query read through the read cache and the hedging layer, then asked the store.
    assert.ok(value('embers_objstore_read_cache_lookups_total{result="miss"}') >= 1, 'read cache consulted');
    assert.ok(value('embers_objstore_hedged_reads_total{outcome="first"}') >= 1, 'reads go through the hedging layer');
    assert.ok(value('embers_objstore_operations_total{backend="s3",operation="get_range",result="OK"}') >= 1, 'ranged reads counted');
  });

  it('the objects embers wrote read back with the AWS SDK', { timeout: 30_000 }, async () => {
    const listed = await sdk.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'segments/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key);
    assert.ok(keys.length >= 1 && keys.every((k) => k.endsWith('/block.bin')), `segments: ${keys}`);
    for (const key of keys) {
      const head = await sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      const got = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const bytes = Buffer.from(await got.Body.transformToByteArray());
      assert.ok(bytes.length > 0);
      assert.equal(bytes.length, head.ContentLength);
      // The same bytes as s3rver stored on its disk.
      const onDisk = fs.readFileSync(path.join(dir, 's3rver', BUCKET, `${key}._S3rver_object`));
      assert.ok(bytes.equals(onDisk), key);
    }
  });

  it('a restart serves the same data from the bucket', { timeout: 60_000 }, async () => {
    assert.equal(await stopCleanly(embers), null);
    embers = await startServer({ extraArgs: [...s3Args(), ...common], dir: path.join(dir, 'embers'), ports });
    assert.equal(await total(), 30_000_000);
  });

  const unready = (overrides, expected) =>
    startUnready([...s3Args(overrides), ...common], expected, /opening S3 bucket s3:\/\//);

  for (const [what, overrides, expected] of [
    ['an unknown access key', { 'storage.s3.access-key-id': 'WRONG' }, /InvalidAccessKeyId.*-storage\.s3\.access-key-id/],
    ['a missing bucket', { 'storage.s3.bucket-name': 'no-such-bucket' }, /NoSuchBucket.*-storage\.s3\.bucket-name/],
    ['an unreachable endpoint', { 'storage.s3.endpoint': '127.0.0.1:1' }, /UNAVAILABLE.*127\.0\.0\.1:1/],
  ]) {
    it(`${what} keeps /ready at 503 with one clear error`, { timeout: 60_000 }, async () => {
      await checkOneErrorThenCleanStop(await unready(overrides, expected));
    });
  }

  it('becomes ready by itself once the missing bucket exists', { timeout: 90_000 }, async () => {
    const name = 'created-later';
    const server = await unready({ 'storage.s3.bucket-name': name }, /NoSuchBucket/);
    try {
      await sdk.send(new CreateBucketCommand({ Bucket: name }));
      await waitReady(server);
      const res = await call(server, '/push.v1.PusherService/Push', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ series: [{
          labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: 'late' }],
          samples: [{ rawProfile: Buffer.from(encodeProfile({ samples: [{ stack: ['main'], cpu: 10_000_000, count: 1 }], timeMs: Date.now() - 1000 })).toString('base64') }],
        }] }),
      });
      assert.equal(res.status, 200, show(res));
      assert.match(server.logTail(1 << 20), /the bucket opened after failed attempts/);
    } finally {
      await server.kill();
    }
  });
});
