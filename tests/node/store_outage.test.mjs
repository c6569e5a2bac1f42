// The object store dies under load and comes back (issue 13), for S3 (s3rver) and Azure Blob
// (azurite): while it is down, pushes are answered 503 (the segment could not be stored) and none
// is acknowledged; once it is back on the same data, pushes succeed again without restarting
// embers, and every push that was ever acknowledged is in the query result.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, after } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import { azuriteConnectionString, startAzurite } from './azurite.mjs';
import { call, show, startServer } from './harness.mjs';
import { killStore, startS3rver } from './s3rver.mjs';
import { encodeProfile } from './synthetic_profiles.mjs';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const BUCKET = 'embers';
const SERVICE = 'outage-svc';

// Each store: how to start it (again on the same data and port) and the flags embers reaches it with.
const STORES = {
  s3: {
    start: (dir, options) => startS3rver(dir, BUCKET, options),
    stopSignal: 'SIGKILL',
    flags: (store) => [
      '-storage.backend=s3', `-storage.s3.endpoint=${store.endpoint}`, `-storage.s3.bucket-name=${BUCKET}`,
      '-storage.s3.insecure=true', '-storage.s3.access-key-id=S3RVER', '-storage.s3.secret-access-key=S3RVER',
    ],
  },
  azure: {
    // azurite keeps its metadata (containers, blob lists) in an in-memory database it saves every
    // few seconds: after SIGKILL it comes back without what it had not saved, which no real store
    // does. SIGTERM makes it save and exit; for embers the outage is the same (connections refused).
    stopSignal: 'SIGTERM',
    start: async (dir, options) => {
      const azurite = await startAzurite(dir, options);
      if (!options) {
        await BlobServiceClient.fromConnectionString(azuriteConnectionString(azurite))
          .getContainerClient(BUCKET).create();
      }
      return azurite;
    },
    flags: (store) => [
      '-storage.backend=azure', `-storage.azure.connection-string=${azuriteConnectionString(store)}`,
      `-storage.azure.container-name=${BUCKET}`,
    ],
  },
};

for (const [name, kind] of Object.entries(STORES)) describe(`${name} outage under load`, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `embers-${name}-outage-`));
  let store;
  let embers;
  after(async () => {
    if (embers) await embers.kill();
    if (store) await killStore(store);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 while the store is down, recovers when it returns, and loses no acknowledged push', { timeout: 150_000 }, async () => {
    store = await kind.start(path.join(dir, 'store'));
    embers = await startServer({
      extraArgs: [...kind.flags(store), '-validation.reject-older-than=0', '-segment-writer.segment-duration=100ms'],
    });

    // Each push carries one function of its own, worth a value of its own: the query at the end
    // must show every acknowledged one.
    const acked = new Map(); // function name -> value
    const statuses = { up: new Map(), down: new Map(), back: new Map() };
    let phase = 'up';
    let stop = false;
    let n = 0;
    const push = async () => {
      const i = n++;
      const fn = `fn_${i}`;
      const value = 1_000_000 * (1 + (i % 97));
      const current = phase;
      let status;
      try {
        const res = await call(embers, '/push.v1.PusherService/Push', {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, timeoutMs: 60_000,
          body: JSON.stringify({ series: [{
            labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: SERVICE }],
            samples: [{ rawProfile: Buffer.from(encodeProfile({ samples: [{ stack: ['main', fn], cpu: value, count: 1 }], timeMs: Date.now() - 1000 })).toString('base64') }],
          }] }),
        });
        status = res.status;
        if (status === 200) acked.set(fn, value);
      } catch (err) {
        status = err.code || err.message;
      }
      statuses[current].set(status, (statuses[current].get(status) ?? 0) + 1);
    };
    const workers = Array.from({ length: 4 }, async () => { while (!stop) await push(); });
    const until = async (what, predicate, ms) => {
      const deadline = Date.now() + ms;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(Object.fromEntries(Object.entries(statuses).map(([k, v]) => [k, [...v]])))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const count = (p, s) => statuses[p].get(s) ?? 0;
    try {
      await until('acknowledged pushes before the outage', () => acked.size >= 20, 30_000);

      // The store dies in the middle of the load.
      await killStore(store, kind.stopSignal);
      phase = 'down';
      const outageStart = Date.now();
      const ackedBeforeOutage = acked.size;
      await until('503s during the outage', () => count('down', 503) >= 8, 60_000);
      const falseAcks = acked.size - ackedBeforeOutage;

      // It returns on the same data and port: embers recovers by itself.
      const outageMs = Date.now() - outageStart;
      store = await kind.start(path.join(dir, 'store'), { port: store.port });
      phase = 'back';
      const returned = Date.now();
      await until('the first acknowledged push after the store returned', () => count('back', 200) >= 1, 60_000);
      const recoveryMs = Date.now() - returned;
      await until('acknowledged pushes after the store returned', () => count('back', 200) >= 20, 60_000);
      const summary = Object.entries(statuses).map(([p, m]) => `${p}: ${[...m].map(([s, c]) => `${c}×${s}`).join(' ')}`);
      console.log(`${name}: outage ${outageMs} ms, ${falseAcks} acks completed while down, first ack ${recoveryMs} ms after the store returned; ${summary.join('; ')}`);
      stop = true;
      await Promise.all(workers);

      // During the outage only 503s, except pushes already uploaded when the store died (their
      // segment was stored: at most one flush per worker in flight).
      const downStatuses = [...statuses.down.keys()].filter((s) => s !== 200 && s !== 503);
      assert.deepEqual(downStatuses, [], `answers other than 503 during the outage: ${[...statuses.down]}`);
      assert.ok(falseAcks <= 4, `${falseAcks} pushes acknowledged while the store was down`);
      const upErrors = [...statuses.up.keys()].filter((s) => s !== 200 && s !== 503);
      assert.deepEqual(upErrors, [], `answers before the outage: ${[...statuses.up]}`);
    } finally {
      stop = true;
      await Promise.all(workers);
    }

    // Every acknowledged push is there, with its value.
    const res = await call(embers, '/querier.v1.QuerierService/SelectMergeStacktraces', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        profileTypeID: CPU, labelSelector: `{service_name="${SERVICE}"}`,
        start: String(Date.now() - 3_600_000), end: String(Date.now() + 60_000), maxNodes: 100_000,
      }),
    });
    assert.equal(res.status, 200, show(res));
    const graph = JSON.parse(res.text).flamegraph;
    const totals = flamegraphTotals(graph);
    const lost = [...acked].filter(([fn, value]) => (totals.get(fn) ?? 0) < value).map(([fn]) => fn);
    assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged pushes missing`);
  });
});

// Total per function name of a flamebearer graph (levels of [x, total, self, name] quadruples,
// x relative to the previous node of the level).
function flamegraphTotals(graph) {
  const totals = new Map();
  for (const level of graph.levels) {
    for (let i = 0; i < level.values.length; i += 4) {
      const name = graph.names[level.values[i + 3]];
      totals.set(name, (totals.get(name) ?? 0) + Number(level.values[i + 1]));
    }
  }
  return totals;
}
