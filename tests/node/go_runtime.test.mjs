// Profiles written by the Go runtime itself (runtime/pprof) ingest through both APIs. The test
// builds tests/go/profgen with Debian's Go (GOPATH mode, offline, temporary GOPATH and GOCACHE),
// runs it for about a second (CPU profile + heap profile), then:
//  - pushes the CPU profile with push.v1.PusherService/Push over Connect (proto),
//  - posts the heap profile as a raw pprof body to /ingest?format=pprof&spyName=gospy,
// both acknowledged, and ProfileTypes lists the CPU types after the push and the heap types after
// /ingest. The other way round (heap via Push, CPU via /ingest) is acknowledged as well. Finally,
// for every profile type of the pushed runtime profiles, SelectMergeProfile's pprof gives the same
// `go tool pprof -top` table (flat and cum per function, total) as the files the runtime wrote.
// Skipped, with a message, when `go` is not installed (scripts/install-deps.sh --test installs it).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, before, after } from 'node:test';
import { toBinary } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { EMBERS_SRC, call, show, stopCleanly, useEmbers } from './harness.mjs';
import { pusherServiceDescriptor, querierServiceDescriptor } from './protos.mjs';
import { UNIT_FLAG, pprofTop } from './pprof_oracle.mjs';

const PROFGEN_SRC = path.join(EMBERS_SRC, 'tests', 'go', 'profgen', 'main.go');
const goVersion = spawnSync('go', ['version'], { encoding: 'utf8', timeout: 10_000 });
const skip = goVersion.error || goVersion.status !== 0
  ? `go is not installed (${goVersion.error?.code ?? goVersion.stderr?.trim()}); run scripts/install-deps.sh --test`
  : false;

const CPU_TYPES = ['process_cpu:cpu:nanoseconds:cpu:nanoseconds', 'process_cpu:samples:count:cpu:nanoseconds'];
const HEAP_TYPES = ['memory:alloc_space:bytes:space:bytes', 'memory:alloc_objects:count:space:bytes',
  'memory:inuse_space:bytes:space:bytes', 'memory:inuse_objects:count:space:bytes'];

/** Runs a command with a time bound; throws with its output if it fails. */
function run(cmd, args, options) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    throw new Error(`${cmd} ${args.join(' ')}: ${why}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return r;
}

describe('Go runtime profiles via Push and /ingest', { skip }, () => {
  const embers = useEmbers({ extraArgs: ['-segment-writer.segment-duration=100ms'] });
  let tmp;
  let cpuProfile;
  let heapProfile;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-e2e-go-'));
    const env = {
      PATH: process.env.PATH,
      HOME: tmp,
      GO111MODULE: 'off', // GOPATH mode: standard library only, nothing is downloaded
      GOPATH: path.join(tmp, 'gopath'),
      GOCACHE: path.join(tmp, 'gocache'),
      GOFLAGS: '',
      GOPROXY: 'off',
      CGO_ENABLED: '0',
    };
    const bin = path.join(tmp, 'profgen');
    run('go', ['build', '-o', bin, PROFGEN_SRC], { env, timeout: 120_000 });
    cpuProfile = path.join(tmp, 'cpu.pb.gz');
    heapProfile = path.join(tmp, 'heap.pb.gz');
    run(bin, ['-cpu', cpuProfile, '-heap', heapProfile, '-duration', '1s'], { env, timeout: 30_000 });
  });
  after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

  const connect = () => createConnectTransport({ httpVersion: '1.1', baseUrl: embers().baseUrl, useBinaryFormat: true });
  const push = (name, service, file) => createClient(pusherServiceDescriptor(), connect()).push({
    series: [{
      labels: [{ name: '__name__', value: name }, { name: 'service_name', value: service }],
      samples: [{ rawProfile: fs.readFileSync(file), ID: '' }],
    }],
  }, { timeoutMs: 10_000 });
  const ingest = (app, file) => call(embers(), `/ingest?format=pprof&spyName=gospy&name=${encodeURIComponent(app)}` +
    `&from=${Math.floor(Date.now() / 1000) - 5}&until=${Math.floor(Date.now() / 1000)}`, {
    method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: fs.readFileSync(file), timeoutMs: 20_000,
  });
  const profileTypes = async () => {
    const res = await createClient(querierServiceDescriptor(), connect())
      .profileTypes({ start: 1n, end: BigInt(Date.now()) }, { timeoutMs: 10_000 });
    return res.profileTypes.map((t) => t.ID).sort();
  };

  it('the Go program wrote a gzip-compressed CPU and heap profile', () => {
    for (const f of [cpuProfile, heapProfile]) {
      const b = fs.readFileSync(f);
      assert.ok(b.length > 100 && b[0] === 0x1f && b[1] === 0x8b, `${f}: ${b.length} bytes, not gzip`);
    }
  });

  it('the CPU profile pushed over Connect is acknowledged and ProfileTypes lists its types', { timeout: 30_000 }, async () => {
    await push('process_cpu', 'go-runtime-e2e', cpuProfile);
    const ids = await profileTypes();
    for (const want of CPU_TYPES) assert.ok(ids.includes(want), `${want} missing from ${ids}`);
    assert.ok(!ids.some((id) => id.startsWith('memory:')), `no heap profile was sent yet, but: ${ids}`);
  });

  it('the heap profile posted to /ingest (raw pprof, gospy) is 200 and ProfileTypes lists its types', { timeout: 30_000 }, async () => {
    const res = await ingest('go-runtime-e2e-ingest{e2e=go_runtime}', heapProfile);
    assert.equal(res.status, 200, show(res));
    const ids = await profileTypes();
    for (const want of HEAP_TYPES) assert.ok(ids.includes(want), `${want} missing from ${ids}`);
  });

  it('the other way round is accepted too: heap via Push, CPU via /ingest', { timeout: 30_000 }, async () => {
    await push('memory', 'go-runtime-e2e', heapProfile);
    const res = await ingest('go-runtime-e2e-ingest', cpuProfile);
    assert.equal(res.status, 200, show(res));
  });

  it('SelectMergeProfile of each runtime profile type equals go tool pprof -top on the file', { timeout: 60_000 }, async () => {
    await push('process_cpu', 'go-runtime-oracle', cpuProfile);
    await push('memory', 'go-runtime-oracle', heapProfile);
    const querier = createClient(querierServiceDescriptor(), connect());
    const now = BigInt(Date.now());
    const range = { start: now - 3_600_000n, end: now + 60_000n };
    const series = await querier.series({ matchers: ['{service_name="go-runtime-oracle"}'], labelNames: ['__profile_type__'], ...range }, { timeoutMs: 10_000 });
    const types = series.labelsSet.map((ls) => ls.labels[0].value).sort();
    assert.ok(types.includes(CPU_TYPES[0]), `CPU type stored: ${types}`);
    for (const type of types) {
      const [, sampleType, sampleUnit] = type.split(':');
      const merged = await querier.selectMergeProfile({ profileTypeID: type, labelSelector: '{service_name="go-runtime-oracle"}', ...range, maxNodes: 1_048_576n }, { timeoutMs: 30_000 });
      const file = path.join(tmp, `merged-${sampleType}.pb`);
      fs.writeFileSync(file, toBinary(querierServiceDescriptor().method.selectMergeProfile.output, merged));
      const source = type.startsWith('memory:') ? heapProfile : cpuProfile;
      const ours = pprofTop([file], { unit: UNIT_FLAG[sampleUnit] });
      const oracle = pprofTop([source], { sampleIndex: sampleType, unit: UNIT_FLAG[sampleUnit] });
      assert.equal(ours.total, oracle.total, `${type} total`);
      assert.deepEqual(new Map([...ours.byName].sort()), new Map([...oracle.byName].sort()), `${type} per function`);
    }
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});
