// A metastore rejoins after a leader was elected without it (libraft 0.15 bug, see
// src/metastore/raft/append_entries_rebase.h and docs/performance.md, "Cluster chaos").
//
// The failure needs three things at once, which the leader-kill loop that found it reached only
// after ~65 kills: (1) a follower whose log no longer holds entry 1 (its first snapshot deleted
// the segment holding it), (2) a leader that has taken no snapshot yet, so its log still begins
// at entry 1, and (3) that leader's sends to the follower failing before the follower
// acknowledged anything in the leader's term, which makes libraft resend the whole log with
// prev_log_index 0. Here they are set up on purpose with a small snapshot threshold.
// RaftConsensus staggers snapshots by node id: with a threshold of 256, node 2 takes its first at
// index 128 and node 3 not before 320. So with the log between the two: node 2 goes down, node 3
// becomes leader, its heartbeats to node 2 fail, node 2 restarts. Before the fix node 2 exited
// ("No log entries found at index 1") or died of SIGSEGV, and again on every restart; now it
// catches up, and every replica ends with the same state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { request } from './harness.mjs';
import { PushLoad, sleep, startCluster, stopCluster } from './cluster.mjs';

const THRESHOLD = 256;
const TRAILING = 100;
const NODE2_FIRST_SNAPSHOT = 128;
const NODE3_FIRST_SNAPSHOT = 320;

async function status(c, name) {
  const res = await request(c.get(name).url('/metastore/status'), { timeoutMs: 3000 });
  assert.equal(res.status, 200, `${name}: ${res.text}`);
  return res.json();
}

async function until(what, check, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last === true) return;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() > deadline) assert.fail(`${what} not reached within ${timeoutMs / 1000} s (last: ${JSON.stringify(last)})`);
    await sleep(100);
  }
}

// Asks the leader (once there is one: node 2 may have been it) to hand over to `target`, and
// waits until `target` leads.
async function transferTo(c, target) {
  await until(`${target} leading`, async () => {
    const leader = await c.metastoreLeader();
    if (!leader || leader.name === target) return leader?.name === target || 'no leader';
    const admin = c.raftAdmin(leader.name);
    try {
      await admin.call('TransferLeadership', { id: c.get(target).index });
    } finally {
      admin.close();
    }
    await sleep(500);
    return (await c.metastoreLeader())?.name === target || 'transfer pending';
  }, 30_000);
}

test('a metastore rejoins a leader elected while it was down, whose log still begins at entry 1', { timeout: 300_000 }, async (t) => {
  let passed = false;
  const c = await startCluster({
    staticLists: false,
    segmentDuration: '20ms',
    counts: { metastore: 3, distributor: 1, 'segment-writer': 1, 'query-frontend': 0, 'query-backend': 0, 'compaction-worker': 0 },
    extraArgs: { metastore: [`-metastore.raft.snapshot-threshold=${THRESHOLD}`, `-metastore.raft.trailing-logs=${TRAILING}`] },
  });
  t.after(() => stopCluster(c, passed));

  // Index entries (one AddBlock per flushed segment) until node 2 has taken its first snapshot.
  const load = new PushLoad(c, { pushers: 2, prefix: 'rejoin' });
  load.start();
  await until(`metastore-2's snapshot at ${NODE2_FIRST_SNAPSHOT}`, async () => {
    const s = await status(c, 'metastore-2');
    return s.last_snapshot.index >= NODE2_FIRST_SNAPSHOT || { snapshot: s.last_snapshot.index, commit: s.commit_index };
  });
  load.stopCreating();
  await load.drain();
  const node3 = await status(c, 'metastore-3');
  assert.equal(node3.last_snapshot.index, 0, 'metastore-3 took a snapshot: its log no longer begins at entry 1');
  assert.ok(node3.commit_index < NODE3_FIRST_SNAPSHOT - 40, `the log grew too far (${node3.commit_index})`);

  // Node 2 goes down; node 3 becomes leader.
  c.kill('metastore-2');
  await c.waitExit('metastore-2');
  // A term that begins while node 2 is down: if node 3 already leads, it hands over and back.
  await until('a leader', async () => !!(await c.metastoreLeader()), 30_000);
  if ((await c.metastoreLeader()).name === 'metastore-3') await transferTo(c, 'metastore-1');
  await transferTo(c, 'metastore-3');
  assert.equal((await status(c, 'metastore-3')).last_snapshot.index, 0);
  // Heartbeats to the stopped node 2 fail (libraft's send queue holds 3 messages per peer).
  await sleep(3000);

  c.restart('metastore-2');
  await c.waitReady('metastore-2');
  await until('metastore-2 caught up', async () => {
    const [l, f] = [await status(c, 'metastore-3'), await status(c, 'metastore-2')];
    return f.fsm_applied_index >= l.commit_index && l.commit_index > 0 ? true : { leader: l.commit_index, follower: f.fsm_applied_index };
  });
  await sleep(2000);
  assert.deepEqual(c.unexpectedExits.map((e) => `${e.name}: ${JSON.stringify(e.exit)}`), []);

  // The path under test was taken (without it this test would prove nothing) ...
  const log2 = fs.readFileSync(c.get('metastore-2').logPath(), 'utf8');
  assert.match(log2, /rebased an AppendEntries that resent the whole log onto our snapshot/,
    'metastore-2 never received the whole log: the scenario was not reproduced');
  // ... and the replicas hold the same index.
  const states = await Promise.all(['metastore-1', 'metastore-2', 'metastore-3'].map((n) => status(c, n)));
  const summary = (s) => ({ applied: s.fsm_applied_index, blocks: s.blocks, tombstones: s.compaction?.tombstones });
  await until('replicas at one applied index', async () => {
    const now = await Promise.all(['metastore-1', 'metastore-2', 'metastore-3'].map((n) => status(c, n)));
    states.splice(0, 3, ...now);
    return new Set(now.map((s) => s.fsm_applied_index)).size === 1 ? true : now.map(summary);
  }, 30_000);
  assert.deepEqual(states.map(summary).slice(1), [summary(states[0]), summary(states[0])]);
  passed = true;
});
