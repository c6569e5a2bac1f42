// Attacks on the running binary through the components' own gRPC services (issue 15): the
// internal services (metastore, segment-writer Push, query-backend Invoke) must not answer on the
// public ports; on their own listener they refuse calls without the cluster secret when one is set,
// and refuse hostile messages (bad tenant ids, shards out of range, impossible timestamps) even
// with it; a non-loopback internal listener without a secret does not start; a distributor and a
// segment-writer in two processes work with the same secret and not with different ones. And
// connection floods: 10,000 held connections leave /ready answering; beyond
// -server.http-max-connections connections are closed at once and counted.
// (Body limits, bombs and connection floods are in http_errors, ingest and connections.)

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it, before, after } from 'node:test';
import grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { EMBERS_BIN, call, show, softOpenFileLimit, startServer, stopCleanly, useEmbers } from './harness.mjs';
import { loadGrpcPackage } from './protos.mjs';
import { encodeProfile, pprofSchema } from './synthetic_profiles.mjs';

const SECRET = 'correct-horse-battery-staple';
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

// grpc-js clients of every internal service, at one address, closed together.
function internalClients(address) {
  const svc = (proto, name) => {
    const pkg = loadGrpcPackage(proto);
    const Service = name.split('.').reduce((o, k) => o?.[k], pkg);
    assert.ok(Service, `${proto} does not define ${name}`);
    return new Service(address, grpc.credentials.createInsecure());
  };
  const clients = {
    tenants: svc('metastore/v1/tenant.proto', 'metastore.v1.TenantService'),
    index: svc('metastore/v1/index.proto', 'metastore.v1.IndexService'),
    raft: svc('metastore/v1/raft_node.proto', 'metastore.v1.RaftNodeService'),
    writer: svc('segmentwriter/v1/segment_writer.proto', 'segmentwriter.v1.SegmentWriterService'),
    backend: svc('querybackend/v1/query_backend.proto', 'querybackend.v1.QueryBackendService'),
  };
  clients.close = () => Object.values(clients).forEach((c) => typeof c === 'function' || c.close());
  return clients;
}

// Resolves to {err, res}: the status error (code, details) or the response.
function grpcCall(client, method, req, metadata = {}) {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    client[method](req, md, { deadline: new Date(Date.now() + 10_000) },
      (err, res) => resolve({ err, res }));
  });
}

// A pprof with one sample type (what a segment-writer stores), from the synthetic CPU profile.
function oneTypeProfile(timeMs) {
  const p = fromBinary(pprofSchema(), encodeProfile({ samples: [{ stack: ['main', 'work'], cpu: 10_000_000, count: 1 }], timeMs }));
  p.sampleType = p.sampleType.slice(0, 1);
  for (const s of p.sample) s.value = s.value.slice(0, 1);
  return Buffer.from(toBinary(pprofSchema(), create(pprofSchema(), p)));
}

function pushRequest({ tenant = 'anonymous', shard = 0, timestampMs = Date.now() } = {}) {
  return {
    tenant_id: tenant,
    shard,
    profiles: [{
      service: 'attacker',
      labels: [{ name: '__profile_type__', value: CPU }, { name: 'service_name', value: 'attacker' }],
      timestamp_ms: String(timestampMs),
      duration_ns: '10000000000',
      profile: oneTypeProfile(Date.now()),
    }],
  };
}

describe('internal services are not on the public ports', () => {
  const embers = useEmbers();
  let pub; let internal;
  before(() => {
    pub = internalClients(embers().grpcAddress);
    internal = internalClients(embers().internalAddress);
  });
  after(() => { pub?.close(); internal?.close(); });

  const attacks = [
    ['tenants', 'GetTenants', {}],
    ['index', 'AddBlock', { block: { id: '01J00000000000000000000000' } }],
    ['raft', 'RemoveNode', { id: '1' }],
    ['raft', 'TransferLeadership', {}],
    ['writer', 'Push', { tenant_id: 'anonymous', shard: 7 }],
    ['backend', 'Invoke', {}],
  ];

  it('every internal method is UNIMPLEMENTED on the public gRPC port', { timeout: 60_000 }, async () => {
    for (const [client, method, req] of attacks) {
      const { err } = await grpcCall(pub[client], method, req);
      assert.ok(err, `${method} answered on the public gRPC port`);
      assert.equal(err.code, grpc.status.UNIMPLEMENTED, `${method}: ${err.code} ${err.details}`);
    }
  });

  it('and is not routed on the HTTP port (Connect)', { timeout: 30_000 }, async () => {
    for (const path_ of ['/metastore.v1.TenantService/GetTenants', '/metastore.v1.RaftNodeService/RemoveNode',
      '/segmentwriter.v1.SegmentWriterService/Push', '/querybackend.v1.QueryBackendService/Invoke']) {
      const res = await call(embers(), path_, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 404, `${path_}: ${show(res)}`);
    }
  });

  it('the internal listener (loopback, no secret configured) serves them', { timeout: 30_000 }, async () => {
    const { err, res } = await grpcCall(internal.tenants, 'GetTenants', {});
    assert.ifError(err);
    assert.ok(Array.isArray(res.tenant_ids), JSON.stringify(res));
  });
});

describe('with -server.cluster-secret', () => {
  const embers = useEmbers({ extraArgs: [`-server.cluster-secret=${SECRET}`, '-auth.multitenancy-enabled=true'] });
  let internal;
  before(() => { internal = internalClients(embers().internalAddress); });
  after(() => internal?.close());
  const withSecret = { 'x-embers-cluster-secret': SECRET };

  it('internal calls without the secret or with another one are UNAUTHENTICATED', { timeout: 30_000 }, async () => {
    for (const md of [{}, { 'x-embers-cluster-secret': 'guess' }, { 'x-embers-cluster-secret': `${SECRET}x` }]) {
      for (const [client, method, req] of [['tenants', 'GetTenants', {}], ['writer', 'Push', pushRequest()], ['raft', 'RemoveNode', { id: '1' }]]) {
        const { err } = await grpcCall(internal[client], method, req, { ...md, 'x-scope-orgid': 'anonymous' });
        assert.ok(err, `${method} with ${JSON.stringify(md)} was served`);
        assert.equal(err.code, grpc.status.UNAUTHENTICATED, `${method}: ${err.code} ${err.details}`);
      }
    }
    const { err } = await grpcCall(internal.tenants, 'GetTenants', {}, withSecret);
    assert.ifError(err);
  });

  it('the secret is masked in /config', { timeout: 30_000 }, async () => {
    const res = await call(embers(), '/config');
    assert.equal(res.status, 200);
    assert.ok(!res.text.includes(SECRET), 'the secret appears in /config');
    assert.match(res.text, /cluster_secret: "?\*{8}"?/);
  });

  it('hostile Push messages are refused even with the secret', { timeout: 30_000 }, async () => {
    const cases = [
      // [request, the tenant the caller claims (X-Scope-OrgID), status, message]
      [pushRequest({ tenant: '../../etc' }), '../../etc', grpc.status.INVALID_ARGUMENT, /tenant id contains an unsupported character/],
      [pushRequest({ tenant: 'x'.repeat(151) }), 'x'.repeat(151), grpc.status.INVALID_ARGUMENT, /longer than 150 bytes/],
      [pushRequest({ tenant: 'tenant-a' }), 'tenant-b', grpc.status.PERMISSION_DENIED, /push for tenant tenant-a sent by tenant tenant-b/],
      [pushRequest({ tenant: 'tenant-a', shard: 1_000_000 }), 'tenant-a', grpc.status.INVALID_ARGUMENT, /shard 1000000 is out of range/],
      [pushRequest({ tenant: 'tenant-a', timestampMs: -1 }), 'tenant-a', grpc.status.INVALID_ARGUMENT, /out of range/],
      [pushRequest({ tenant: 'tenant-a', timestampMs: '9223372036854775807' }), 'tenant-a', grpc.status.INVALID_ARGUMENT, /out of range/],
    ];
    for (const [req, org, code, message] of cases) {
      const { err } = await grpcCall(internal.writer, 'Push', req, { ...withSecret, 'x-scope-orgid': org });
      assert.ok(err, `Push ${JSON.stringify({ ...req, profiles: undefined })} was accepted`);
      assert.equal(err.code, code, `${err.code} ${err.details}`);
      assert.match(err.details, message);
    }
    // The same message with a good tenant, shard and time is stored.
    const { err } = await grpcCall(internal.writer, 'Push', pushRequest({ tenant: 'tenant-a' }), { ...withSecret, 'x-scope-orgid': 'tenant-a' });
    assert.ifError(err);
  });

  it('query-backend Invoke for another tenant than the caller names is PERMISSION_DENIED', { timeout: 30_000 }, async () => {
    const query = { tenant: 'tenant-a', start_ms: String(Date.now() - 3_600_000), end_ms: String(Date.now()),
      selector: `{__profile_type__="${CPU}"}`, kind: 'REPORT_KIND_TREE' };
    const { err } = await grpcCall(internal.backend, 'Invoke', query, { ...withSecret, 'x-scope-orgid': 'tenant-b' });
    assert.ok(err, 'Invoke for tenant-a by tenant-b was served');
    assert.equal(err.code, grpc.status.PERMISSION_DENIED, `${err.code} ${err.details}`);
    assert.match(err.details, /query for tenant tenant-a sent by tenant tenant-b/);
    const own = await grpcCall(internal.backend, 'Invoke', query, { ...withSecret, 'x-scope-orgid': 'tenant-a' });
    assert.ifError(own.err);
  });

  it('AddBlock refuses a block whose dataset names an invalid tenant', { timeout: 30_000 }, async () => {
    const now = Date.now();
    const block = {
      format_version: 1, id: '01JAAAAAAAAAAAAAAAAAAAAAAA', tenant: 0, shard: 0, compaction_level: 0,
      min_time: String(now), max_time: String(now), size: '100',
      string_table: ['', '../x', 'svc'],
      datasets: [{ tenant: 1, name: 2, min_time: String(now), max_time: String(now) }],
    };
    const { err } = await grpcCall(internal.index, 'AddBlock', { block }, withSecret);
    assert.ok(err, 'AddBlock accepted a dataset of tenant "../x"');
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, `${err.code} ${err.details}`);
    assert.match(err.details, /dataset 0: tenant id contains an unsupported character '\/'/);
  });
});

describe('the internal listener off loopback', () => {
  it('does not start without a cluster secret', { timeout: 30_000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-sec-'));
    try {
      const r = spawnSync(EMBERS_BIN, ['-server.http-listen-port=0', '-server.grpc-listen-port=0',
        '-server.internal-grpc-listen-address=0.0.0.0', '-server.internal-grpc-listen-port=0',
        '-metastore.raft.bind-address=127.0.0.1:0'], { cwd: dir, timeout: 20_000, encoding: 'utf8' });
      assert.notEqual(r.status, 0, `embers started: ${r.stderr}`);
      assert.match(r.stderr, /-server\.cluster-secret/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a distributor and a segment-writer in two processes', () => {
  it('work together with the same secret and not with another one', { timeout: 120_000 }, async () => {
    const writer = await startServer({ extraArgs: ['-target=all', `-server.cluster-secret=${SECRET}`, '-segment-writer.segment-duration=100ms'] });
    const good = await startServer({ extraArgs: ['-target=distributor', `-distributor.segment-writer-addresses=${writer.internalAddress}`,
      `-server.cluster-secret=${SECRET}`, '-distributor.ingestion-rate-limit-mb=0'] });
    const bad = await startServer({ extraArgs: ['-target=distributor', `-distributor.segment-writer-addresses=${writer.internalAddress}`,
      '-server.cluster-secret=not-the-secret', '-distributor.ingestion-rate-limit-mb=0'] });
    try {
      const push = (server, service) => call(server, '/push.v1.PusherService/Push', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          series: [{
            labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: service }],
            samples: [{ rawProfile: Buffer.from(encodeProfile({ samples: [{ stack: ['main', 'work'], cpu: 10_000_000, count: 1 }], timeMs: Date.now() })).toString('base64') }],
          }],
        }),
      });
      const ok = await push(good, 'trusted');
      assert.equal(ok.status, 200, show(ok));
      // The client did nothing wrong: the operator gave the processes different secrets (500).
      const refused = await push(bad, 'intruder');
      assert.equal(refused.status, 500, show(refused));
      assert.match(refused.text, /cluster secret/);
      // The trusted push is queryable on the writer; the intruder's is not there.
      const deadline = Date.now() + 20_000;
      let names = [];
      while (Date.now() < deadline) {
        const res = await call(writer, '/querier.v1.QuerierService/LabelValues', {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ name: 'service_name', start: String(Date.now() - 3_600_000), end: String(Date.now() + 60_000) }),
        });
        assert.equal(res.status, 200, show(res));
        names = JSON.parse(res.text).names ?? [];
        if (names.includes('trusted')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(names, ['trusted']);
    } finally {
      for (const s of [bad, good, writer]) await stopCleanly(s);
    }
  });
});

// Opens `n` plain TCP connections, `inFlight` at a time; resolves to the sockets.
async function openConnections(port, n, inFlight = 200) {
  const socks = [];
  let next = 0;
  const one = () => new Promise((resolve, reject) => {
    // `closed` (net.Socket's own) turns true once the server has closed the connection.
    const sock = net.connect({ host: '127.0.0.1', port });
    let connected = false;
    sock.on('error', (err) => { if (!connected) reject(err); });
    sock.once('connect', () => { connected = true; resolve(sock); });
  });
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < n) { next++; socks.push(await one()); }
  }));
  return socks;
}

const metricValue = (text, name) => {
  const m = new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
};

describe('connection floods', () => {
  const WANTED = 10_000;
  const HEADROOM = 300;
  it(`${WANTED} connections held open: /ready and /metrics are still answered`, { timeout: 120_000 }, async (t) => {
    const server = await startServer();
    const socks = [];
    try {
      // Both processes need a descriptor per connection (ctest raises the soft limit to the hard
      // one; embers raises its own).
      const limit = Math.min(softOpenFileLimit(), server.openFileLimit()) - HEADROOM;
      const n = Math.min(WANTED, limit);
      if (n < WANTED) t.diagnostic(`open-files limit allows only ${n} connections (wanted ${WANTED})`);
      assert.ok(n >= 1000, `open-files limit too low for a flood test: ${limit + HEADROOM}`);
      socks.push(...await openConnections(server.httpPort, n));
      const res = await call(server, '/ready');
      assert.equal(res.status, 200, show(res));
      const metrics = await call(server, '/metrics');
      assert.equal(metrics.status, 200);
      assert.equal(socks.filter((s) => s.closed).length, 0, 'the server closed held connections');
      assert.equal(metricValue(metrics.text, 'embers_http_connections_rejected_total'), 0);
    } finally {
      for (const s of socks) s.destroy();
      await stopCleanly(server);
    }
  });

  it('beyond -server.http-max-connections a connection is closed at once and counted', { timeout: 60_000 }, async () => {
    const server = await startServer({ extraArgs: ['-server.http-max-connections=50'] });
    let socks = [];
    try {
      socks = await openConnections(server.httpPort, 50, 10);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(socks.filter((s) => s.closed).length, 0, 'connections within the bound were closed');
      const extra = await openConnections(server.httpPort, 5, 5);
      const deadline = Date.now() + 10_000;
      while (extra.some((s) => !s.closed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(extra.every((s) => s.closed), 'connections beyond the bound were kept open');
      assert.equal(socks.filter((s) => s.closed).length, 0, 'connections within the bound were closed');
      // Closing held connections frees their slots: requests and new connections are served.
      for (const s of socks.splice(0, 20)) s.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const metrics = await call(server, '/metrics');
      assert.equal(metrics.status, 200);
      assert.equal(metricValue(metrics.text, 'embers_http_connections_rejected_total'), 5);
      const more = await openConnections(server.httpPort, 10, 10);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(more.filter((s) => s.closed).length, 0, 'freed slots were not reused');
      socks.push(...more);
    } finally {
      for (const s of socks) s.destroy();
      await stopCleanly(server);
    }
  });
});

describe('speedscope bombs on /ingest', () => {
  const embers = useEmbers();
  const peakRssKiB = () => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${embers().pid}/status`, 'utf8'))[1]);
  const SCHEMA = '{"$schema":"https://www.speedscope.app/file-format-schema.json",';
  const ingest = (body) => call(embers(), '/ingest?name=bomb&format=speedscope', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body,
  });

  it('deeply nested arrays are refused without building them (peak RSS grows < 32 MiB)', { timeout: 60_000 }, async () => {
    // 2 M levels of nesting in 4 MiB: a JSON document of it took ~40× its size.
    const depth = 2 * 1024 * 1024;
    const body = `${SCHEMA}"junk":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const before = peakRssKiB();
    const res = await ingest(body);
    assert.equal(res.status, 413, show(res));
    assert.match(res.text, /nested deeper than/);
    const grown = (peakRssKiB() - before) / 1024;
    assert.ok(grown < 32, `peak RSS grew by ${grown.toFixed(1)} MiB`);
  });

  it('a flat array of millions of frame indices costs about its own size', { timeout: 60_000 }, async () => {
    // 2 M one-frame samples: refused for the weights mismatch, after reading every index.
    const n = 2 * 1024 * 1024;
    const body = `${SCHEMA}"shared":{"frames":[{"name":"a"}]},"profiles":[{"type":"sampled","unit":"none","name":"p",` +
      `"samples":[[${'0,'.repeat(n)}0]],"weights":[]}]}`;
    const before = peakRssKiB();
    const res = await ingest(body);
    assert.equal(res.status, 422, show(res));
    assert.match(res.text, /1 samples but 0 weights/);
    const grown = (peakRssKiB() - before) / 1024;
    assert.ok(grown < 48, `peak RSS grew by ${grown.toFixed(1)} MiB for a ${(body.length / 1048576).toFixed(1)} MiB body`);
  });
});
