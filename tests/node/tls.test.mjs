// TLS (issue 15) against the real binary, with certificates made by the openssl CLI for each run:
// - HTTP port over TLS: a push and a query through https; HTTP/2 chosen by ALPN (node:http2);
//   gRPC (grpc-js with TLS) on the HTTP port and on the gRPC port; plain http:// to the TLS port
//   gets a 400 that says so; a replaced certificate is served to new connections without a
//   restart (HTTP and gRPC ports); failed handshakes are counted in /metrics.
// - Client certificates (-server.http-tls-client-auth=RequireAndVerifyClientCert): no
//   certificate, or one from another CA, cannot connect; one signed by the CA can.
// - Internal listener with mutual TLS: a distributor process pushes through the internal port of
//   a segment-writer process (both with -server.internal-grpc-tls-*), and the profile is
//   queryable; a client without a certificate is refused at the handshake.
// - Bad settings stop the start with the flag named: a key that does not match the certificate;
//   client auth without a CA.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { describe, it, before, after } from 'node:test';
import grpc from '@grpc/grpc-js';
import { EMBERS_BIN, HOST, call, request, show, startServer, stopCleanly, useEmbers } from './harness.mjs';
import { QUERIER_PROTO, loadGrpcPackage } from './protos.mjs';
import { encodeProfile } from './synthetic_profiles.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-tls-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name) => path.join(dir, name);

function openssl(...args) {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

// A CA, and certificates it signs for 127.0.0.1/localhost usable by servers and clients alike.
function makeCa(name) {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`), '-subj', `/CN=${name}`, '-days', '2');
}
function makeCert(name, ca) {
  fs.writeFileSync(file(`${name}.ext`),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${name}`);
  openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.crt`), '-CAkey', file(`${ca}.key`),
    '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`));
}
makeCa('ca');
makeCa('rogue-ca');
makeCert('server', 'ca');
makeCert('server2', 'ca');
makeCert('client', 'ca');
makeCert('rogue-client', 'rogue-ca');
const pem = (name) => fs.readFileSync(file(name));
const CA = pem('ca.crt');
const fingerprint = (name) => new crypto.X509Certificate(pem(`${name}.crt`)).fingerprint256;

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const range = () => ({ start: String(Date.now() - 3_600_000), end: String(Date.now() + 60_000) });
const jsonCall = (server, route, body, options = {}) => call(server, route, {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), ...options,
});
const pushBody = (service) => ({
  series: [{
    labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: service }],
    samples: [{ rawProfile: Buffer.from(encodeProfile({ samples: [{ stack: ['main', service], cpu: 10_000_000, count: 1 }], timeMs: Date.now() - 1000 })).toString('base64') }],
  }],
});
async function services(server) {
  const res = await jsonCall(server, '/querier.v1.QuerierService/LabelValues', { name: 'service_name', ...range() });
  assert.equal(res.status, 200, show(res));
  return JSON.parse(res.text).names ?? [];
}
async function waitForService(server, service) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if ((await services(server)).includes(service)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`service ${service} is not queryable within 15 s`);
}

// The SHA-256 fingerprint of the certificate a fresh TLS connection to port is served.
function servedFingerprint(port) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: HOST, port, ca: CA, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      resolve(socket.getPeerX509Certificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

function profileTypes(client) {
  return new Promise((resolve, reject) => {
    client.ProfileTypes(range(), { deadline: new Date(Date.now() + 10_000) }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}

describe('TLS on the HTTP and gRPC ports', () => {
  const certPath = file('served.crt');
  const keyPath = file('served.key');
  fs.copyFileSync(file('server.crt'), certPath);
  fs.copyFileSync(file('server.key'), keyPath);
  const embers = useEmbers({
    tls: { ca: CA },
    extraArgs: [`-server.http-tls-cert-path=${certPath}`, `-server.http-tls-key-path=${keyPath}`,
      `-server.grpc-tls-cert-path=${certPath}`, `-server.grpc-tls-key-path=${keyPath}`,
      '-server.tls-reload-interval=200ms', '-segment-writer.segment-duration=100ms',
      '-validation.reject-older-than=0'],
  });
  let Querier;
  before(() => { Querier = loadGrpcPackage(QUERIER_PROTO).querier.v1.QuerierService; });

  it('serves a push and a query over https', { timeout: 30_000 }, async () => {
    assert.match(embers().baseUrl, /^https:/);
    const res = await jsonCall(embers(), '/push.v1.PusherService/Push', pushBody('tls-svc'));
    assert.equal(res.status, 200, show(res));
    await waitForService(embers(), 'tls-svc');
  });

  it('plain http:// to the TLS port is answered 400 with the reason', { timeout: 10_000 }, async () => {
    const res = await request(`http://${HOST}:${embers().httpPort}/ready`);
    assert.equal(res.status, 400, show(res));
    assert.match(res.text, /HTTP request to an HTTPS server/);
    const metrics = await call(embers(), '/metrics');
    const m = /^embers_http_tls_handshake_errors_total (\d+)/m.exec(metrics.text);
    assert.ok(m && Number(m[1]) >= 1, 'the failed handshake is counted');
  });

  it('HTTP/2 is chosen by ALPN', { timeout: 10_000 }, async () => {
    const session = http2.connect(embers().baseUrl, { ca: CA });
    try {
      const status = await new Promise((resolve, reject) => {
        session.on('error', reject);
        const req = session.request({ ':path': '/ready' });
        req.on('response', (h) => resolve(h[':status']));
        req.on('error', reject);
        req.resume();
        req.end();
      });
      assert.equal(session.alpnProtocol, 'h2');
      assert.equal(status, 200);
    } finally {
      session.close();
    }
  });

  it('gRPC with TLS works on the gRPC port and on the HTTP port', { timeout: 30_000 }, async () => {
    for (const address of [embers().grpcAddress, `${HOST}:${embers().httpPort}`]) {
      const client = new Querier(address, grpc.credentials.createSsl(CA));
      try {
        const res = await profileTypes(client);
        assert.ok(res.profile_types.some((t) => t.ID === CPU), `${address}: ${JSON.stringify(res)}`);
      } finally {
        client.close();
      }
      // Without TLS the call cannot get through.
      const plain = new Querier(address, grpc.credentials.createInsecure());
      try {
        await assert.rejects(profileTypes(plain), (err) => err.code === grpc.status.UNAVAILABLE);
      } finally {
        plain.close();
      }
    }
  });

  it('a replaced certificate is served to new connections without a restart', { timeout: 30_000 }, async () => {
    assert.equal(await servedFingerprint(embers().httpPort), fingerprint('server'));
    assert.equal(await servedFingerprint(embers().grpcPort), fingerprint('server'));
    // As a rotation tool would: the new files written beside, then renamed over the old ones.
    fs.copyFileSync(file('server2.key'), `${keyPath}.new`);
    fs.copyFileSync(file('server2.crt'), `${certPath}.new`);
    fs.renameSync(`${keyPath}.new`, keyPath);
    fs.renameSync(`${certPath}.new`, certPath);
    for (const [name, port] of [['HTTP', embers().httpPort], ['gRPC', embers().grpcPort]]) {
      const deadline = Date.now() + 10_000;
      let served;
      while (Date.now() < deadline) {
        served = await servedFingerprint(port);
        if (served === fingerprint('server2')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(served, fingerprint('server2'), `${name} port still serves the old certificate`);
    }
    assert.equal((await call(embers(), '/ready')).status, 200);
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});

describe('client certificates on the HTTP port', () => {
  const embers = useEmbers({
    tls: { ca: CA, cert: pem('client.crt'), key: pem('client.key') },
    extraArgs: [`-server.http-tls-cert-path=${file('server.crt')}`, `-server.http-tls-key-path=${file('server.key')}`,
      `-server.http-tls-ca-path=${file('ca.crt')}`, '-server.http-tls-client-auth=RequireAndVerifyClientCert'],
  });
  const ready = (options) => request(`${embers().baseUrl}/ready`, { ca: CA, timeoutMs: 5000, ...options });

  it('only a certificate signed by the CA gets in', { timeout: 20_000 }, async () => {
    await assert.rejects(ready({}), 'no client certificate');
    await assert.rejects(ready({ cert: pem('rogue-client.crt'), key: pem('rogue-client.key') }), 'a certificate of another CA');
    const res = await ready({ cert: pem('client.crt'), key: pem('client.key') });
    assert.equal(res.status, 200, show(res));
  });
});

describe('mutual TLS between components on the internal port', () => {
  const internalTls = [`-server.internal-grpc-tls-cert-path=${file('server.crt')}`,
    `-server.internal-grpc-tls-key-path=${file('server.key')}`, `-server.internal-grpc-tls-ca-path=${file('ca.crt')}`];
  let writer;
  let distributor;
  after(async () => {
    await distributor?.kill();
    await writer?.kill();
  });

  it('a distributor pushes through a segment-writer\'s internal port; a client without a certificate cannot', { timeout: 60_000 }, async () => {
    writer = await startServer({ extraArgs: ['-target=all', '-segment-writer.segment-duration=100ms', ...internalTls] });
    distributor = await startServer({ extraArgs: ['-target=distributor', `-distributor.segment-writer-addresses=${writer.internalAddress}`,
      '-distributor.ingestion-rate-limit-mb=0', ...internalTls] });
    const res = await jsonCall(distributor, '/push.v1.PusherService/Push', pushBody('through-mtls'));
    assert.equal(res.status, 200, show(res));
    await waitForService(writer, 'through-mtls');

    // The metastore service on the internal port, called with TLS but without a client certificate.
    const Querier = loadGrpcPackage(QUERIER_PROTO).querier.v1.QuerierService;
    const anonymous = new Querier(writer.internalAddress, grpc.credentials.createSsl(CA));
    try {
      await assert.rejects(profileTypes(anonymous), (err) => err.code === grpc.status.UNAVAILABLE);
    } finally {
      anonymous.close();
    }
  });
});

describe('bad TLS settings stop the start', () => {
  for (const [what, args, flag] of [
    ['a key that does not match the certificate',
      [`-server.http-tls-cert-path=${file('server.crt')}`, `-server.http-tls-key-path=${file('server2.key')}`], /-server\.http-tls/],
    ['client certificates without a CA',
      [`-server.grpc-tls-cert-path=${file('server.crt')}`, `-server.grpc-tls-key-path=${file('server.key')}`,
        '-server.grpc-tls-client-auth=RequireAndVerifyClientCert'], /-server\.grpc-tls-ca-path/],
    ['an internal certificate without a CA',
      [`-server.internal-grpc-tls-cert-path=${file('server.crt')}`, `-server.internal-grpc-tls-key-path=${file('server.key')}`],
      /-server\.internal-grpc-tls-ca-path/],
  ]) {
    it(what, { timeout: 20_000 }, () => {
      const data = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-tls-bad-'));
      try {
        let out = '';
        try {
          execFileSync(EMBERS_BIN, ['-server.http-listen-port=0', '-server.grpc-listen-port=0',
            '-server.internal-grpc-listen-port=0', `-storage.filesystem.dir=${data}/bucket`,
            `-metastore.data-dir=${data}/meta`, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
          assert.fail('embers started');
        } catch (err) {
          assert.ok(err.status !== 0 && err.status !== null, `exit status ${err.status}`);
          out = `${err.stderr}`;
        }
        assert.match(out, flag);
      } finally {
        fs.rmSync(data, { recursive: true, force: true });
      }
    });
  }
});
