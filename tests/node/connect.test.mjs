// Connect protocol on the HTTP port, with the real @connectrpc/connect-node client over HTTP/1.1
// (what Grafana's Pyroscope data source and profilecli speak): QuerierService/ProfileTypes on an
// empty database returns an empty list, both in the binary (application/proto) and in the JSON
// (application/json) codec; a method the server lacks is a Connect error, not a hang or a crash;
// the server exits 0 on SIGTERM.

import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { lastHourMs, stopCleanly, useEmbers } from './harness.mjs';
import { querierServiceDescriptor } from './protos.mjs';

describe('Connect protocol (HTTP/1.1) on the HTTP port', () => {
  const embers = useEmbers();
  let QuerierService;
  before(() => { QuerierService = querierServiceDescriptor(); });

  function client(useBinaryFormat) {
    const transport = createConnectTransport({
      httpVersion: '1.1',
      baseUrl: embers().baseUrl,
      useBinaryFormat,
    });
    return createClient(QuerierService, transport);
  }

  for (const [codec, binary] of [['application/proto', true], ['application/json', false]]) {
    it(`ProfileTypes with ${codec} returns an empty list on an empty database`, { timeout: 30_000 }, async () => {
      const res = await client(binary).profileTypes(lastHourMs(), { timeoutMs: 10_000 });
      assert.ok(Array.isArray(res.profileTypes), 'response has a profile_types list');
      assert.deepEqual(res.profileTypes, []);
    });
  }

  it('ProfileTypes without a time range (zero start and end) is answered', { timeout: 30_000 }, async () => {
    const res = await client(true).profileTypes({}, { timeoutMs: 10_000 });
    assert.deepEqual(res.profileTypes, []);
  });

  it('an unknown method is a Connect error the client can read', { timeout: 30_000 }, async () => {
    // Same service name, a method the server does not have: the client must get a clean error.
    const fake = { ...QuerierService, typeName: QuerierService.typeName };
    const method = { ...QuerierService.method.profileTypes, name: 'NoSuchMethod', localName: 'noSuchMethod' };
    fake.methods = [method];
    fake.method = { noSuchMethod: method };
    const c = createClient(fake, createConnectTransport({ httpVersion: '1.1', baseUrl: embers().baseUrl }));
    await assert.rejects(c.noSuchMethod(lastHourMs(), { timeoutMs: 10_000 }), (err) => {
      assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${err}`);
      assert.ok([Code.Unimplemented, Code.NotFound].includes(err.code),
        `expected code unimplemented or not_found (HTTP 404), got ${Code[err.code]}: ${err.message}`);
      return true;
    });
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});
