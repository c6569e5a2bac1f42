// Retention that deletes (issue "Compaction, retention that deletes…", Must show): tenant
// `brief` keeps data 1 h (-retention-period-per-tenant), tenant `keeper` forever. Both push
// profiles 13 h old and fresh ones; a first server without retention shows all of it. After a
// restart with retention on (cleanup every second, deletion delay 1 s) and compaction, `brief`'s
// old data is gone from queries, from its tenant stats, from the index (no old block left) and
// from the bucket (no object holds it), and no tombstone is left; its fresh data and every byte
// of `keeper` are untouched.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, after } from 'node:test';
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { bucketObjects, call, startServer, stopCleanly } from './harness.mjs';
import { compileDescriptorSet, pusherServiceDescriptor, querierServiceDescriptor } from './protos.mjs';
import { encodeProfile } from './synthetic_profiles.mjs';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const HOUR = 3600_000;
const FLAGS = [
  '-auth.multitenancy-enabled=true', '-validation.reject-older-than=0', '-querier.max-query-lookback=0',
  '-querier.max-query-length=0', '-distributor.ingestion-rate-limit-mb=0', '-segment-writer.segment-duration=20ms',
  '-retention-period=0', '-retention-period-per-tenant=brief=1h',
  '-compaction.batch-max-blocks=4,4,4', '-compaction.batch-max-age=300ms,300ms,300ms',
  '-compaction.cleanup-delay=1s', '-compaction-worker.job-poll-interval=50ms',
];

/** BlockMeta of an object, read from its footer ([meta][u32 length][u32 crc][u32 version]["EMB1"]). */
function footer(file, schema) {
  let bytes;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    if (e.code === 'ENOENT') return null; // deleted (compacted or expired) between listing and reading
    throw e;
  }
  const length = bytes.readUInt32LE(bytes.length - 16);
  return fromBinary(schema, bytes.subarray(bytes.length - 16 - length, bytes.length - 16));
}

describe('retention deletes expired data from queries, index and bucket', () => {
  const servers = [];
  after(async () => { for (const s of servers) await s.kill(); });

  it('a tenant past its period loses its old data; the rest stays', { timeout: 180_000 }, async () => {
    const now = Date.now();
    const old = now - 13 * HOUR;
    const first = await startServer({ extraArgs: [...FLAGS, '-metastore.index.cleanup-interval=0'] });
    servers.push(first);
    const transport = (s) => createConnectTransport({ httpVersion: '1.1', baseUrl: s.baseUrl, useBinaryFormat: true });
    const pusher = createClient(pusherServiceDescriptor(), transport(first));
    const sample = (cpu) => [{ stack: ['main', 'work'], cpu, count: 1 }];
    for (const tenant of ['brief', 'keeper']) {
      for (let i = 0; i < 6; i++) {
        for (const [t, cpu] of [[old + i * 1000, 1_000_000], [now - 60_000 + i * 1000, 2_000_000]]) {
          await pusher.push({ series: [{ labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: 'app' }],
            samples: [{ rawProfile: encodeProfile({ samples: sample(cpu), timeMs: t }) }] }] },
          { timeoutMs: 20_000, headers: { 'X-Scope-OrgID': tenant } });
        }
      }
    }
    const total = async (server, tenant, start, end) => {
      const q = createClient(querierServiceDescriptor(), transport(server));
      const r = await q.selectMergeStacktraces({ profileTypeID: CPU, labelSelector: '{}', start: BigInt(start), end: BigInt(end) },
        { timeoutMs: 30_000, headers: { 'X-Scope-OrgID': tenant } });
      return Number(r.flamegraph.total);
    };
    const oldRange = [old - HOUR, old + HOUR];
    const newRange = [now - 2 * HOUR, now + 60_000];
    for (const tenant of ['brief', 'keeper']) {
      assert.equal(await total(first, tenant, ...oldRange), 6_000_000, `${tenant}: old data before retention`);
      assert.equal(await total(first, tenant, ...newRange), 12_000_000, `${tenant}: fresh data`);
    }
    assert.equal(await stopCleanly(first), null);

    const second = await startServer({ extraArgs: [...FLAGS, '-metastore.index.cleanup-interval=1s'], dir: first.dir, ports: first.ports });
    servers.push(second);
    const schema = createFileRegistry(fromBinary(FileDescriptorSetSchema, compileDescriptorSet('metastore/v1/types.proto')))
      .getMessage('metastore.v1.BlockMeta');
    const bucket = path.join(second.dir, 'data');
    // Objects holding data of `brief` older than its period (segments hold many tenants).
    const expiredObjects = () => bucketObjects(bucket)
      .filter((f) => {
        const meta = footer(path.join(bucket, f), schema);
        if (meta === null) return false;
        const str = (i) => meta.stringTable[i];
        return meta.datasets.some((d) => str(d.tenant) === 'brief' && Number(d.maxTime) < now - HOUR);
      });
    const deadline = Date.now() + 120_000;
    let status;
    for (;;) {
      status = (await call(second, '/metastore/status')).json().compaction;
      const gone = (await total(second, 'brief', ...oldRange)) === 0;
      if (gone && status.tombstones === 0 && expiredObjects().length === 0) break;
      assert.ok(Date.now() < deadline, `retention did not finish: ${JSON.stringify(status)}; ` +
        `objects still holding expired data: ${expiredObjects().join(', ')}\n${second.logTail()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(await total(second, 'brief', ...newRange), 12_000_000, 'brief: fresh data kept');
    assert.equal(await total(second, 'keeper', ...oldRange), 6_000_000, 'keeper: old data kept (no period)');
    assert.equal(await total(second, 'keeper', ...newRange), 12_000_000, 'keeper: fresh data kept');
    const stats = await createClient(querierServiceDescriptor(), transport(second))
      .getProfileStats({}, { timeoutMs: 10_000, headers: { 'X-Scope-OrgID': 'brief' } });
    assert.ok(Number(stats.oldestProfileTime) >= now - HOUR, `brief's oldest profile: ${stats.oldestProfileTime}`);
    assert.equal(await stopCleanly(second), null);
  });
});
