// embers-cli against the real server (issue 17): every subcommand's --help; `upload` of a
// directory of mixed formats (pprof gzipped and not, folded, JFR, speedscope) and its summary;
// `query merge` writing a pprof that `go tool pprof -top` (the oracle) reads with the totals that
// were pushed; `query top`, `query series` as CSV that parses, `query diff`, `labels`,
// `label-values`, `profile-types`; `admin status`, `admin blocks ls`, `admin compaction status`;
// `bucket inspect` and `bucket verify` finding a corrupted byte, a missing object and an orphan
// planted here; `canary`; and the failures a user makes — wrong URL, wrong tenant, bad time
// range, unreadable file — each one clear line on stderr and a non-zero exit, never a trace.
// The bucket commands are run on a filesystem bucket and on S3 (a real s3rver).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync, spawn } from 'node:child_process';
import { describe, it, before, after } from 'node:test';
import { createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EMBERS_SRC, bucketObjects, startServer, useEmbers } from './harness.mjs';
import { startS3rver } from './s3rver.mjs';
import { compileDescriptorSet } from './protos.mjs';
import { pprofTop } from './pprof_oracle.mjs';

const CLI = process.env.EMBERS_CLI_BIN || path.join(EMBERS_SRC, 'build', 'src', 'cmd', 'cli', 'embers-cli');
const TESTDATA = process.env.EMBERS_TESTDATA || path.join(EMBERS_SRC, '..', 'shared', 'testdata');
const DATA = path.join(TESTDATA, 'pyroscope');
const haveTestdata = fs.existsSync(path.join(DATA, 'pprof'));
const haveGo = spawnSync('go', ['version'], { timeout: 10_000 }).status === 0;
const skip = !fs.existsSync(CLI) ? `no embers-cli at ${CLI}` : !haveTestdata ? `no testdata at ${DATA}` : false;

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-cli-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs embers-cli synchronously; returns {status, stdout, stderr}. */
function runCli(args, env = {}) {
  const r = spawnSync(CLI, args, { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  assert.equal(r.error, undefined, `embers-cli did not run: ${r.error}`);
  return r;
}

/** Runs embers-cli without blocking the event loop (the server's own test hooks keep running). */
function runCliAsync(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(CLI, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A user-facing failure: non-zero, exactly one line on stderr, no trace or abort text. */
function assertOneLineError(r, code, pattern) {
  assert.notEqual(r.status, 0, `expected a failure, got exit 0\n${r.stdout}`);
  if (code !== undefined) assert.equal(r.status, code, `exit code ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /^embers-cli: /);
  if (pattern) assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /terminate called|Aborted|stack trace|backtrace|Segmentation/);
}

/** Minimal RFC 4180 parser (quoted fields, doubled quotes, CRLF). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\r') { /* CRLF */ } else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

describe('embers-cli against the real server', { skip }, () => {
  // Multi-tenant, so that a wrong tenant is a tenant with no data. No compaction during the test:
  // the segments it replaces stay in the bucket until the cleanup delay, unindexed, and `bucket
  // verify --orphan-min-age 0s` would rightly call them orphans.
  const ARGS = ['-segment-writer.segment-duration=100ms', '-auth.multitenancy-enabled=true',
    '-compaction.batch-max-blocks=1000,10,10', '-compaction.batch-max-age=24h,12m,3h'];
  const embers = useEmbers({ extraArgs: ARGS });
  let env;
  let profileSchema;
  const now = Date.now();
  const mixed = path.join(tmp, 'mixed');
  const oracleFiles = [];

  before(() => {
    env = { EMBERS_URL: embers().baseUrl, EMBERS_METASTORE_ADDRESS: embers().internalAddress, EMBERS_TENANT_ID: 'cli-e2e' };
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, compileDescriptorSet('google/v1/profile.proto')));
    profileSchema = registry.getMessage('google.v1.Profile');
    // pprof keeps its own timestamp: move the test files to now (the server refuses old ones).
    const moved = (file, gzip) => {
      const raw = fs.readFileSync(path.join(DATA, 'pprof', file));
      const p = fromBinary(profileSchema, raw[0] === 0x1f ? zlib.gunzipSync(raw) : raw);
      p.timeNanos = BigInt(now) * 1_000_000n;
      const bytes = toBinary(profileSchema, p);
      return gzip ? zlib.gzipSync(bytes) : Buffer.from(bytes);
    };
    fs.mkdirSync(path.join(mixed, 'nested'), { recursive: true });
    fs.writeFileSync(path.join(mixed, 'cpu.pb.gz'), moved('go_cpu_tiny.pb.gz', true));
    fs.writeFileSync(path.join(mixed, 'nested', 'heap.pb'), moved('go_heap_uncompressed.pb', false));
    fs.copyFileSync(path.join(DATA, 'folded', 'java_kafka_cpu.folded'), path.join(mixed, 'stacks.txt'));
    fs.copyFileSync(path.join(DATA, 'jfr', 'kafka_cpu.jfr.gz'), path.join(mixed, 'nested', 'kafka.jfr.gz'));
    fs.copyFileSync(path.join(DATA, 'speedscope', 'two-sampled.speedscope.json'), path.join(mixed, 'app.json'));
    fs.writeFileSync(path.join(mixed, '.hidden'), 'not a profile');
    // The oracle pair: two Go CPU profiles of one service.
    for (const f of ['go_cpu_tiny.pb.gz', 'go_cpu_with_labels.pb.gz']) {
      const out = path.join(tmp, `oracle-${f}`);
      fs.writeFileSync(out, moved(f, true));
      oracleFiles.push(out);
    }
  });

  it('prints --help for every subcommand', () => {
    const commands = [[], ['upload'], ['query'], ['query', 'merge'], ['query', 'top'], ['query', 'series'],
      ['query', 'diff'], ['labels'], ['label-values'], ['profile-types'], ['admin'], ['admin', 'status'],
      ['admin', 'blocks'], ['admin', 'blocks', 'ls'], ['admin', 'compaction'], ['admin', 'compaction', 'status'],
      ['bucket'], ['bucket', 'inspect'], ['bucket', 'verify'], ['canary']];
    for (const c of commands) {
      const r = runCli([...c, '--help']);
      assert.equal(r.status, 0, `${c.join(' ')} --help: ${r.stderr}`);
      assert.match(r.stdout, /Usage:/, `${c.join(' ')} --help printed no usage`);
      assert.match(r.stdout, /--help/);
    }
    const v = runCli(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /embers-cli \d+\.\d+/);
  });

  it('uploads a directory of mixed formats and reports each file', async () => {
    const r = await runCliAsync(['upload', mixed, '--service-name', 'cli-mixed', '--label', 'env=test'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /uploaded 5 of 5 files .* 0 rejected/);
    // Not a terminal: plain progress lines, no carriage-return redraws.
    assert.doesNotMatch(r.stderr, /\r/);
    assert.match(r.stderr, /upload: 5\/5 files/);
  });

  it('rejects what is not a profile, names the file and the reason, and exits 5', async () => {
    const bad = path.join(tmp, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'notes.txt'), 'these are not stack traces\n');
    fs.copyFileSync(path.join(mixed, 'cpu.pb.gz'), path.join(bad, 'ok.pb.gz'));
    const r = await runCliAsync(['upload', bad, '--service-name', 'cli-bad', '-o', 'json'], env);
    assert.equal(r.status, 5, r.stderr);
    const rejected = JSON.parse(r.stdout);
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0].file, path.join(bad, 'notes.txt'));
    assert.match(rejected[0].reason, /not a profile/);
    assert.match(r.stderr, /uploaded 1 of 2 files/);
    assert.match(r.stderr.trimEnd().split('\n').at(-1), /^embers-cli: 1 of 2 files were rejected$/);
  });

  it('query merge writes a pprof that go tool pprof reads with the pushed totals', { skip: !haveGo && 'no go toolchain' }, async () => {
    const up = await runCliAsync(['upload', ...oracleFiles, '--service-name', 'cli-oracle'], env);
    assert.equal(up.status, 0, up.stderr);
    const out = path.join(tmp, 'merged.pb.gz');
    let r;
    // Segments are flushed every 100 ms; the first query may come before the index has them.
    for (let i = 0; i < 50; i++) {
      r = await runCliAsync(['query', 'merge', '-t', CPU, '-l', '{service_name="cli-oracle"}', '-O', out], env);
      if (r.status === 0) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(r.status, 0, r.stderr);
    const expected = pprofTop(oracleFiles, { sampleIndex: 'cpu', unit: 'ns' });
    const got = pprofTop([out], { unit: 'ns' });
    assert.equal(got.total, expected.total);
    for (const [name, v] of expected.byName) {
      assert.deepEqual(got.byName.get(name), v, `function ${name}`);
    }
  });

  it('query top, collapsed, series (CSV), diff, labels, label-values and profile-types', async () => {
    const sel = ['-t', CPU, '-l', '{service_name="cli-oracle"}'];
    const top = runCli(['query', 'top', ...sel, '--limit', '5', '-o', 'json'], env);
    assert.equal(top.status, 0, top.stderr);
    const rows = JSON.parse(top.stdout);
    assert.ok(rows.length > 0 && rows.length <= 5);
    const expected = pprofTop(oracleFiles, { sampleIndex: 'cpu', unit: 'ns' });
    for (const row of rows) {
      assert.equal(`${row.self}ns`, expected.byName.get(row.function)?.flat ?? `${row.self}ns`);
    }

    const collapsed = runCli(['query', 'merge', ...sel, '--format', 'collapsed'], env);
    assert.equal(collapsed.status, 0, collapsed.stderr);
    const sum = collapsed.stdout.trim().split('\n').reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    assert.equal(`${sum}ns`, expected.total);

    const series = runCli(['query', 'series', ...sel, '--group-by', 'service_name', '--step', '1m', '-o', 'csv'], env);
    assert.equal(series.status, 0, series.stderr);
    const csv = parseCsv(series.stdout);
    assert.deepEqual(csv[0], ['time', 'service_name', 'value']);
    assert.ok(csv.length >= 2, series.stdout);
    let seriesTotal = 0;
    for (const [time, svc, value] of csv.slice(1)) {
      assert.ok(!Number.isNaN(Date.parse(time)), time);
      assert.equal(svc, 'cli-oracle');
      seriesTotal += Number(value);
    }
    assert.equal(`${seriesTotal}ns`, expected.total);

    const diff = runCli(['query', 'diff', '-t', CPU, '--left-query', '{service_name="cli-oracle"}',
      '--right-query', '{service_name="cli-mixed"}', '-o', 'json'], env);
    assert.equal(diff.status, 0, diff.stderr);
    const changes = JSON.parse(diff.stdout);
    assert.ok(changes.length > 0);
    assert.match(changes[0].change, /^[+-]\d+\.\d\d%$/);

    const labels = runCli(['labels', '-o', 'json'], env);
    assert.equal(labels.status, 0, labels.stderr);
    const names = JSON.parse(labels.stdout).map((r) => r.name);
    assert.ok(names.includes('service_name') && names.includes('env'), names.join(','));

    const values = runCli(['label-values', 'service_name', '-o', 'csv'], env);
    assert.equal(values.status, 0, values.stderr);
    const services = parseCsv(values.stdout).slice(1).map((r) => r[0]);
    assert.ok(services.includes('cli-mixed') && services.includes('cli-oracle'), services.join(','));

    const types = runCli(['profile-types', '-o', 'json'], env);
    assert.equal(types.status, 0, types.stderr);
    const ids = JSON.parse(types.stdout).map((t) => t.id);
    // pprof CPU and heap, JFR and the folded/speedscope uploads each add their types.
    assert.ok(ids.includes(CPU), ids.join(','));
    assert.ok(ids.some((id) => id.startsWith('memory:')), ids.join(','));
    assert.ok(ids.length >= 4, ids.join(','));
  });

  it('admin status, blocks ls and compaction status read the metastore', () => {
    const status = runCli(['admin', 'status', '-o', 'json'], env);
    assert.equal(status.status, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.equal(s['metastore nodes'].length, 1);
    assert.equal(s['metastore nodes'][0].state, 'leader');
    assert.ok(s['metastore nodes'][0].blocks > 0);
    assert.ok(s.tenants.some((t) => t.tenant === 'cli-e2e' && t.blocks > 0), status.stdout);

    const blocks = runCli(['admin', 'blocks', 'ls', '-o', 'json'], env);
    assert.equal(blocks.status, 0, blocks.stderr);
    const list = JSON.parse(blocks.stdout);
    assert.ok(list.length > 0);
    for (const b of list) {
      assert.ok(fs.existsSync(path.join(embers().dir, 'data', b.key)), `indexed object ${b.key} is in the bucket`);
    }

    const compaction = runCli(['admin', 'compaction', 'status', '-o', 'json'], env);
    assert.equal(compaction.status, 0, compaction.stderr);
    assert.ok(Array.isArray(JSON.parse(compaction.stdout).levels));
  });

  it('canary pushes a profile and reads it back', async () => {
    const r = await runCliAsync(['canary', '--deadline', '20s'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /read back after \d+ ms/);
  });

  it('fails clearly: wrong URL, wrong tenant, bad time range, unreadable file, bad flag', async () => {
    // Nothing listens on port 1.
    assertOneLineError(runCli(['labels', '--url', 'http://127.0.0.1:1', '--timeout', '3s'], {}), 3, /127\.0\.0\.1:1/);
    assertOneLineError(runCli(['labels', '--url', 'localhost:4040']), 2, /must start with http/);
    // A tenant with no data: nothing to merge is an error, not an empty file.
    assertOneLineError(runCli(['query', 'merge', '-t', CPU, '--tenant-id', 'nobody-here'], env), 1,
      /no .* profiles match .* tenant "nobody-here"/);
    assertOneLineError(runCli(['query', 'top', '--from', 'yesterday'], env), 2, /--from "yesterday"/);
    assertOneLineError(runCli(['query', 'top', '--from', 'now', '--to', 'now-1h'], env), 2, /must be before/);
    assertOneLineError(runCli(['query', 'top', '-l', '{service_name=}'], env), 2, /HTTP 400/);
    assertOneLineError(runCli(['upload', path.join(tmp, 'does-not-exist.pb')], env), 2, /no such file/);
    assertOneLineError(runCli(['query', 'top', '--no-such-flag'], env), 2, /no-such-flag/);
    assertOneLineError(runCli(['admin', 'status', '--metastore-address', '127.0.0.1:1', '--timeout', '3s'], env), 3,
      /no metastore answered/);
  });

  it('bucket verify finds a corrupted byte, a missing object and an orphan', async () => {
    const dataDir = path.join(embers().dir, 'data');
    const bucket = ['--storage.backend', 'filesystem', '--storage.filesystem.dir', dataDir];
    // Everything flushed and indexed: the clean bucket verifies.
    let clean;
    for (let i = 0; i < 30; i++) {
      clean = await runCliAsync(['bucket', 'verify', ...bucket, '--orphan-min-age', '0s', '-o', 'json'], env);
      if (clean.status === 0) break;
      await new Promise((res) => setTimeout(res, 300));
    }
    assert.equal(clean.status, 0, `${clean.stdout}\n${clean.stderr}`);

    const keys = bucketObjects(dataDir).filter((k) => k.startsWith('segments/')).sort();
    assert.ok(keys.length >= 3, keys.join('\n'));
    const inspect = runCli(['bucket', 'inspect', ...bucket, keys[0], '-o', 'json'], env);
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.ok(JSON.stringify(JSON.parse(inspect.stdout)).includes('datasets'));

    await embers().stop();
    // A corrupted byte in the middle of one object, another object deleted, and an unindexed copy.
    const corrupt = path.join(dataDir, keys[0]);
    const bytes = fs.readFileSync(corrupt);
    bytes[Math.floor(bytes.length / 3)] ^= 0xff;
    fs.writeFileSync(corrupt, bytes);
    fs.rmSync(path.join(dataDir, keys[1]));
    const orphanKey = keys[2].replace(/[0-9A-Z]{26}/, '01J00000000000000000000000');
    fs.mkdirSync(path.dirname(path.join(dataDir, orphanKey)), { recursive: true });
    fs.copyFileSync(path.join(dataDir, keys[2]), path.join(dataDir, orphanKey));
    // The metastore keeps its index on restart; the bucket is read directly.
    const restarted = await (await import('./harness.mjs')).startServer({
      dir: embers().dir, ports: embers().ports,
      extraArgs: ARGS });
    try {
      const r = await runCliAsync(['bucket', 'verify', ...bucket, '--orphan-min-age', '0s', '-o', 'json'],
        { ...env, EMBERS_METASTORE_ADDRESS: restarted.internalAddress });
      assert.equal(r.status, 5, `${r.stdout}\n${r.stderr}`);
      const text = r.stdout;
      assert.ok(text.includes(keys[0]), `corrupt ${keys[0]} reported:\n${text}`);
      assert.ok(text.includes(keys[1]), `missing ${keys[1]} reported:\n${text}`);
      assert.ok(text.includes(orphanKey), `orphan ${orphanKey} reported:\n${text}`);
    } finally {
      await restarted.stop();
    }
  });
});

describe('embers-cli bucket commands on S3 (s3rver)', { skip }, () => {
  const BUCKET = 'cli-bucket';
  // The internal port of this server requires a cluster secret, as a cluster's does.
  const SECRET = 'cli-e2e-secret';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-cli-s3-'));
  let s3rver;
  let embers;
  let env;
  let s3Flags;
  after(async () => {
    if (embers) await embers.kill();
    s3rver?.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  before(async () => {
    s3rver = await startS3rver(path.join(dir, 's3rver'), BUCKET);
    const server = {
      'storage.backend': 's3', 'storage.s3.endpoint': s3rver.endpoint, 'storage.s3.bucket-name': BUCKET,
      'storage.s3.insecure': 'true', 'storage.s3.access-key-id': 'S3RVER', 'storage.s3.secret-access-key': 'S3RVER',
    };
    fs.mkdirSync(path.join(dir, 'embers'), { recursive: true });
    embers = await startServer({ dir: path.join(dir, 'embers'), extraArgs: [
      ...Object.entries(server).map(([k, v]) => `-${k}=${v}`),
      '-segment-writer.segment-duration=100ms', `-server.cluster-secret=${SECRET}`,
      '-compaction.batch-max-blocks=1000,10,10', '-compaction.batch-max-age=24h,12m,3h'] });
    env = { EMBERS_URL: embers.baseUrl, EMBERS_METASTORE_ADDRESS: embers.internalAddress, EMBERS_CLUSTER_SECRET: SECRET };
    s3Flags = Object.entries(server).flatMap(([k, v]) => (v === 'true' ? [`--${k}`] : [`--${k}`, v]));
  });

  it('admin commands need the cluster secret, and say so', () => {
    const { EMBERS_CLUSTER_SECRET, ...noSecret } = env;
    assertOneLineError(runCli(['admin', 'status'], noSecret), 4, /pass the cluster's -server.cluster-secret as --cluster-secret/);
    const ok = runCli(['admin', 'status', '-o', 'json'], env);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout)['metastore nodes'][0].state, 'leader');
  });

  it('verifies, inspects and finds a missing object in an S3 bucket', async () => {
    const up = await runCliAsync(['upload', path.join(DATA, 'folded', 'java_kafka_cpu.folded'),
      path.join(DATA, 'speedscope', 'simple.speedscope.json'), '-s', 'cli-s3'], env);
    assert.equal(up.status, 0, up.stderr);
    const blocks = JSON.parse(runCli(['admin', 'blocks', 'ls', '-o', 'json'], env).stdout);
    assert.ok(blocks.length > 0);

    const clean = await runCliAsync(['bucket', 'verify', ...s3Flags, '--orphan-min-age', '0s', '-o', 'json'], env);
    assert.equal(clean.status, 0, `${clean.stdout}\n${clean.stderr}`);
    const [summary] = JSON.parse(clean.stdout).summary;
    assert.equal(summary.objects, blocks.length);
    assert.equal(summary.indexed_blocks, blocks.length);
    assert.equal(summary.corrupt + summary.missing + summary.orphan, 0);

    const inspect = runCli(['bucket', 'inspect', ...s3Flags, blocks[0].key, '-o', 'json'], env);
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.match(inspect.stdout, /cli-s3/);

    // The object of an indexed block deleted behind the server's back, with an independent client.
    const sdk = new S3Client({ endpoint: `http://${s3rver.endpoint}`, region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await sdk.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: blocks[0].key }));
    const r = await runCliAsync(['bucket', 'verify', ...s3Flags, '--orphan-min-age', '0s', '-o', 'json'], env);
    assert.equal(r.status, 5, `${r.stdout}\n${r.stderr}`);
    const report = JSON.parse(r.stdout);
    assert.equal(report.summary[0].missing, 1);
    assert.ok(report.findings.some((f) => f.key === blocks[0].key), r.stdout);
    assert.match(r.stderr.trimEnd().split('\n').at(-1), /^embers-cli: .*1 missing/);
  });
});
