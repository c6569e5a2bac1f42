// Compaction end to end through the real binary and real clients (issue "Compaction, retention
// that deletes…", Must show):
//  - property: random data (two tenants, three services, label sets, two profile types, span
//    and trace ids, timestamps over 10 h so two 6 h partitions, and client retries: the same push sent
//    twice) is pushed to a server without a compaction-worker; every query answer (flame graphs,
//    tree bytes, series, label names/values, Series, pprof, span profiles, trace-id selections —
//    whose totals are also checked against the pushed samples) is recorded; the
//    server restarts on the same data with the worker, compaction runs through every level
//    until only level-3 blocks remain, and every answer is the same again;
//  - a profile pushed twice is counted once, before and after;
//  - afterwards the bucket holds only the final blocks: the replaced segments and blocks were
//    deleted after -compaction.cleanup-delay and no tombstone is left in the metastore.
// Seeds: EMBERS_COMPACTION_SEEDS (default 2 in a normal run; set more for a longer search).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, after } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { call, startServer, stopCleanly } from './harness.mjs';
import { pusherServiceDescriptor, querierServiceDescriptor } from './protos.mjs';
import { encodeProfile, flameGraphStacks, pprofSchema, pprofStacks, rng, sorted } from './synthetic_profiles.mjs';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const SAMPLES = 'process_cpu:samples:count:cpu:nanoseconds';
const TENANTS = ['acme', 'globex'];
const SERVICES = ['api', 'db', 'web'];
const FUNCTIONS = ['main', 'serve', 'parse', 'render', 'gc', 'alloc', 'read', 'write', 'hash', 'sort'];
const SEEDS = Number(process.env.EMBERS_COMPACTION_SEEDS || 2);
const TRACES = ['7c9e66797425440de944be07fc1f90ae', '0af7651916cd43dd8448eb211c80319c',
  '4bf92f3577b34da6a3ce929d0e0e4736'];
const SELECTED_TRACES = [TRACES[0], TRACES[2]];

// Small batches and short ages, so a few hundred segments go through every level in seconds.
const COMPACTION_FLAGS = [
  '-compaction.batch-max-blocks=6,3,3', '-compaction.batch-max-age=300ms,300ms,300ms',
  '-compaction.cleanup-delay=1s', '-compaction-worker.job-poll-interval=50ms',
  '-compaction-worker.job-concurrency=2',
];
const COMMON_FLAGS = [
  '-auth.multitenancy-enabled=true', '-validation.reject-older-than=0', '-querier.max-query-lookback=0',
  '-distributor.ingestion-rate-limit-mb=0', '-segment-writer.segment-duration=20ms',
  '-querier.max-query-length=0', ...COMPACTION_FLAGS,
];
const WITHOUT_WORKER = '-target=metastore,distributor,segment-writer,query-frontend,query-backend';

/** The pushes of one seed: [{tenant, labels, body bytes, id, retried}]. */
function randomPushes(seed, now) {
  const r = rng(seed);
  const pushes = [];
  for (let i = 0; i < 120; i++) {
    const tenant = r.pick(TENANTS);
    const service = r.pick(SERVICES);
    const labels = [
      { name: '__name__', value: 'process_cpu' },
      { name: 'service_name', value: service },
      { name: 'env', value: r.pick(['prod', 'dev']) },
      { name: 'pod', value: `${service}-${r.int(3)}` },
    ];
    const samples = [];
    for (let k = 1 + r.int(8); k > 0; k--) {
      const stack = ['main'];
      for (let d = r.int(5); d > 0; d--) stack.push(r.pick(FUNCTIONS));
      samples.push({
        stack,
        cpu: 10_000_000 * (1 + r.int(50)),
        count: 1 + r.int(50),
        span: r.next() < 0.3 ? `00000000000000${r.pick(['a1', 'b2', 'c3'])}` : undefined,
        trace: r.next() < 0.4 ? r.pick(TRACES) : undefined,
      });
    }
    // Timestamps over the last 10 h: two 6 h partitions.
    const timeMs = now - r.int(10 * 3600) * 1000;
    const id = `5e0c0000-0000-4000-8000-${String(seed).padStart(4, '0')}${String(i).padStart(8, '0')}`;
    pushes.push({ tenant, labels, samples, body: encodeProfile({ samples, timeMs }), id, retried: r.next() < 0.25 });
  }
  return pushes;
}

/** Every answer the test compares, per tenant, in canonical form. */
async function answers(querier, { start, end }) {
  const out = {};
  const opts = (tenant) => ({ timeoutMs: 30_000, headers: { 'X-Scope-OrgID': tenant } });
  for (const tenant of TENANTS) {
    const o = opts(tenant);
    const a = {};
    a.profileTypes = (await querier.profileTypes({ start, end }, o)).profileTypes.map((t) => t.ID).sort();
    a.labelNames = (await querier.labelNames({ start, end }, o)).names.slice().sort();
    a.envs = (await querier.labelValues({ name: 'env', start, end }, o)).names.slice().sort();
    a.pods = (await querier.labelValues({ name: 'pod', matchers: ['{env="prod"}'], start, end }, o)).names.slice().sort();
    a.series = (await querier.series({ matchers: ['{service_name="api"}'], start, end }, o)).labelsSet
      .map((s) => s.labels.map((l) => `${l.name}=${l.value}`).sort().join(',')).sort();
    for (const type of [CPU, SAMPLES]) {
      for (const selector of ['{}', '{service_name="api"}', '{env="prod",pod=~"db-.*"}']) {
        const q = { profileTypeID: type, labelSelector: selector, start, end, maxNodes: 1_048_576n };
        const fg = await querier.selectMergeStacktraces(q, o);
        a[`flame ${type} ${selector}`] = { total: Number(fg.flamegraph.total), stacks: sorted(flameGraphStacks(fg.flamegraph)) };
        const tree = await querier.selectMergeStacktraces({ ...q, format: 2 }, o);
        a[`tree ${type} ${selector}`] = Buffer.from(tree.tree).toString('base64');
        const pprof = await querier.selectMergeProfile(q, o);
        a[`pprof ${type} ${selector}`] = sorted(pprofStacks(pprof));
        const series = await querier.selectSeries({ ...q, step: 600, groupBy: ['env', 'service_name'] }, o);
        a[`series ${type} ${selector}`] = series.series.map((s) => ({
          labels: s.labels.map((l) => `${l.name}=${l.value}`).join(','),
          points: s.points.map((p) => [Number(p.timestamp), p.value]),
        }));
      }
      const span = await querier.selectMergeSpanProfile({ profileTypeID: type, labelSelector: '{}',
        spanSelector: ['00000000000000a1', '00000000000000c3'], start, end, maxNodes: 1_048_576n }, o);
      a[`span ${type}`] = { total: Number(span.flamegraph.total), stacks: sorted(flameGraphStacks(span.flamegraph)) };
      // The samples of two traces, as Grafana's trace-to-profiles link asks for them.
      const traced = { profileTypeID: type, labelSelector: '{}', traceIdSelector: SELECTED_TRACES, start, end, maxNodes: 1_048_576n };
      const tfg = await querier.selectMergeStacktraces(traced, o);
      a[`trace ${type}`] = { total: Number(tfg.flamegraph.total), stacks: sorted(flameGraphStacks(tfg.flamegraph)) };
      a[`trace pprof ${type}`] = sorted(pprofStacks(await querier.selectMergeProfile(traced, o)));
    }
    out[tenant] = a;
  }
  return out;
}

async function compactionStatus(server) {
  const res = await call(server, '/metastore/status');
  assert.equal(res.status, 200);
  return res.json().compaction;
}

/** Waits until every block is at level 3, no job is left and every tombstone was executed. */
async function waitFullyCompacted(server, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await compactionStatus(server);
    const below = last.levels.filter((l) => l.level < 3).reduce((s, l) => s + l.blocks, 0);
    const busy = last.levels.reduce((s, l) => s + l.jobs_queued + l.jobs_running + l.queued_blocks, 0);
    if (below === 0 && busy === 0 && last.tombstones === 0 && last.parked_jobs.length === 0) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`compaction did not finish in ${timeoutMs / 1000} s: ${JSON.stringify(last)}\n${server.logTail()}`);
}

function filesUnder(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)));
}

describe('query answers are identical before and after compaction through every level', () => {
  const servers = [];
  after(async () => { for (const s of servers) await s.kill(); });

  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}: random pushes with retries`, { timeout: 240_000 }, async () => {
      const before = await startServer({ extraArgs: [...COMMON_FLAGS, WITHOUT_WORKER] });
      servers.push(before);
      const transport = (s) => createConnectTransport({ httpVersion: '1.1', baseUrl: s.baseUrl, useBinaryFormat: true });
      const now = Date.now();
      const range = { start: BigInt(now - 11 * 3600_000), end: BigInt(now + 60_000) };
      const pusher = createClient(pusherServiceDescriptor(), transport(before));
      const pushes = randomPushes(seed, now);
      for (const p of pushes) {
        const req = { series: [{ labels: p.labels, samples: [{ rawProfile: p.body, ID: p.id }] }] };
        const o = { timeoutMs: 20_000, headers: { 'X-Scope-OrgID': p.tenant } };
        await pusher.push(req, o);
        // A client retry: the same request again, after its segment was written.
        if (p.retried) await pusher.push(req, o);
      }
      const retried = pushes.find((p) => p.retried);
      assert.ok(retried, 'the seed retries at least one push');
      // The retried push alone: its series at its timestamp, counted once.
      const profile = fromBinary(pprofSchema(), retried.body);
      const selector = `{${retried.labels.slice(1).map((l) => `${l.name}="${l.value}"`).join(',')}}`;
      const t = Number(profile.timeNanos / 1_000_000n);
      const once = profile.sample.reduce((s, x) => s + Number(x.value[0]), 0);
      const exactly = { profileTypeID: CPU, labelSelector: selector, start: BigInt(t), end: BigInt(t), maxNodes: 1_048_576n };
      const querierBefore = createClient(querierServiceDescriptor(), transport(before));
      const tenantOpts = { timeoutMs: 30_000, headers: { 'X-Scope-OrgID': retried.tenant } };
      const sameInstant = pushes.filter((p) => p.tenant === retried.tenant && p !== retried &&
        Number(fromBinary(pprofSchema(), p.body).timeNanos / 1_000_000n) === t &&
        p.labels.every((l, i) => l.value === retried.labels[i].value));
      if (sameInstant.length === 0) {
        assert.equal(Number((await querierBefore.selectMergeStacktraces(exactly, tenantOpts)).flamegraph.total), once,
          'a retried push counts once before compaction');
      }
      const first = await answers(querierBefore, range);
      // The trace selection against the pushed samples (each push once, retries or not).
      for (const tenant of TENANTS) {
        const want = { cpu: 0, count: 0 };
        for (const p of pushes.filter((x) => x.tenant === tenant)) {
          for (const s of p.samples) {
            if (SELECTED_TRACES.includes(s.trace)) { want.cpu += s.cpu; want.count += s.count; }
          }
        }
        assert.ok(want.cpu > 0, `seed ${seed}: tenant ${tenant} has samples of the selected traces`);
        assert.equal(first[tenant][`trace ${CPU}`].total, want.cpu, `${tenant}: cpu of the selected traces`);
        assert.equal(first[tenant][`trace ${SAMPLES}`].total, want.count, `${tenant}: samples of the selected traces`);
      }
      assert.equal(await stopCleanly(before), null);

      // The same data, now with a compaction-worker.
      const afterServer = await startServer({ extraArgs: [...COMMON_FLAGS, '-target=all'], dir: before.dir, ports: before.ports });
      servers.push(afterServer);
      const status = await waitFullyCompacted(afterServer, 180_000);
      assert.ok(status.levels[0].jobs_completed > 0 && status.levels[1].jobs_completed > 0 &&
        status.levels[2].jobs_completed > 0, `jobs ran at every level: ${JSON.stringify(status.levels)}`);
      assert.ok(status.deleted_objects > 0, 'replaced objects were deleted');
      // Compaction itself dropped second copies: one row per profile type of a retried push whose
      // two copies met in one job. Both copies may also end in different final blocks (an age
      // trigger closed a batch between them); the query then counts them once, checked below.
      const metrics = (await call(afterServer, '/metrics')).text;
      const duplicates = metrics.split('\n').filter((l) => l.startsWith('embers_compaction_worker_profiles_total{') && l.includes('kind="duplicate"'))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
      const retriedCount = pushes.filter((p) => p.retried).length;
      assert.ok(duplicates > 0 && duplicates % 2 === 0 && duplicates <= 2 * retriedCount,
        `duplicate profiles dropped by compaction: ${duplicates} of ${2 * retriedCount}`);
      const querierAfter = createClient(querierServiceDescriptor(), transport(afterServer));
      if (sameInstant.length === 0) {
        assert.equal(Number((await querierAfter.selectMergeStacktraces(exactly, tenantOpts)).flamegraph.total), once,
          'a retried push counts once after compaction');
      }
      const second = await answers(querierAfter, range);
      for (const tenant of TENANTS) {
        for (const key of Object.keys(first[tenant])) {
          assert.deepEqual(second[tenant][key], first[tenant][key], `seed ${seed}, tenant ${tenant}: ${key}`);
        }
      }
      // Only the final blocks are left in the bucket: no segment, one object per indexed block.
      const files = filesUnder(path.join(afterServer.dir, 'data'));
      assert.deepEqual(files.filter((f) => f.startsWith('segments/')), [], 'every segment was deleted');
      const level3 = status.levels.find((l) => l.level === 3).blocks;
      assert.equal(files.filter((f) => f.startsWith('blocks/')).length, level3, `objects: ${files.join('\n')}`);
      assert.equal(await stopCleanly(afterServer), null);
    });
  }
});
