// Scaling a running cluster (issue 18, "Scale out and in"): with cluster membership, a
// segment-writer and a query-backend join a cluster under push load and one of each leaves
// (SIGTERM: graceful leave), a 4th metastore joins the Raft cluster and is removed again
// (RaftNodeService AddNode/RemoveNode on the leader) — nothing else is restarted, and afterwards
// every series' total equals what was acknowledged. It also measures how long a membership change
// takes to reach every distributor (target ≤ 2 s): from the moment the metastore leader lists the
// new member until each distributor's embers_cluster_view_version reaches that view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from './harness.mjs';
import { PushLoad, finalTotals, sleep, startCluster } from './cluster.mjs';

const COUNTS = {
  metastore: 3, distributor: 2, 'segment-writer': 2, 'query-frontend': 1, 'query-backend': 1, 'compaction-worker': 1,
};

async function clusterStatus(c) {
  const leader = await c.metastoreLeader();
  assert.ok(leader, 'no metastore leader');
  const res = await request(c.get(leader.name).url('/cluster/status'), { timeoutMs: 5000 });
  assert.equal(res.status, 200, res.text);
  return res.json().cluster;
}

async function viewVersion(proc) {
  const res = await request(proc.url('/metrics'), { timeoutMs: 5000 });
  const m = /^embers_cluster_view_version (\d+)/m.exec(res.text);
  return m ? Number(m[1]) : 0;
}

// Waits until the leader lists `id` in `state` (or, with state null, no longer lists it); returns
// {version, at} of the first view that does.
async function waitMember(c, id, state, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await clusterStatus(c);
    const m = view.members.find((x) => x.id === id);
    if (state === null ? !m : m && m.state === `MEMBER_STATE_${state}`) return { version: view.version, at: Date.now() };
    if (Date.now() > deadline) assert.fail(`${id} not ${state ?? 'gone'} within ${timeoutMs} ms: ${JSON.stringify(view.members)}`);
    await sleep(20);
  }
}

// ms until every distributor uses a view of at least `version`.
async function propagation(c, version, since) {
  const deadline = Date.now() + 30_000;
  const pending = new Set(c.byKind('distributor'));
  while (pending.size > 0) {
    for (const d of [...pending]) if ((await viewVersion(d)) >= version) pending.delete(d);
    if (Date.now() > deadline) assert.fail(`distributors ${[...pending].map((d) => d.name)} never saw view ${version}`);
    if (pending.size > 0) await sleep(20);
  }
  return Date.now() - since;
}

test('segment-writers, query-backends and metastores join and leave a running cluster without losing data', { timeout: 300_000 }, async (t) => {
  const c = await startCluster({ staticLists: false, counts: COUNTS });
  t.after(() => c.stop());
  const load = new PushLoad(c, { pushers: 16, prefix: 'scale' });
  load.start();
  await sleep(2000);
  const report = [];

  // Scale out: a 3rd segment-writer and a 2nd query-backend.
  for (const kind of ['segment-writer', 'query-backend']) {
    const p = await c.add(kind);
    await c.waitReady(p.name);
    const seen = await waitMember(c, p.name, 'ACTIVE');
    const ms = await propagation(c, seen.version, seen.at);
    report.push({ change: `${p.name} joined`, version: seen.version, ms_to_every_distributor: ms });
  }
  await sleep(3000);
  // The new writer took pushes (its shards are part of placement now).
  const newWriter = c.byKind('segment-writer').at(-1);
  const metrics = (await request(newWriter.url('/metrics'), { timeoutMs: 5000 })).text;
  const pushed = /^embers_segment_writer_profiles_total\S* (\d+)/m.exec(metrics);
  assert.ok(pushed && Number(pushed[1]) > 0, `the joined writer stored nothing:\n${metrics.split('\n').filter((l) => l.startsWith('embers_segment_writer')).join('\n')}`);

  // Scale in: the first writer and the first backend leave gracefully.
  for (const name of ['segment-writer-1', 'query-backend-1']) {
    const t0 = Date.now();
    c.kill(name, 'SIGTERM');
    const exit = await c.waitExit(name);
    assert.equal(exit?.code, 0, `${name} did not exit cleanly: ${JSON.stringify(exit)}`);
    const gone = await waitMember(c, name, null);
    const ms = await propagation(c, gone.version, gone.at);
    report.push({ change: `${name} left (exit after ${exit ? Date.now() - t0 : '?'} ms)`, version: gone.version, ms_to_every_distributor: ms });
  }

  // A 4th metastore joins the Raft cluster as a voter and is removed again.
  const m4 = await c.add('metastore');
  const leader = await c.metastoreLeader();
  const admin = c.raftAdmin(leader.name);
  t.after(() => admin.close());
  await admin.call('AddNode', { id: m4.index, raft_address: `127.0.0.1:${m4.ports.raft}` });
  await c.waitReady(m4.name);
  const info = await admin.call('NodeInfo', {});
  const voters = info.peers.filter((p) => p.role === 'voter').map((p) => Number(p.id));
  report.push({ change: `${m4.name} added`, voters: voters.join(',') });
  assert.ok(voters.includes(m4.index), `node ${m4.index} is not a voter: ${JSON.stringify(info.peers)}`);
  await admin.call('RemoveNode', { id: m4.index });
  c.kill(m4.name, 'SIGTERM');
  await c.waitExit(m4.name);
  const after = await admin.call('NodeInfo', {});
  assert.ok(!after.peers.some((p) => Number(p.id) === m4.index), `node ${m4.index} still listed`);
  report.push({ change: `${m4.name} removed`, voters: after.peers.map((p) => p.id).join(',') });

  // Pushes went on throughout; afterwards every acknowledged push is in the totals exactly once.
  await sleep(2000);
  load.stopCreating();
  await load.drain();
  const diffs = await finalTotals(c, load);
  const retried = load.pushes.filter((p) => p.attempts > 1).length;
  console.table(report);
  console.log(`pushes acknowledged: ${load.acks.length}, needed a retry: ${retried}`);
  assert.deepEqual(diffs, [], 'series totals differ from the acknowledged ledger');
  assert.deepEqual(c.unexpectedExits.map((e) => e.name), []);
});
