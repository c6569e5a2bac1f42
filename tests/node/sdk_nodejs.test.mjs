// The real Node.js SDK (@pyroscope/nodejs, pinned in package.json) against the real embers binary.
// A child Node program (apps/pyroscope_nodejs_app.mjs) profiles wall time and heap with the SDK,
// burns CPU and allocates for a few seconds with a 1 s flush interval, and stops the SDK. The SDK
// sends gzip'ed pprof bodies to POST /ingest?format=pprof&spyName=nodespy (wall with sampleRate,
// heap without). Checked: every upload is answered 200, the SDK logs no error, the /metrics
// counters moved (route /ingest with status 200, profiles accepted for the tenant), and
// QuerierService/ProfileTypes lists the wall and the heap (memory) types.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { call, show, stopCleanly, useEmbers } from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const APP = path.join(HERE, 'apps', 'pyroscope_nodejs_app.mjs');
const RUN_MS = 4500; // 4 flushes of 1 s, then the last wall profile on stop()
const CHILD_TIMEOUT_MS = 30_000;

/** Prometheus text → [{name, labels: {k: v}, value}]. */
function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]), line });
  }
  return out;
}

/** Sum of the samples of `name` whose labels include `want`. */
function metricSum(samples, name, want = {}) {
  return samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

/** Runs the SDK program; resolves to {code, signal, stdout, stderr}. Killed after CHILD_TIMEOUT_MS. */
function runSdkApp(serverAddress) {
  const env = { ...process.env, DEBUG: 'pyroscope*', DEBUG_COLORS: '0' };
  // The SDK prefers these over its config (the ADHOC address even over serverAddress).
  for (const k of Object.keys(env)) if (k.startsWith('PYROSCOPE_')) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [APP, serverAddress, String(RUN_MS)],
      { cwd: HERE, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

describe('@pyroscope/nodejs SDK end to end', () => {
  const embers = useEmbers({ extraArgs: ['-segment-writer.segment-duration=100ms'] });
  let before;
  let run;
  let uploads;

  const metrics = async () => {
    const res = await call(embers(), '/metrics');
    assert.equal(res.status, 200, show(res));
    return parseMetrics(res.text);
  };
  const ingestOk = (m) => metricSum(m, 'embers_http_requests_total', { route: '/ingest', status_code: '200' });
  const profiles = (m) => metricSum(m, 'embers_distributor_profiles_total', { tenant: 'anonymous' });

  it('the SDK profiles a program for a few seconds and exits cleanly', { timeout: 45_000 }, async () => {
    before = await metrics();
    run = await runSdkApp(embers().baseUrl);
    const why = `exit ${run.code ?? run.signal}\n--- SDK app stderr ---\n${run.stderr.slice(-4000)}`;
    assert.equal(run.code, 0, `the SDK program failed: ${why}`);
    const line = run.stdout.trim().split('\n').pop();
    ({ uploads } = JSON.parse(line));
    assert.ok(Array.isArray(uploads), `no upload list on stdout: ${run.stdout.slice(0, 500)}`);
  });

  it('every upload (wall and heap) was answered 200', () => {
    assert.ok(uploads, 'the SDK program did not run');
    const bad = uploads.filter((u) => u.status !== 200);
    assert.deepEqual(bad, [], `uploads not accepted:\n${JSON.stringify(bad, null, 1)}`);
    for (const u of uploads) {
      const url = new URL(u.url);
      assert.equal(url.pathname, '/ingest');
      assert.equal(url.searchParams.get('format'), 'pprof');
      assert.equal(url.searchParams.get('spyName'), 'nodespy');
      assert.match(url.searchParams.get('name'), /^e2e-node\{.*\be2e=sdk_nodejs\b/);
    }
    // Wall profiles carry sampleRate, heap profiles do not.
    const wall = uploads.filter((u) => new URL(u.url).searchParams.has('sampleRate'));
    const heap = uploads.filter((u) => !new URL(u.url).searchParams.has('sampleRate'));
    assert.ok(wall.length >= 2, `expected >= 2 wall uploads, got ${wall.length}`);
    assert.ok(heap.length >= 2, `expected >= 2 heap uploads, got ${heap.length}`);
  });

  it('the SDK logged no error', () => {
    assert.ok(run, 'the SDK program did not run');
    const errors = run.stderr.split('\n')
      .filter((l) => /\[sdk (error|fatal|warn)\]|rejected|Error sending|Unknown error|failed/i.test(l));
    assert.deepEqual(errors, [], `the SDK logged errors:\n${errors.join('\n')}`);
  });

  it('/metrics counted the uploads: route /ingest with status 200 and accepted profiles', async () => {
    assert.ok(uploads, 'the SDK program did not run');
    const after = await metrics();
    const ingested = ingestOk(after) - ingestOk(before);
    assert.equal(ingested, uploads.length, `embers_http_requests_total{route="/ingest",status_code="200"} ` +
      `moved by ${ingested}, the SDK made ${uploads.length} uploads:\n` +
      after.filter((s) => s.name === 'embers_http_requests_total').map((s) => s.line).join('\n'));
    assert.ok(ingested >= 4, `only ${ingested} /ingest requests answered 200`);
    const accepted = profiles(after) - profiles(before);
    assert.ok(accepted >= uploads.length, `embers_distributor_profiles_total{tenant="anonymous"} moved by ` +
      `${accepted} for ${uploads.length} uploads:\n` +
      after.filter((s) => s.name.startsWith('embers_distributor_')).map((s) => s.line).join('\n'));
  });

  it('ProfileTypes lists the wall and heap types of the app', { timeout: 15_000 }, async () => {
    const res = await call(embers(), '/querier.v1.QuerierService/ProfileTypes', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ start: 1, end: Date.now() }),
    });
    assert.equal(res.status, 200, show(res));
    const ids = (res.json().profileTypes ?? []).map((t) => t.ID);
    for (const want of ['wall:wall:nanoseconds:wall:nanoseconds', 'wall:samples:count:wall:nanoseconds',
      'memory:inuse_space:bytes:inuse_space:bytes', 'memory:inuse_objects:count:inuse_space:bytes']) {
      assert.ok(ids.includes(want), `${want} missing from ${JSON.stringify(ids)}`);
    }
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});
