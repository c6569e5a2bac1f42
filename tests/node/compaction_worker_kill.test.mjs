// A compaction-worker killed with SIGKILL in the middle of a job (issue "Compaction, retention
// that deletes…", Must show), with real processes on one filesystem bucket: one `embers` runs
// the metastore and the write and read paths, compaction-workers run as their own processes
// (-target=compaction-worker -metastore.address=…). While profiles are pushed, the test waits
// until the metastore's status shows a job running on worker 1, kills it, and starts worker 2:
// the job is reassigned once its lease (3 s here) runs out and worker 2 completes it (its log
// names the job). Then the load stops and compaction finishes: every block the index holds is
// readable (the queries below read them all), the bucket holds exactly the indexed blocks (no
// half-written or orphaned output), and the per-series totals equal what was acknowledged —
// nothing lost, nothing counted twice.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, after } from 'node:test';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { bucketObjects, call, startServer, stopCleanly } from './harness.mjs';
import { pusherServiceDescriptor, querierServiceDescriptor } from './protos.mjs';
import { encodeProfile, rng } from './synthetic_profiles.mjs';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const SERIES = 4;
const FLAGS = [
  '-validation.reject-older-than=0', '-querier.max-query-lookback=0', '-distributor.ingestion-rate-limit-mb=0',
  '-segment-writer.segment-duration=50ms', '-compaction.job-lease-duration=3s',
  '-compaction.batch-max-blocks=8,4,4', '-compaction.batch-max-age=1s,1s,1s', '-compaction.cleanup-delay=1s',
];

/** Big profiles (many deep stacks), so a job takes long enough to be caught running. */
function heavyProfile(r, timeMs) {
  const samples = [];
  for (let i = 0; i < 4000; i++) {
    const stack = ['main'];
    for (let d = 4 + r.int(20); d > 0; d--) stack.push(`fn_${r.int(3000)}`);
    samples.push({ stack, cpu: 1_000_000 * (1 + r.int(20)), count: 1 });
  }
  return { body: encodeProfile({ samples, timeMs }), total: samples.reduce((s, x) => s + x.cpu, 0) };
}

describe('a compaction-worker killed mid-job', () => {
  const bucket = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-kill-bucket-'));
  const servers = [];
  after(async () => {
    for (const s of servers) await s.kill();
    fs.rmSync(bucket, { recursive: true, force: true });
  });
  const start = async (args) => {
    const s = await startServer({ extraArgs: [...FLAGS, `-storage.filesystem.dir=${bucket}`, ...args] });
    servers.push(s);
    return s;
  };
  const status = async (s) => (await call(s, '/metastore/status')).json().compaction;

  it('is replaced by another worker, and nothing is lost, doubled or half-written', { timeout: 240_000 }, async () => {
    const main = await start(['-target=metastore,distributor,segment-writer,query-frontend,query-backend']);
    const worker = () => start(['-target=compaction-worker', `-metastore.address=${main.internalAddress}`, '-compaction-worker.job-poll-interval=100ms']);
    const transport = createConnectTransport({ httpVersion: '1.1', baseUrl: main.baseUrl, useBinaryFormat: true });
    const pusher = createClient(pusherServiceDescriptor(), transport);
    const r = rng(42);
    const now = Date.now();
    const acknowledged = new Array(SERIES).fill(0);
    let pushing = true;
    let pushed = 0;
    const load = (async () => {
      for (let i = 0; pushing; i++) {
        const series = i % SERIES;
        const p = heavyProfile(r, now - 60_000 + i * 10);
        await pusher.push({ series: [{ labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: 'killed' },
          { name: 'series', value: String(series) }], samples: [{ rawProfile: p.body }] }] }, { timeoutMs: 20_000 });
        acknowledged[series] += p.total;
        pushed++;
      }
    })();

    // Kill worker 1 while the status shows it running a job.
    let victim = null;
    let caught = [];
    for (let attempt = 0; attempt < 5 && caught.length === 0; attempt++) {
      victim = await worker();
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const running = (await status(main)).running_jobs.filter((j) => j.worker.endsWith(`-${victim.pid}`));
        if (running.length > 0) {
          victim.child.kill('SIGKILL');
          caught = running.map((j) => j.name);
          break;
        }
        await new Promise((res) => setTimeout(res, 10));
      }
      await victim.exited;
      // Did the victim finish the job just before the kill? Then try again with a new worker.
      caught = caught.filter((name) => !victim.logTail(1 << 20).includes(`msg="compaction job done" job=${name}`));
    }
    assert.ok(caught.length > 0, 'caught a worker in the middle of a job');
    console.log('killed worker', victim.pid, 'mid-job', caught);

    const rescuer = await worker();
    const deadline = Date.now() + 60_000;
    while (!caught.every((name) => rescuer.logTail(1 << 20).includes(`msg="compaction job done" job=${name}`))) {
      assert.ok(Date.now() < deadline, `the killed worker's jobs ${caught} were not completed by the other worker:\n${rescuer.logTail()}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    pushing = false;
    await load;
    assert.ok(acknowledged.every((t) => t > 0), `every series got data (${pushed} pushes)`);

    // Let compaction finish everything.
    let s;
    const end = Date.now() + 120_000;
    for (;;) {
      s = await status(main);
      const below = s.levels.filter((l) => l.level < 3).reduce((n, l) => n + l.blocks, 0);
      const busy = s.levels.reduce((n, l) => n + l.jobs_queued + l.jobs_running + l.queued_blocks, 0);
      if (below === 0 && busy === 0 && s.tombstones === 0) break;
      assert.ok(Date.now() < end, `compaction did not finish: ${JSON.stringify(s)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.deepEqual(s.parked_jobs, [], 'no job was parked');

    // Per-series totals: every acknowledged push counted exactly once.
    const querier = createClient(querierServiceDescriptor(), transport);
    const series = await querier.selectSeries({ profileTypeID: CPU, labelSelector: '{service_name="killed"}',
      start: BigInt(now - 3_600_000), end: BigInt(now + 3_600_000), step: 7200, groupBy: ['series'] }, { timeoutMs: 60_000 });
    const got = new Array(SERIES).fill(0);
    for (const x of series.series) got[Number(x.labels[0].value)] = x.points.reduce((a, p) => a + p.value, 0);
    assert.deepEqual(got, acknowledged, 'per-series totals equal what was acknowledged');
    // The bucket holds exactly the indexed blocks: the killed worker's partial output was either
    // never written (uploads are atomic) or overwritten by the same job's deterministic output.
    const files = bucketObjects(bucket);
    assert.deepEqual(files.filter((f) => f.startsWith('segments/')), []);
    assert.equal(files.length, s.levels.find((l) => l.level === 3).blocks, files.join('\n'));
    for (const x of [rescuer, main]) assert.equal(await stopCleanly(x), null);
  });
});
