// scripts/cluster.sh, the local microservices cluster, end to end: `start` in a temporary
// directory brings up 14 processes (3 metastores in one Raft cluster, 2 distributors, 3
// segment-writers, 2 query-frontends, 2 query-backends, 2 compaction-workers) and prints their
// endpoints; a profile pushed through distributor-1 comes back through query-frontend-2 (so the
// push crossed a distributor, a remote segment-writer and the Raft metastore, and the query a
// frontend, the metastore and the query-backends); `status` lists every process alive and ready;
// `add segment-writer` starts a fourth writer (and, while the writers are a static list,
// restarts the distributors with it), after which a push through distributor-2 is counted too;
// `remove` stops it again; `stop` ends every process. A query-frontend serves the leader's
// /metastore/status and /cluster/status. Whatever fails, the cluster is stopped and
// its directory removed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, after, afterEach } from 'node:test';
import { EMBERS_BIN, EMBERS_SRC, request, show } from './harness.mjs';

const SCRIPT = path.join(EMBERS_SRC, 'scripts', 'cluster.sh');
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const FOLDED = 'main;handle;parse 30\nmain;handle;render 50\nmain;gc 20\n';
const PORT_SPAN = 480; // ports one cluster takes from its base (scripts/cluster.sh)

/** Runs cluster.sh; resolves to {code, stdout, stderr} (never rejects on a non-zero exit). */
function cluster(args, { timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, ...args], {
      cwd: EMBERS_SRC,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Short timeouts: a healthy process starts in seconds and stops in less than one.
      env: { ...process.env, EMBERS_BIN, READY_TIMEOUT: '45', STOP_TIMEOUT: '15' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? `killed by ${signal}` : code, stdout, stderr });
    });
  });
}

const describeRun = (r) => `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

/** The pids the cluster's pid files name (none once the directory is gone). */
function pidsOf(dir) {
  try {
    const pids = path.join(dir, 'pids');
    return fs.readdirSync(pids).map((f) => Number(fs.readFileSync(path.join(pids, f), 'utf8')))
      .filter((p) => p > 0);
  } catch {
    return [];
  }
}

/** True while `pid` runs (a zombie, exited but not reaped by its new parent, does not count). */
function running(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  } catch {
    return false;
  }
}

/** True when `pid` is a process of the cluster in `dir` (its command line names the directory). */
function ofCluster(pid, dir) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${dir}/`);
  } catch {
    return false;
  }
}

function selectMerge(baseUrl) {
  const now = Date.now();
  return request(`${baseUrl}/querier.v1.QuerierService/SelectMergeStacktraces`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ profile_typeID: CPU, label_selector: '{service_name="cluster-script"}', start: now - 300_000, end: now + 60_000 }),
    timeoutMs: 20_000,
  });
}

describe('scripts/cluster.sh', () => {
  // Not "embers-cluster-": tests/node/cluster.mjs names its directories so.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-cluster-script-'));
  let started = false;
  let failed = false;
  // Every pid the pid files named, kept here too: cleanup must not depend on the directory.
  const seen = new Set();
  const remember = () => pidsOf(dir).forEach((p) => seen.add(p));

  afterEach((t) => {
    if (t.passed !== false || failed) return;
    failed = true;
    // The end of every process's log, once, for the first failure.
    const logs = path.join(dir, 'logs');
    if (!fs.existsSync(logs)) return;
    for (const f of fs.readdirSync(logs)) {
      const text = fs.readFileSync(path.join(logs, f), 'utf8');
      console.error(`--- ${f} (tail) ---\n${text.slice(-3000)}`);
    }
  });

  after(async () => {
    remember();
    if (started) await cluster(['stop', '--dir', dir], { timeoutMs: 30_000 });
    // Last resort: whatever still runs (also when the directory, and so `stop`, failed).
    for (const pid of seen) {
      if (!running(pid) || !ofCluster(pid, dir)) continue;
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts a cluster, pushes and queries across processes, scales writers, stops', { timeout: 88_000 }, async () => {
    // A base port below the kernel's ephemeral range (from 32768), so no port the processes
    // or the test bind on port 0 can fall into the cluster's; one whose ports are taken is
    // refused with exit code 3 before anything starts, and another is tried.
    let r;
    let base;
    for (let attempt = 0; attempt < 5; attempt++) {
      base = 15_000 + PORT_SPAN * Math.floor(Math.random() * 30);
      started = true;
      r = await cluster(['start', '--dir', dir, '--base-port', String(base)]);
      remember();
      if (r.code !== 3) break;
      fs.rmSync(path.join(dir, 'cluster.env'), { force: true });
    }
    assert.equal(r.code, 0, describeRun(r));

    // The endpoints it prints.
    const url = (kind, name) => {
      const m = new RegExp(`${kind}\\s+${name}: (http://\\S+)`).exec(r.stdout);
      assert.ok(m, `no ${kind} endpoint of ${name} in:\n${r.stdout}`);
      return m[1];
    };
    const distributors = [url('push', 'distributor-1'), url('push', 'distributor-2')];
    const frontends = [url('query', 'query-frontend-1'), url('query', 'query-frontend-2')];
    assert.equal(new URL(distributors[0]).port, String(base + 4 * 20), 'distributor-1 at base + 4·20');
    const status = /metastore status metastore-1: (http:\S+)/.exec(r.stdout);
    assert.ok(status, r.stdout);
    const raft = await request(status[1]);
    assert.equal(raft.status, 200, show(raft));

    // Through distributor-1 (a remote segment-writer), back through query-frontend-2.
    let res = await request(`${distributors[0]}/ingest?name=cluster-script.cpu&sampleRate=100`, { method: 'POST', body: FOLDED, timeoutMs: 20_000 });
    assert.equal(res.status, 200, show(res));
    res = await selectMerge(frontends[1]);
    assert.equal(res.status, 200, show(res));
    const once = res.json().flamegraph;
    for (const name of ['main', 'handle', 'parse', 'render', 'gc']) {
      assert.ok(once.names.includes(name), `${name} missing from ${once.names}`);
    }
    const total = Number(once.total);
    assert.ok(total > 0, show(res));

    // A query-frontend (no metastore of its own) serves the leader's status pages, which the web
    // UI's Status view reads.
    const ms = await request(`${frontends[0]}/metastore/status`);
    assert.equal(ms.status, 200, show(ms));
    assert.equal(ms.json().state, 'leader');
    assert.equal(ms.json().nodes.length, 3);
    assert.ok(Array.isArray(ms.json().compaction.levels));
    const cs = await request(`${frontends[0]}/cluster/status`);
    assert.equal(cs.status, 200, show(cs));
    assert.ok(cs.json().cluster.members.length >= 7, show(cs));

    r = await cluster(['status', '--dir', dir]);
    assert.equal(r.code, 0, describeRun(r));
    const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/));
    assert.equal(rows.length, 14, r.stdout);
    for (const [name, pid, alive, ready] of rows) {
      assert.ok(Number(pid) > 0 && alive === 'yes' && ready === 'ready', `${name}: ${pid} ${alive} ${ready}`);
    }

    // One more writer: its name on stdout; the distributors learn of it.
    r = await cluster(['add', 'segment-writer', '--dir', dir]);
    remember();
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(r.stdout.trim(), 'segment-writer-4');
    res = await request(`${distributors[1]}/ingest?name=cluster-script.cpu&sampleRate=100`, { method: 'POST', body: FOLDED, timeoutMs: 20_000 });
    assert.equal(res.status, 200, show(res));
    res = await selectMerge(frontends[0]);
    assert.equal(res.status, 200, show(res));
    assert.equal(Number(res.json().flamegraph.total), 2 * total, 'both pushes are counted');

    r = await cluster(['remove', 'segment-writer-4', '--dir', dir]);
    remember();
    assert.equal(r.code, 0, describeRun(r));
    assert.ok(!fs.existsSync(path.join(dir, 'pids', 'segment-writer-4.pid')), 'its pid file is gone');

    const pids = pidsOf(dir);
    assert.equal(pids.length, 14);
    r = await cluster(['stop', '--dir', dir], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, describeRun(r));
    started = false;
    assert.deepEqual(pids.filter(running), [], 'every process exited');
    assert.deepEqual(pidsOf(dir), [], 'the pid files are gone');
    // Every process ended of SIGTERM, not of the SIGKILL after STOP_TIMEOUT.
    assert.doesNotMatch(r.stderr, /killed after/);
  });
});
