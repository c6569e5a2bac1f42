// Steady load with compaction (issue "Compaction, retention that deletes…", Must show): a server
// with the default compaction settings (but a 5 s deletion delay, so the run is short) takes
// ~40 pushes/s of four services for EMBERS_STEADY_SECONDS (60 by default; the long form runs
// minutes), writing 100 ms segments: ~40 objects a second, 2,400 a minute without compaction.
// Sampled every 2 s, the index and the bucket stay under a bound that does not grow with the run,
// and once the load stops and the deletion delay passes, the bucket holds exactly the indexed
// blocks.
//
// The bound, per shard (4) and 6 h partition (at most 2 in a run): level 0 waits for 20 blocks
// and one job of 20 may run, level 1 and 2 likewise with 10; level 3 grows by one block per
// ~200 s of data. Index ≤ 4 × 2 × (40 + 20 + 20) + 4 × ⌈T / 200 s⌉ + slack 20. Objects also hold
// what compaction replaced during the deletion delay and the worker's poll lag:
// ≤ index bound + 40/s × (5 s + 5 s).

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it, after } from 'node:test';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { bucketObjects, call, startServer, stopCleanly } from './harness.mjs';
import { pusherServiceDescriptor } from './protos.mjs';
import { encodeProfile, rng } from './synthetic_profiles.mjs';

const SECONDS = Number(process.env.EMBERS_STEADY_SECONDS || 60);
const RATE = 40; // pushes per second
const SERVICES = ['checkout', 'search', 'billing', 'ledger'];
const INDEX_BOUND = 4 * 2 * (40 + 20 + 20) + 4 * Math.ceil(SECONDS / 200) + 20;
const OBJECT_BOUND = INDEX_BOUND + RATE * (5 + 5);

describe(`steady load for ${SECONDS} s with compaction`, () => {
  let server;
  after(async () => { if (server) await server.kill(); });

  it('keeps the index and the bucket bounded', { timeout: (SECONDS + 120) * 1000 }, async () => {
    server = await startServer({ extraArgs: [
      '-distributor.ingestion-rate-limit-mb=0', '-segment-writer.segment-duration=100ms',
      '-compaction.cleanup-delay=5s',
    ] });
    const pusher = createClient(pusherServiceDescriptor(),
      createConnectTransport({ httpVersion: '1.1', baseUrl: server.baseUrl, useBinaryFormat: true }));
    const r = rng(3);
    const bucket = path.join(server.dir, 'data');
    const objects = () => bucketObjects(bucket).length;
    const status = async () => (await call(server, '/metastore/status')).json().compaction;

    const start = Date.now();
    let pushed = 0;
    const loops = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; Date.now() - start < SECONDS * 1000; i++) {
        const due = start + (i * 8 + w) * (1000 / RATE);
        if (due > Date.now()) await new Promise((res) => setTimeout(res, due - Date.now()));
        const service = SERVICES[(i + w) % SERVICES.length];
        const samples = Array.from({ length: 5 }, () => ({ stack: ['main', `f${r.int(20)}`, `g${r.int(20)}`], cpu: 10_000_000, count: 1 }));
        await pusher.push({ series: [{ labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: service },
          { name: 'pod', value: `${service}-${w % 5}` }], samples: [{ rawProfile: encodeProfile({ samples, timeMs: Date.now() }) }] }] },
        { timeoutMs: 20_000 });
        pushed++;
      }
    });
    let maxIndex = 0;
    let maxObjects = 0;
    const samples = [];
    const sampler = (async () => {
      while (Date.now() - start < SECONDS * 1000) {
        await new Promise((res) => setTimeout(res, 2000));
        const s = await status();
        const indexed = s.levels.reduce((n, l) => n + l.blocks, 0);
        const stored = objects();
        maxIndex = Math.max(maxIndex, indexed);
        maxObjects = Math.max(maxObjects, stored);
        samples.push(`${Math.round((Date.now() - start) / 1000)}s: index ${s.levels.map((l) => l.blocks).join('/')} objects ${stored}`);
      }
    })();
    await Promise.all([...loops, sampler]);
    const log = `pushed ${pushed}; samples:\n${samples.join('\n')}`;
    console.log(log);
    assert.ok(pushed >= RATE * SECONDS * 0.8, `load kept its rate: ${pushed} pushes`);
    assert.ok(maxIndex <= INDEX_BOUND, `index blocks ${maxIndex} > bound ${INDEX_BOUND}\n${log}`);
    assert.ok(maxObjects <= OBJECT_BOUND, `objects ${maxObjects} > bound ${OBJECT_BOUND}\n${log}`);
    const final = await status();
    assert.ok(final.levels[0].jobs_completed > 0 && final.deleted_objects > 0, JSON.stringify(final));
    // After the load: the deletion delay passes, and the bucket holds exactly the indexed blocks.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await status();
      const indexed = s.levels.reduce((n, l) => n + l.blocks, 0);
      if (s.tombstones === 0 && objects() === indexed) break;
      assert.ok(Date.now() < deadline, `objects ${objects()} vs indexed ${indexed}, tombstones ${s.tombstones}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    assert.equal(await stopCleanly(server), null);
  });
});
