// Durability of acknowledged pushes (the product's promise, DESIGN §2): pushes are sent
// continuously, the server is killed with SIGKILL in the middle of the load, and after a restart
// on the same data directories every push that had been acknowledged is still there — its
// profile type (one unique __name__ per push) is listed by ProfileTypes, which the metastore
// answers from its Raft log and snapshots.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, after } from 'node:test';
import { EMBERS_BIN, EMBERS_SRC, HOST, freeStablePort, listeningPorts, request } from './harness.mjs';

const TESTDATA = process.env.EMBERS_TESTDATA || path.join(EMBERS_SRC, '..', 'shared', 'testdata');
const PROFILE = path.join(TESTDATA, 'pyroscope', 'pprof', 'go_cpu_tiny.pb.gz');

describe('acknowledged pushes survive kill -9', { skip: fs.existsSync(PROFILE) ? false : `no testdata at ${PROFILE}` }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-durability-'));
  let child = null;
  let ports = null;
  let log = '';
  after(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start() {
    // The first start binds any free HTTP/gRPC ports and reports them; restarts reuse them.
    if (!ports) ports = { http: 0, grpc: 0, internal: 0, raft: await freeStablePort() };
    log = '';
    child = spawn(EMBERS_BIN, [
      `-server.http-listen-address=${HOST}`, `-server.http-listen-port=${ports.http}`,
      `-server.grpc-listen-address=${HOST}`, `-server.grpc-listen-port=${ports.grpc}`,
      `-server.internal-grpc-listen-address=${HOST}`, `-server.internal-grpc-listen-port=${ports.internal}`,
      `-metastore.raft.bind-address=${HOST}:${ports.raft}`,
      `-storage.filesystem.dir=${path.join(dir, 'bucket')}`, `-metastore.data-dir=${path.join(dir, 'metastore')}`,
      '-validation.reject-older-than=0', '-distributor.ingestion-rate-limit-mb=0',
      '-segment-writer.segment-duration=100ms',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (c) => { log = (log + c.toString()).slice(-20000); });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (!ports.http) {
        const bound = listeningPorts(log);
        if (!bound) { await new Promise((r) => setTimeout(r, 20)); continue; }
        ports = { ...ports, ...bound };
      }
      try {
        const res = await request(`http://${HOST}:${ports.http}/ready`, { timeoutMs: 1000 });
        if (res.status === 200) return;
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`embers did not become ready:\n${log}`);
  }

  function push(name) {
    const body = JSON.stringify({
      series: [{
        labels: [{ name: '__name__', value: name }, { name: 'service_name', value: 'durable' }],
        samples: [{ rawProfile: fs.readFileSync(PROFILE).toString('base64'), ID: name }],
      }],
    });
    return request(`http://${HOST}:${ports.http}/push.v1.PusherService/Push`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body, timeoutMs: 10_000,
    });
  }

  it('every acknowledged push is still there after SIGKILL and restart', { timeout: 90_000 }, async () => {
    await start();
    const acknowledged = [];
    let stop = false;
    let sent = 0;
    // 8 concurrent pushers until the kill; each push has its own profile name.
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const name = `durable_${w}_${i}`;
        sent++;
        try {
          const res = await push(name);
          if (res.status === 200) acknowledged.push(name);
        } catch { /* the connection died with the server: not acknowledged */ }
      }
    });
    // Let some pushes complete, then kill in the middle of the load.
    while (acknowledged.length < 20) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await new Promise((r) => child.once('exit', r));
    assert.ok(acknowledged.length >= 20, `only ${acknowledged.length} of ${sent} pushes acknowledged`);

    await start();
    const res = await request(`http://${HOST}:${ports.http}/querier.v1.QuerierService/ProfileTypes`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ start: 1, end: Date.now() }), timeoutMs: 10_000,
    });
    assert.equal(res.status, 200, res.text);
    const names = new Set(res.json().profileTypes.map((t) => t.name));
    const lost = acknowledged.filter((n) => !names.has(n));
    assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged pushes lost after kill -9`);
    // The metastore status page shows the restarted single node leading, with the blocks it replayed.
    const status = await request(`http://${HOST}:${ports.http}/metastore/status`, { timeoutMs: 5_000 });
    assert.equal(status.status, 200, status.text);
    const st = status.json();
    assert.equal(st.state, 'leader', status.text);
    assert.ok(st.blocks >= 1, status.text);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});
