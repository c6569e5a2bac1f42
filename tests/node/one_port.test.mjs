// One port, every protocol (issue 14): the HTTP port serves Connect, gRPC (h2c with prior
// knowledge and via HTTP/1.1 Upgrade) and gRPC-Web, as Pyroscope's does. Real clients only:
// @grpc/grpc-js and @connectrpc/connect-node's gRPC, gRPC-Web and Connect transports over HTTP/2
// and HTTP/1.1, curl for the h2c upgrade. A profile pushed over gRPC on the HTTP port is read back
// through each of the others, so every path carries real data both ways.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, before } from 'node:test';
import grpc from '@grpc/grpc-js';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import {
  Http2SessionManager, createConnectTransport, createGrpcTransport, createGrpcWebTransport,
} from '@connectrpc/connect-node';
import { EMBERS_SRC, stopCleanly, useEmbers } from './harness.mjs';
import { PUSH_PROTO, QUERIER_PROTO, loadGrpcPackage, querierServiceDescriptor } from './protos.mjs';
import { encodeProfile } from './synthetic_profiles.mjs';

const DEADLINE_MS = 10_000;
const deadline = () => Date.now() + DEADLINE_MS;
const TESTDATA = process.env.EMBERS_TESTDATA || path.join(EMBERS_SRC, '..', 'shared', 'testdata');
const OTLP_FILE = path.join(TESTDATA, 'pyroscope', 'otlp', 'otel-ebpf-profile.ExportProfilesServiceRequest.pb');
const OTLP_METHOD = '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export';

const unary = (client, method, req) => new Promise((resolve, reject) => {
  client[method](req, { deadline: deadline() }, (err, res) => (err ? reject(err) : resolve(res)));
});

describe('every protocol on the HTTP port', () => {
  const embers = useEmbers({ extraArgs: ['-segment-writer.segment-duration=100ms', '-validation.reject-older-than=0'] });
  const now = Date.now();
  const window = { start: BigInt(now - 3_600_000), end: BigInt(now + 60_000) };
  const httpHostPort = () => embers().baseUrl.replace(/^http:\/\//, '');
  let Querier;
  before(() => { Querier = querierServiceDescriptor(); });

  const sampleTypes = async (transport) => {
    const res = await createClient(Querier, transport).profileTypes(window, { timeoutMs: DEADLINE_MS });
    return res.profileTypes.filter((t) => t.name === 'one_port_cpu').map((t) => t.ID).sort();
  };
  const WANT = ['one_port_cpu:cpu:nanoseconds:cpu:nanoseconds', 'one_port_cpu:samples:count:cpu:nanoseconds'];

  it('grpc-js pushes over h2c on the HTTP port, and reads it back', { timeout: 30_000 }, async () => {
    const push = new (loadGrpcPackage(PUSH_PROTO).push.v1.PusherService)(httpHostPort(), grpc.credentials.createInsecure());
    const querier = new (loadGrpcPackage(QUERIER_PROTO).querier.v1.QuerierService)(httpHostPort(), grpc.credentials.createInsecure());
    try {
      const raw = encodeProfile({ timeMs: now, samples: [{ stack: ['main', 'work'], cpu: 30_000_000, count: 3 }] });
      await unary(push, 'Push', {
        series: [{
          labels: [{ name: '__name__', value: 'one_port_cpu' }, { name: 'service_name', value: 'one-port' }],
          samples: [{ raw_profile: Buffer.from(raw), ID: 'one-port-1' }],
        }],
      });
      const res = await unary(querier, 'ProfileTypes', { start: String(window.start), end: String(window.end) });
      const ids = res.profile_types.filter((t) => t.name === 'one_port_cpu').map((t) => t.ID).sort();
      assert.deepEqual(ids, WANT);
      const names = await unary(querier, 'LabelValues', { name: 'service_name', start: String(window.start), end: String(window.end) });
      assert.ok(names.names.includes('one-port'), JSON.stringify(names));
    } finally {
      push.close();
      querier.close();
    }
  });

  it('grpc-js: an unknown method is UNIMPLEMENTED (as on the gRPC port) and a malformed message INVALID_ARGUMENT', { timeout: 30_000 }, async () => {
    for (const address of [httpHostPort(), embers().grpcAddress]) {
      const client = new grpc.Client(address, grpc.credentials.createInsecure());
      try {
        const call = (method, body) => new Promise((resolve) => {
          client.makeUnaryRequest(method, (b) => b, (b) => b, body, { deadline: deadline() }, (e, r) => resolve(e ?? r));
        });
        const unknown = await call('/querier.v1.QuerierService/NoSuchMethod', Buffer.alloc(0));
        assert.equal(unknown.code, grpc.status.UNIMPLEMENTED, `${address}: ${unknown.details}`);
        if (address === httpHostPort()) {
          const bad = await call('/querier.v1.QuerierService/ProfileTypes', Buffer.from([0xff, 0xff, 0xff]));
          assert.equal(bad.code, grpc.status.INVALID_ARGUMENT, `${address}: ${bad.details}`);
        }
      } finally {
        client.close();
      }
    }
  });

  it('connect-node over HTTP/2: gRPC, gRPC-Web and Connect all read it', { timeout: 30_000 }, async () => {
    const baseUrl = embers().baseUrl;
    const sessionManager = new Http2SessionManager(baseUrl);
    try {
      for (const binary of [true, false]) {
        assert.deepEqual(await sampleTypes(createGrpcTransport({ baseUrl, sessionManager, useBinaryFormat: binary })), WANT, `gRPC binary=${binary}`);
        assert.deepEqual(await sampleTypes(createGrpcWebTransport({ baseUrl, httpVersion: '2', sessionManager, useBinaryFormat: binary })), WANT, `gRPC-Web/2 binary=${binary}`);
        assert.deepEqual(await sampleTypes(createConnectTransport({ baseUrl, httpVersion: '2', sessionManager, useBinaryFormat: binary })), WANT, `Connect/2 binary=${binary}`);
      }
    } finally {
      sessionManager.abort();
    }
  });

  it('gRPC-Web over HTTP/1.1 (proto and text) reads it, and errors carry gRPC codes', { timeout: 30_000 }, async () => {
    const baseUrl = embers().baseUrl;
    assert.deepEqual(await sampleTypes(createGrpcWebTransport({ baseUrl, httpVersion: '1.1' })), WANT);
    // grpc-web-text (what browsers without binary support send): base64 on the wire.
    const body = Buffer.from([0, 0, 0, 0, 0]).toString('base64');
    const res = await fetch(`${baseUrl}/querier.v1.QuerierService/ProfileTypes`, {
      method: 'POST', headers: { 'content-type': 'application/grpc-web-text', 'x-grpc-web': '1' }, body,
    });
    assert.equal(res.status, 200);
    const wire = Buffer.from(await res.text(), 'base64');
    // A message frame (flag 0) and a trailer frame (flag 0x80) with grpc-status: 0.
    assert.equal(wire[0], 0);
    const len = wire.readUInt32BE(1);
    assert.equal(wire[5 + len], 0x80);
    assert.match(wire.subarray(10 + len).toString(), /grpc-status: 0/);
    // A validation error as gRPC-Web: INVALID_ARGUMENT through the connect-node client.
    const client = createClient(Querier, createGrpcWebTransport({ baseUrl, httpVersion: '1.1' }));
    await assert.rejects(client.selectMergeStacktraces({ profileTypeID: 'nonsense', labelSelector: '{}', ...window }, { timeoutMs: DEADLINE_MS }),
      (err) => err instanceof ConnectError && err.code === Code.InvalidArgument);
  });

  it('Connect streaming framing: enveloped request, message and end-of-stream envelopes back', { timeout: 30_000 }, async () => {
    // Every method on this port is unary, and connect-es sends unary methods in the unary
    // protocol, so the streaming framing is spoken by hand: a client of a streaming method would
    // send exactly these bytes.
    const envelope = (flags, payload) => {
      const head = Buffer.alloc(5);
      head[0] = flags;
      head.writeUInt32BE(payload.length, 1);
      return Buffer.concat([head, payload]);
    };
    const envelopes = (buf) => {
      const out = [];
      for (let i = 0; i < buf.length;) {
        const len = buf.readUInt32BE(i + 1);
        out.push({ flags: buf[i], payload: buf.subarray(i + 5, i + 5 + len) });
        i += 5 + len;
      }
      return out;
    };
    const post = async (body) => {
      const res = await fetch(`${embers().baseUrl}/querier.v1.QuerierService/ProfileTypes`, {
        method: 'POST', headers: { 'content-type': 'application/connect+json' }, body,
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/connect+json');
      return envelopes(Buffer.from(await res.arrayBuffer()));
    };
    const ok = await post(envelope(0, Buffer.from(JSON.stringify({ start: String(window.start), end: String(window.end) }))));
    assert.deepEqual(ok.map((e) => e.flags), [0, 2]);
    const ids = JSON.parse(ok[0].payload).profileTypes.filter((t) => t.name === 'one_port_cpu').map((t) => t.ID).sort();
    assert.deepEqual(ids, WANT);
    assert.deepEqual(JSON.parse(ok[1].payload), {});
    // Two messages for a unary method: the error travels in the end-of-stream message.
    const bad = await post(Buffer.concat([envelope(0, Buffer.from('{}')), envelope(0, Buffer.from('{}'))]));
    assert.deepEqual(bad.map((e) => e.flags), [2]);
    assert.equal(JSON.parse(bad[0].payload).error.code, 'invalid_argument');
  });

  it('gRPC over HTTP/1.1 is refused with 505 (gRPC needs HTTP/2)', { timeout: 30_000 }, async () => {
    const res = await fetch(`${embers().baseUrl}/querier.v1.QuerierService/ProfileTypes`, {
      method: 'POST', headers: { 'content-type': 'application/grpc' }, body: Buffer.from([0, 0, 0, 0, 0]),
    });
    assert.equal(res.status, 505);
  });

  it('curl upgrades HTTP/1.1 to h2c and gets the answer over HTTP/2', { timeout: 30_000 }, async () => {
    const out = execFileSync('curl', ['-sS', '--http2', '-o', '-', '-w', '\n%{http_version}', '-X', 'POST',
      '-H', 'content-type: application/json', '-d', JSON.stringify({ start: String(window.start), end: String(window.end) }),
      `${embers().baseUrl}/querier.v1.QuerierService/ProfileTypes`], { encoding: 'utf8' });
    const [json, version] = out.trimEnd().split('\n');
    assert.equal(version, '2');
    const ids = JSON.parse(json).profileTypes.filter((t) => t.name === 'one_port_cpu').map((t) => t.ID).sort();
    assert.deepEqual(ids, WANT);
  });

  it('an OTLP gRPC Export on the HTTP port is accepted like on the gRPC port', {
    timeout: 30_000, skip: fs.existsSync(OTLP_FILE) ? false : `no testdata at ${OTLP_FILE}`,
  }, async () => {
    const body = fs.readFileSync(OTLP_FILE);
    for (const address of [httpHostPort(), embers().grpcAddress]) {
      const client = new grpc.Client(address, grpc.credentials.createInsecure());
      try {
        const res = await new Promise((resolve, reject) => {
          client.makeUnaryRequest(OTLP_METHOD, (b) => b, (b) => b, body, { deadline: deadline() },
            (e, r) => (e ? reject(e) : resolve(r)));
        });
        assert.ok(Buffer.isBuffer(res), `${address}: ExportProfilesServiceResponse bytes`);
      } finally {
        client.close();
      }
    }
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});
