// gRPC (HTTP/2 cleartext) on the gRPC port, with the real @grpc/grpc-js client and the project's
// .proto files loaded by @grpc/proto-loader: QuerierService/ProfileTypes on an empty database
// returns an empty list; an unknown method fails with UNIMPLEMENTED; the same call through
// @connectrpc/connect-node's gRPC transport also works; the server exits 0 on SIGTERM.

import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import grpc from '@grpc/grpc-js';
import { createClient } from '@connectrpc/connect';
import { Http2SessionManager, createGrpcTransport } from '@connectrpc/connect-node';
import { lastHourMs, stopCleanly, useEmbers } from './harness.mjs';
import { QUERIER_PROTO, loadGrpcPackage, querierServiceDescriptor } from './protos.mjs';

const DEADLINE_MS = 10_000;
const deadline = () => new Date(Date.now() + DEADLINE_MS);

describe('gRPC on the gRPC port', () => {
  const embers = useEmbers();
  let querier; // grpc-js client of querier.v1.QuerierService

  before(() => {
    const pkg = loadGrpcPackage(QUERIER_PROTO);
    const Service = pkg.querier?.v1?.QuerierService;
    assert.ok(Service, `${QUERIER_PROTO} does not define querier.v1.QuerierService`);
    querier = new Service(embers().grpcAddress, grpc.credentials.createInsecure());
  });
  after(() => querier?.close());

  it('ProfileTypes returns an empty list on an empty database', { timeout: 30_000 }, async () => {
    const { start, end } = lastHourMs();
    const res = await new Promise((resolve, reject) => {
      querier.ProfileTypes({ start: String(start), end: String(end) }, { deadline: deadline() },
        (err, r) => (err ? reject(err) : resolve(r)));
    });
    assert.ok(Array.isArray(res.profile_types), `response has a profile_types list: ${JSON.stringify(res)}`);
    assert.deepEqual(res.profile_types, []);
  });

  it('an unknown method fails with status UNIMPLEMENTED', { timeout: 30_000 }, async () => {
    const err = await new Promise((resolve) => {
      querier.makeUnaryRequest('/querier.v1.QuerierService/NoSuchMethod',
        (b) => b, (b) => b, Buffer.alloc(0), { deadline: deadline() }, (e) => resolve(e));
    });
    assert.ok(err, 'the call must fail');
    assert.equal(err.code, grpc.status.UNIMPLEMENTED, `got ${grpc.status[err.code]}: ${err.details}`);
  });

  it('ProfileTypes through connect-node\'s gRPC transport returns an empty list', { timeout: 30_000 }, async () => {
    const baseUrl = `http://${embers().grpcAddress}`;
    const sessionManager = new Http2SessionManager(baseUrl);
    try {
      const client = createClient(querierServiceDescriptor(), createGrpcTransport({ baseUrl, sessionManager }));
      const res = await client.profileTypes(lastHourMs(), { timeoutMs: DEADLINE_MS });
      assert.deepEqual(res.profileTypes, []);
    } finally {
      sessionManager.abort(); // close the HTTP/2 connection so shutdown is not waiting on it
    }
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    querier.close();
    assert.equal(await stopCleanly(embers()), null);
  });
});
