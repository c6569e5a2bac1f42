// Cluster chaos (issue "Cluster mode", Must show): a microservices cluster of real processes
// (cluster.mjs: 3 metastores, 2 distributors, 3 segment-writers, 2 query-frontends,
// 2 query-backends, 2 compaction-workers on one filesystem bucket) under push load while a driver
// kills and restarts components:
//  - every 2.5–5 s a random process (at most two at a time) is killed with SIGKILL and restarted
//    1–3 s later, or sent SIGTERM and restarted once it has exited; every kind at least once and
//    the metastore leader at least once with SIGKILL (those come first, in random order); never two
//    metastores down at once, never every instance of a kind;
//  - 6 pushers (one series each) push profiles of known totals at unique timestamps through the
//    distributors, retrying a failed attempt (backoff, the other distributor) until it is
//    acknowledged; a ledger keeps the acknowledged totals per series;
//  - meanwhile every series' total over a *closed* window (ending before the oldest push not yet
//    acknowledged) is queried again and again through the query-frontends: an error is allowed
//    (counted), a success with a different total is a failure (a silently partial or doubled answer);
//  - after the chaos every push must be acknowledged within 60 s, and every series' total over the
//    whole range, through each query-frontend, must equal the ledger (retried pushes counted once).
// Printed at the end (and kept in docs/performance.md, "Cluster chaos"): pushes, acknowledged, push
// error rate during the chaos, query error rate, and per kind the recovery times (kill → first
// acknowledged push created after it, kill → first successful query started after it, kill →
// restarted process ready; for the metastore leader kill → new leader elected).
//
//
// Segments parked in the DLQ: when the metastore has no ready leader for longer than
// -segment-writer.metadata-update-timeout (2 s; a leader kill -9 is followed by 1.4–2.7 s without
// one), a segment-writer parks the segment's metadata in the bucket's dlq/ and acknowledges its
// pushes; the index has them only after the new leader's DLQ pass. Queries over that time answer
// Unavailable meanwhile (metastore/dlq_pending.h) — an error, allowed — so a short total is a
// failure like any other wrong total. An answer short by exactly DLQ-parked pushes is still named
// as such in the report (EMBERS_CHAOS_STRICT_DLQ=0 only reports it, to study a regression).
//
// Every process given SIGTERM must exit with code 0 within 60 s. A SIGSEGV/SIGABRT while shutting
// down (modules destroyed while the HTTP server still served their routes; fixed in aae514c,
// reproduction in cluster.mjs, STRICT_SHUTDOWN) is named as such; EMBERS_CHAOS_STRICT_SHUTDOWN=0
// only reports it. A process dying by itself (unasked) always fails.
//
// EMBERS_CHAOS_SECONDS: length of the chaos (default 45; `make chaos` runs 600).
// EMBERS_CHAOS_SEED: the driver's and pushers' seed (printed; default from the clock).
// EMBERS_CHAOS_KEEP=1: keep the cluster directory (logs, bucket, Raft logs) even when passing; it
// is always kept when the test fails.

import assert from 'node:assert/strict';
import { describe, it, after } from 'node:test';
import { KINDS, PushLoad, QueryChecker, explainedByDlq, finalTotals, knownShutdownCrash, percentile, sleep, startCluster, stopCluster } from './cluster.mjs';
import { rng } from './synthetic_profiles.mjs';

const CHAOS_SECONDS = Number(process.env.EMBERS_CHAOS_SECONDS || 45);
const SEED = Number(process.env.EMBERS_CHAOS_SEED || (Date.now() % 1_000_000));
const PUSHERS = 6;
const MAX_CONCURRENT_ACTIONS = 2;
// Answers short by exactly DLQ-parked pushes fail the test unless EMBERS_CHAOS_STRICT_DLQ=0.
const STRICT_DLQ = process.env.EMBERS_CHAOS_STRICT_DLQ !== '0';

/** Kills and restarts processes within the rules above; keeps a record of every action. */
class ChaosDriver {
  constructor(cluster, r) {
    this.cluster = cluster;
    this.r = r;
    this.actions = [];
    this.busy = new Set();
  }

  /** May `p` go down now without breaking a rule? */
  feasible(p) {
    const up = (x) => !x.down && !this.busy.has(x.name);
    if (!up(p)) return false;
    const others = this.cluster.byKind(p.kind).filter((x) => x !== p);
    if (p.kind === 'metastore') return others.every(up); // never two metastores down
    return others.some(up); // never every instance of a kind
  }

  async pick(required) {
    for (let j = 0; j < required.length; j++) {
      if (required[j] === 'leader') {
        const l = await this.cluster.metastoreLeader();
        const p = l && this.cluster.get(l.name);
        if (p && l.ready && this.feasible(p)) {
          required.splice(j, 1);
          return { p, signal: 'SIGKILL', leader: true };
        }
        continue;
      }
      const candidates = this.cluster.byKind(required[j]).filter((x) => this.feasible(x));
      if (candidates.length > 0) {
        required.splice(j, 1);
        return { p: this.r.pick(candidates), signal: this.r.next() < 0.5 ? 'SIGKILL' : 'SIGTERM' };
      }
    }
    if (required.length > 0) return null; // coverage first
    const candidates = this.cluster.processes.filter((x) => this.feasible(x));
    if (candidates.length === 0) return null;
    return { p: this.r.pick(candidates), signal: this.r.next() < 0.5 ? 'SIGKILL' : 'SIGTERM' };
  }

  async act({ p, signal, leader = false }) {
    const c = this.cluster;
    this.busy.add(p.name);
    const rec = { name: p.name, kind: p.kind, signal, leader, oldPid: p.pid };
    this.actions.push(rec);
    try {
      if (p.kind === 'metastore' && !leader) rec.leader = (await c.metastoreLeader())?.name === p.name;
      rec.tKill = c.kill(p.name, signal);
      console.log(`[chaos +${((rec.tKill - this.t0) / 1000).toFixed(1)}s] ${signal} ${p.name}${rec.leader ? ' (metastore leader)' : ''} pid ${rec.oldPid}`);
      if (rec.leader) {
        (async () => {
          for (const until = rec.tKill + 60_000; Date.now() < until;) {
            const l = await c.metastoreLeader();
            if (l && l.name !== p.name && l.ready) { rec.newLeaderMs = Date.now() - rec.tKill; rec.newLeader = l.name; return; }
            await sleep(50);
          }
        })();
      }
      let exit = await c.waitExit(p.name, signal === 'SIGTERM' ? 60_000 : 15_000);
      if (!exit) {
        rec.hang = true; // did not exit: a hang on SIGTERM
        c.kill(p.name, 'SIGKILL');
        exit = await c.waitExit(p.name, 15_000);
      }
      rec.exit = exit;
      rec.tExit = Date.now();
      if (signal === 'SIGKILL') await sleep(1000 + this.r.int(2000));
      rec.tRestart = Date.now();
      c.restart(p.name);
      rec.newPid = p.pid;
      rec.tReady = await c.waitReady(p.name);
    } catch (err) {
      rec.error = err.message;
      console.error(`chaos action on ${p.name} failed: ${err.message}`);
    } finally {
      this.busy.delete(p.name);
    }
  }

  async run(untilMs) {
    this.t0 = Date.now();
    const required = ['leader', ...KINDS.filter((k) => k !== 'metastore')];
    for (let i = required.length - 1; i > 0; i--) { // shuffle
      const j = this.r.int(i + 1);
      [required[i], required[j]] = [required[j], required[i]];
    }
    const running = new Set();
    // Runs past untilMs only while some kind has not been hit yet (at most 2 minutes more).
    while ((Date.now() < untilMs || required.length > 0) && Date.now() < untilMs + 120_000) {
      await sleep(2500 + this.r.int(2500));
      if (running.size >= MAX_CONCURRENT_ACTIONS) continue;
      const choice = await this.pick(required);
      if (!choice) continue;
      const action = this.act(choice).finally(() => running.delete(action));
      running.add(action);
    }
    await Promise.all(running);
    this.missing = required;
  }
}

const fmt = (ms) => (ms === undefined || Number.isNaN(ms) ? '–' : `${(ms / 1000).toFixed(1)} s`);
const pct = (n, d) => (d === 0 ? '0 %' : `${((100 * n) / d).toFixed(2)} %`);

function recoveryTable(actions, load, checker) {
  for (const a of actions) {
    if (!a.tKill) continue;
    const push = load.pushes.filter((p) => p.created >= a.tKill && p.acked).reduce((m, p) => Math.min(m, p.acked), Infinity);
    a.pushRecoveryMs = push === Infinity ? undefined : push - a.tKill;
    const q = checker.queries.filter((x) => x.start >= a.tKill && x.ok).reduce((m, x) => Math.min(m, x.end), Infinity);
    a.queryRecoveryMs = q === Infinity ? undefined : q - a.tKill;
    a.readyMs = a.tReady ? a.tReady - a.tKill : undefined;
  }
  const rows = [];
  const summarize = (label, list) => {
    const med = (f) => percentile(list.map(f).filter((x) => x !== undefined), 0.5);
    const max = (f) => Math.max(...list.map(f).filter((x) => x !== undefined));
    rows.push({
      kind: label,
      kills: `${list.filter((a) => a.signal === 'SIGKILL').length}×9 + ${list.filter((a) => a.signal === 'SIGTERM').length}×TERM`,
      'kill → acked push (med / max)': `${fmt(med((a) => a.pushRecoveryMs))} / ${fmt(max((a) => a.pushRecoveryMs))}`,
      'kill → ok query (med / max)': `${fmt(med((a) => a.queryRecoveryMs))} / ${fmt(max((a) => a.queryRecoveryMs))}`,
      'kill → ready again (med / max)': `${fmt(med((a) => a.readyMs))} / ${fmt(max((a) => a.readyMs))}`,
      'kill → new leader': list.some((a) => a.newLeaderMs !== undefined) ? `${fmt(med((a) => a.newLeaderMs))} / ${fmt(max((a) => a.newLeaderMs))}` : '',
    });
  };
  for (const kind of KINDS) {
    const list = actions.filter((a) => a.kind === kind && a.tKill && !(kind === 'metastore' && a.leader && a.signal === 'SIGKILL'));
    if (list.length) summarize(kind === 'metastore' ? 'metastore (not leader or TERM)' : kind, list);
  }
  const leaderKills = actions.filter((a) => a.leader && a.signal === 'SIGKILL' && a.tKill);
  if (leaderKills.length) summarize('metastore leader, kill -9', leaderKills);
  return rows;
}

function markdown(rows) {
  const cols = Object.keys(rows[0]);
  return [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${cols.map((c) => r[c]).join(' | ')} |`)].join('\n');
}

describe('cluster chaos: components killed and restarted under load', () => {
  let cluster = null;
  let passed = false;
  after(() => stopCluster(cluster, passed));

  it(`loses nothing, doubles nothing and answers no wrong total (${CHAOS_SECONDS} s of chaos)`, { timeout: (CHAOS_SECONDS + 420) * 1000 }, async () => {
    console.log(`seed ${SEED} (EMBERS_CHAOS_SEED), ${CHAOS_SECONDS} s of chaos (EMBERS_CHAOS_SECONDS)`);
    const r = rng(SEED);
    cluster = await startCluster();
    console.table(cluster.processes.map((p) => ({ name: p.name, pid: p.pid, http: p.ports.http, internal: p.ports.internal, raft: p.ports.raft ?? '' })));
    console.log(`cluster directory: ${cluster.root}; metastore leader: ${(await cluster.metastoreLeader())?.name}`);

    const load = new PushLoad(cluster, { pushers: PUSHERS, seed: SEED });
    load.start();
    const checker = new QueryChecker(cluster, load);
    await sleep(3000); // some data before the first query and kill
    checker.start();
    const driver = new ChaosDriver(cluster, r);
    const chaosStart = Date.now();
    await driver.run(chaosStart + CHAOS_SECONDS * 1000);
    const chaosEnd = Date.now();
    console.log(`chaos over after ${((chaosEnd - chaosStart) / 1000).toFixed(1)} s, ${driver.actions.length} actions; waiting for every push to be acknowledged`);

    const stuck = await load.drain(60_000);
    await checker.stop();
    // The DLQ is the server's to re-index; the final totals are asked once it is empty.
    const dlqWaitMs = await cluster.waitDlqEmpty(60_000);
    const drainedAt = Date.now();
    await checker.recheckMismatches();
    const parkings = cluster.dlqParkings();
    for (const m of checker.mismatches) m.dlq = explainedByDlq(m, load, parkings);
    const wrong = checker.mismatches.filter((m) => !m.dlq);
    const short = checker.mismatches.filter((m) => m.dlq);
    const finalDiffs = stuck.length === 0 ? await finalTotals(cluster, load) : [];
    let converged = null;
    if (finalDiffs.length > 0) {
      // Diagnosis only (the check above already failed): does the answer become right later?
      for (let t = 0; t < 60 && converged === null; t++) {
        await sleep(1000);
        if ((await finalTotals(cluster, load)).length === 0) converged = Date.now() - drainedAt;
      }
    }

    // ---- Report.
    const during = load.attemptsIn(chaosStart, chaosEnd);
    const queriesDuring = checker.queries.filter((q) => q.start >= chaosStart && q.start < chaosEnd);
    const latencies = load.pushes.filter((p) => p.acked).map((p) => p.acked - p.created);
    const summary = {
      'chaos (s)': ((chaosEnd - chaosStart) / 1000).toFixed(0),
      actions: driver.actions.length,
      pushes: load.pushes.length,
      acknowledged: load.pushes.filter((p) => p.acked).length,
      'retried pushes': load.pushes.filter((p) => p.attempts > 1).length,
      'push attempts failed (chaos)': `${during.filter((a) => !a.ok).length} / ${during.length} (${pct(during.filter((a) => !a.ok).length, during.length)})`,
      'push ack p50 / p99 / max': `${percentile(latencies, 0.5)} / ${percentile(latencies, 0.99)} / ${Math.max(...latencies)} ms`,
      'queries failed (chaos)': `${queriesDuring.filter((q) => !q.ok).length} / ${queriesDuring.length} (${pct(queriesDuring.filter((q) => !q.ok).length, queriesDuring.length)})`,
      'wrong totals': wrong.length,
      'short by DLQ-parked pushes': short.length,
      'segments parked in the DLQ': parkings.length,
      'unexpected exits': cluster.unexpectedExits.length,
      'crashes on SIGTERM': driver.actions.filter((a) => a.signal === 'SIGTERM' && a.exit?.signal).length,
    };
    console.log('\n## Cluster chaos: summary');
    console.log(markdown([summary]));
    const rows = recoveryTable(driver.actions, load, checker);
    console.log('\n## Recovery per component kind');
    console.log(markdown(rows));
    console.log('\n## Actions');
    console.table(driver.actions.map((a) => ({
      t: `+${((a.tKill - driver.t0) / 1000).toFixed(1)}s`, name: a.name, signal: a.signal, leader: a.leader ? 'yes' : '',
      exit: a.exit ? (a.exit.signal ?? `code ${a.exit.code}`) : '?', push: fmt(a.pushRecoveryMs), query: fmt(a.queryRecoveryMs), ready: fmt(a.readyMs),
      newLeader: a.newLeaderMs !== undefined ? `${a.newLeader} ${fmt(a.newLeaderMs)}` : '', error: a.error ? a.error.split('\n')[0] : '',
    })));
    const errorKinds = new Map();
    for (const a of during.filter((x) => !x.ok)) {
      const key = `${a.status || 'network'} ${a.status ? a.error.slice(0, 80) : a.error}`;
      errorKinds.set(key, (errorKinds.get(key) ?? 0) + 1);
    }
    if (errorKinds.size) console.log('push attempt failures by kind:', Object.fromEntries(errorKinds));
    const queryErrors = new Map();
    for (const q of checker.queries.filter((x) => !x.ok)) {
      const key = `${q.status || 'network'} ${String(q.error).slice(0, 300)}`;
      queryErrors.set(key, (queryErrors.get(key) ?? 0) + 1);
    }
    if (queryErrors.size) console.log('query failures by kind:', Object.fromEntries(queryErrors));
    const status = await cluster.metastoreStatus();
    if (status) console.log('compaction levels at the end:', JSON.stringify(status.compaction?.levels));

    // ---- Checks (all collected, so the report above is always complete).
    const problems = [];
    if (stuck.length) problems.push(`${stuck.length} pushes not acknowledged within 60 s after the chaos: ${stuck.slice(0, 5).map((p) => `${p.id} (${p.attempts} attempts)`).join(', ')}`);
    if (load.badRequests.length) problems.push(`pushes refused as bad requests: ${JSON.stringify(load.badRequests.slice(0, 3))}`);
    if (dlqWaitMs === null) problems.push(`the DLQ still holds ${cluster.dlqPending()} parked segments 60 s after the chaos`);
    // A success status with a different total: a silently partial or doubled answer.
    const describe = (m) => `${m.target} answered ${m.service} [${m.start}, ${m.end}] = ${m.got}, ledger ${m.expected} ` +
      `(diff ${m.diff}) at +${((m.at - chaosStart) / 1000).toFixed(1)}s; asked again after the chaos: ${m.later}`;
    for (const m of wrong.slice(0, 10)) problems.push(`WRONG TOTAL during the chaos: ${describe(m)}`);
    if (wrong.length > 10) problems.push(`… ${wrong.length - 10} more wrong totals`);
    if (short.length > 0) {
      const lines = short.slice(0, 5).map((m) => `${describe(m)}; missing pushes ${m.dlqPushes.join(', ')}`);
      const msg = `DLQ VISIBILITY: ${short.length} answers were short by exactly the pushes acknowledged after their ` +
        `segment's metadata was parked in the DLQ (${parkings.length} parkings: ${parkings.slice(0, 3).map((k) => `${k.writer} ${k.key}`).join(', ')}):\n  ${lines.join('\n  ')}`;
      if (STRICT_DLQ) problems.push(msg);
      else console.log(`\n${msg}\n(not failing: EMBERS_CHAOS_STRICT_DLQ=0)`);
    }
    for (const d of finalDiffs) {
      problems.push(`FINAL TOTAL: ${d.frontend} answered ${d.service} = ${d.got} (HTTP ${d.status}${d.text ? ` ${d.text}` : ''}), ledger ${d.expected}` +
        (converged !== null ? ` (equal ${fmt(converged)} after the drain)` : ' (still different 60 s later)'));
    }
    const killedKinds = new Set(driver.actions.filter((a) => a.tKill).map((a) => a.kind));
    for (const k of KINDS) if (!killedKinds.has(k)) problems.push(`no ${k} was killed`);
    if (!driver.actions.some((a) => a.leader && a.signal === 'SIGKILL' && a.tKill)) problems.push('the metastore leader was never killed with SIGKILL');
    const shutdownCrashes = [];
    for (const a of driver.actions) {
      if (a.hang) problems.push(`HANG: ${a.name} did not exit within 60 s of SIGTERM`);
      else if (a.signal === 'SIGTERM' && a.exit && a.exit.code !== 0) {
        const msg = `${a.name} exited with ${a.exit.signal ?? `code ${a.exit.code}`} after SIGTERM (+${((a.tKill - chaosStart) / 1000).toFixed(1)}s)`;
        (knownShutdownCrash(a.exit) ? shutdownCrashes : problems).push(msg);
      }
      if (a.error) problems.push(`${a.name}: ${a.error.split('\n')[0]}`);
    }
    if (shutdownCrashes.length) {
      console.log(`\nCRASH WHILE SHUTTING DOWN (cluster.mjs STRICT_SHUTDOWN): ${shutdownCrashes.join('; ')}\n` +
        '(not failing: EMBERS_CHAOS_STRICT_SHUTDOWN=0)');
    }
    for (const e of cluster.unexpectedExits) {
      problems.push(`CRASH: ${e.name} (pid ${e.pid}) exited by itself (${e.exit.signal ?? `code ${e.exit.code}`}) at +${((e.at - chaosStart) / 1000).toFixed(1)}s; last log: ${e.log.split('\n').slice(-4).join(' | ')}`);
    }
    if (problems.length) console.error(`\n${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
    assert.deepEqual(problems, []);
    passed = true;
  });
});
