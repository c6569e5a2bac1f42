// Rolling restart of a microservices cluster (issue "Cluster mode", Must show): the cluster of
// cluster.mjs under steady push load (6 pushers, retries with backoff on the other distributor,
// cluster.mjs PushLoad) while every process, one at a time, gets SIGTERM, must exit with code 0,
// is started again on the same ports and data and must become ready before the next one
// (compaction-workers, query-backends, query-frontends, segment-writers, distributors, the
// metastore followers, the metastore leader last). Closed-window queries run throughout (an error
// is counted, a wrong total with a success status fails). Afterwards every push is acknowledged and
// every series' total equals the ledger. Reported: pushes, pushes that needed a retry (the goal is
// none: a graceful restart should not fail a request), failed attempts, query errors, and how long
// each process took to exit and to be ready again.
//
// A metastore leader's SIGTERM leaves the cluster without a ready leader for a moment; should that
// outlast -segment-writer.metadata-update-timeout, a segment's metadata is parked in the DLQ and
// its pushes acknowledged before the index has them. Queries over that range answer Unavailable
// meanwhile (an error, allowed); an answer short by exactly those pushes fails like any wrong total
// and is named as such (EMBERS_CHAOS_STRICT_DLQ=0 only reports it, as in chaos.test.mjs).
//
// EMBERS_CHAOS_KEEP=1 keeps the cluster directory (logs, bucket) even when passing; it is always
// kept when the test fails.

import assert from 'node:assert/strict';
import { describe, it, after } from 'node:test';
import { PushLoad, QueryChecker, explainedByDlq, finalTotals, knownShutdownCrash, sleep, startCluster, stopCluster } from './cluster.mjs';

const ORDER = ['compaction-worker', 'query-backend', 'query-frontend', 'segment-writer', 'distributor'];

describe('rolling restart: every process restarted with SIGTERM under load', () => {
  let cluster = null;
  let passed = false;
  after(() => stopCluster(cluster, passed));

  it('acknowledges every push and keeps every total', { timeout: 600_000 }, async () => {
    cluster = await startCluster();
    const load = new PushLoad(cluster, { pushers: 6, seed: 7, prefix: 'rolling' });
    load.start();
    const checker = new QueryChecker(cluster, load);
    await sleep(3000);
    checker.start();

    const steps = [];
    const restartStart = Date.now();
    const restartOne = async (p) => {
      const step = { name: p.name, oldPid: p.pid };
      steps.push(step);
      const t0 = cluster.kill(p.name, 'SIGTERM');
      step.exit = await cluster.waitExit(p.name, 60_000);
      step.exitMs = Date.now() - t0;
      if (!step.exit) {
        step.hang = true;
        cluster.kill(p.name, 'SIGKILL');
        await cluster.waitExit(p.name, 15_000);
      }
      cluster.restart(p.name);
      await cluster.waitReady(p.name);
      step.readyMs = Date.now() - t0;
      step.newPid = p.pid;
      console.log(`restarted ${p.name}: exit ${step.exit ? (step.exit.signal ?? `code ${step.exit.code}`) : 'HANG'} after ${step.exitMs} ms, ready after ${step.readyMs} ms`);
      await sleep(1000);
    };
    for (const kind of ORDER) for (const p of cluster.byKind(kind)) await restartOne(p);
    const leader = (await cluster.metastoreLeader())?.name;
    for (const p of cluster.byKind('metastore').filter((m) => m.name !== leader)) await restartOne(p);
    if (leader) await restartOne(cluster.get(leader));
    const restartEnd = Date.now();
    await sleep(3000); // load after the last restart

    const stuck = await load.drain(60_000);
    await checker.stop();
    const dlqWaitMs = await cluster.waitDlqEmpty(60_000);
    await checker.recheckMismatches();
    const parkings = cluster.dlqParkings();
    for (const m of checker.mismatches) m.dlq = explainedByDlq(m, load, parkings);
    const wrong = checker.mismatches.filter((m) => !m.dlq);
    const short = checker.mismatches.filter((m) => m.dlq);
    const finalDiffs = stuck.length === 0 ? await finalTotals(cluster, load) : [];

    const during = load.attemptsIn(restartStart, restartEnd);
    const failed = during.filter((a) => !a.ok);
    const queriesDuring = checker.queries.filter((q) => q.start >= restartStart && q.start < restartEnd);
    const summary = {
      'restarts': steps.length,
      'duration (s)': ((restartEnd - restartStart) / 1000).toFixed(0),
      pushes: load.pushes.length,
      acknowledged: load.pushes.filter((p) => p.acked).length,
      'pushes that needed a retry': load.pushes.filter((p) => p.attempts > 1).length,
      'failed attempts': `${failed.length} / ${during.length}`,
      'queries failed': `${queriesDuring.filter((q) => !q.ok).length} / ${queriesDuring.length}`,
      'wrong totals': wrong.length,
      'short by DLQ-parked pushes': short.length,
      'DLQ parkings': parkings.length,
    };
    console.log('\n## Rolling restart: summary');
    console.table([summary]);
    console.table(steps.map((s) => ({ name: s.name, exit: s.exit ? (s.exit.signal ?? `code ${s.exit.code}`) : 'HANG', 'exit (ms)': s.exitMs, 'ready (ms)': s.readyMs })));
    const byTarget = new Map();
    for (const a of failed) {
      const key = `${a.target}: ${a.status || 'network'} ${a.status ? a.error.slice(0, 80) : a.error}`;
      byTarget.set(key, (byTarget.get(key) ?? 0) + 1);
    }
    if (byTarget.size) console.log('failed push attempts:', Object.fromEntries(byTarget));
    const queryErrors = new Map();
    for (const q of queriesDuring.filter((x) => !x.ok)) {
      const key = `${q.target}: ${q.status || 'network'} ${String(q.error).slice(0, 300)}`;
      queryErrors.set(key, (queryErrors.get(key) ?? 0) + 1);
    }
    if (queryErrors.size) console.log('failed queries:', Object.fromEntries(queryErrors));

    const problems = [];
    if (stuck.length) problems.push(`${stuck.length} pushes not acknowledged within 60 s: ${stuck.slice(0, 5).map((p) => p.id).join(', ')}`);
    if (load.badRequests.length) problems.push(`pushes refused as bad requests: ${JSON.stringify(load.badRequests.slice(0, 3))}`);
    for (const s of steps) {
      if (s.hang) problems.push(`HANG: ${s.name} did not exit within 60 s of SIGTERM`);
      else if (s.exit.code !== 0) {
        const msg = `${s.name} exited with ${s.exit.signal ?? `code ${s.exit.code}`} after SIGTERM`;
        if (knownShutdownCrash(s.exit)) console.log(`CRASH WHILE SHUTTING DOWN (cluster.mjs STRICT_SHUTDOWN): ${msg}; not failing (EMBERS_CHAOS_STRICT_SHUTDOWN=0)`);
        else problems.push(msg);
      }
    }
    if (dlqWaitMs === null) problems.push(`the DLQ still holds ${cluster.dlqPending()} parked segments 60 s after the restarts`);
    const describe = (m) => `${m.target} answered ${m.service} [${m.start}, ${m.end}] = ${m.got}, ledger ${m.expected} (diff ${m.diff}); asked again afterwards: ${m.later}`;
    for (const m of wrong.slice(0, 10)) problems.push(`WRONG TOTAL: ${describe(m)}`);
    if (short.length > 0) {
      const msg = `DLQ VISIBILITY (see chaos.test.mjs): ${short.length} answers short by exactly DLQ-parked pushes: ` +
        short.slice(0, 3).map((m) => `${describe(m)}; missing ${m.dlqPushes.join(', ')}`).join(' | ');
      if (process.env.EMBERS_CHAOS_STRICT_DLQ !== '0') problems.push(msg);
      else console.log(`${msg}\n(not failing: EMBERS_CHAOS_STRICT_DLQ=0)`);
    }
    for (const d of finalDiffs) problems.push(`FINAL TOTAL: ${d.frontend} answered ${d.service} = ${d.got} (HTTP ${d.status}), ledger ${d.expected}`);
    for (const e of cluster.unexpectedExits) problems.push(`CRASH: ${e.name} exited by itself (${e.exit.signal ?? `code ${e.exit.code}`})`);
    if (problems.length) console.error(`\n${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
    assert.deepEqual(problems, []);
    passed = true;
  });
});
