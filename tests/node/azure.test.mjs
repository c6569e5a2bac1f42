// The Azure Blob backend end to end (issue 13): embers with -storage.backend=azure on a real
// azurite (started here; it checks Shared Key signatures), push then query, the objects it wrote
// read back with @azure/storage-blob, objects the SDK wrote (as a block upload) read by a restarted
// embers, a SAS token made by the SDK instead of the key, and a wrong key, a wrong SAS token, a
// missing container and an unreachable endpoint each keeping /ready at 503 with one clear error.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, before, after } from 'node:test';
import {
  AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, BlobServiceClient, SASProtocol,
  StorageSharedKeyCredential, generateAccountSASQueryParameters,
} from '@azure/storage-blob';
import { HOST, bucketObjects, call, freeStablePort, show, startServer, stopCleanly } from './harness.mjs';
import { checkOneErrorThenCleanStop, flameGraphTotal, startUnready } from './store_checks.mjs';
import { AZURITE_ACCOUNT as ACCOUNT, AZURITE_KEY as KEY, startAzurite } from './azurite.mjs';
import { encodeProfile } from './synthetic_profiles.mjs';

const CONTAINER = 'embers';
describe('Azure backend on azurite', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embers-azure-'));
  let azurite;
  let container;
  let embers;
  let ports;
  const connectionString = ({ key = KEY, endpoint = azurite.endpoint } = {}) =>
    `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${key};BlobEndpoint=${endpoint};`;
  const azureArgs = (overrides = {}) => Object.entries({
    'storage.backend': 'azure', 'storage.azure.connection-string': connectionString(),
    'storage.azure.container-name': CONTAINER, ...overrides,
  }).map(([k, v]) => `-${k}=${v}`);
  const common = ['-validation.reject-older-than=0', '-segment-writer.segment-duration=100ms'];
  const json = (method, pathname, body) => call(embers, pathname, {
    method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const total = () => flameGraphTotal(embers, 'azure-svc');
  const segmentNames = async () => {
    const names = [];
    for await (const blob of container.listBlobsFlat({ prefix: 'segments/' })) names.push(blob.name);
    return names;
  };

  before(async () => {
    azurite = await startAzurite(path.join(dir, 'azurite'));
    const service = new BlobServiceClient(azurite.endpoint, new StorageSharedKeyCredential(ACCOUNT, KEY));
    container = service.getContainerClient(CONTAINER);
    await container.create();
  });
  after(async () => {
    if (embers) await embers.kill();
    azurite?.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pushes go to the container and queries read them back', { timeout: 60_000 }, async () => {
    ports = { raft: await freeStablePort() };
    fs.mkdirSync(path.join(dir, 'embers'), { recursive: true });
    embers = await startServer({ extraArgs: [...azureArgs(), ...common], dir: path.join(dir, 'embers'), ports });
    ports = { http: embers.httpPort, grpc: embers.grpcPort, internal: embers.internalPort, raft: embers.ports.raft };
    const res = await json('POST', '/push.v1.PusherService/Push', {
      series: [{
        labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: 'azure-svc' }],
        samples: [{ rawProfile: Buffer.from(encodeProfile({ samples: [{ stack: ['main', 'work'], cpu: 30_000_000, count: 3 }], timeMs: Date.now() - 1000 })).toString('base64') }],
      }],
    });
    assert.equal(res.status, 200, show(res));
    assert.equal(await total(), 30_000_000);
    // Nothing on the local disk: the segment is in azurite (read back in the next test).
    assert.deepEqual(bucketObjects(path.join(dir, 'embers')), []);
    // Neither the key nor the connection string that holds it shows in /config.
    const config = await call(embers, '/config');
    assert.equal(config.status, 200, show(config));
    assert.ok(!config.text.includes(KEY), 'the account key shows in /config');
    assert.match(config.text, /container_name: embers/);
    const metrics = (await call(embers, '/metrics')).text;
    const value = (series) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
    assert.ok(value('embers_objstore_operations_total{backend="azure",operation="put",result="OK"}') >= 1, 'PUTs counted');
    assert.ok(value('embers_objstore_bytes_total{backend="azure",operation="put"}') > 0, 'bytes written counted');
  });

  it('the objects embers wrote read back with @azure/storage-blob', { timeout: 30_000 }, async () => {
    const names = await segmentNames();
    assert.ok(names.length >= 1 && names.every((n) => n.endsWith('/block.bin')), `segments: ${names}`);
    for (const name of names) {
      const blob = container.getBlockBlobClient(name);
      const properties = await blob.getProperties();
      assert.equal(properties.blobType, 'BlockBlob');
      const bytes = await blob.downloadToBuffer();
      assert.ok(bytes.length > 0);
      assert.equal(bytes.length, properties.contentLength);
      // A ranged read of the SDK agrees with the whole object.
      const tail = await blob.downloadToBuffer(bytes.length - 4, 4);
      assert.ok(tail.equals(bytes.subarray(bytes.length - 4)), name);
    }
  });

  it('a restart serves the same data, from objects the SDK rewrote as block uploads', { timeout: 60_000 }, async () => {
    assert.equal(await stopCleanly(embers), null);
    // Every segment replaced by the same bytes uploaded by the SDK in 64-byte blocks (Put Block +
    // Put Block List): what embers reads now was written by another client.
    for (const name of await segmentNames()) {
      const blob = container.getBlockBlobClient(name);
      const bytes = await blob.downloadToBuffer();
      await blob.uploadData(bytes, { blockSize: 64, maxSingleShotSize: 0, concurrency: 1 });
      const blocks = await blob.getBlockList('committed');
      assert.equal(blocks.committedBlocks.length, Math.ceil(bytes.length / 64), name);
    }
    embers = await startServer({ extraArgs: [...azureArgs(), ...common], dir: path.join(dir, 'embers'), ports });
    assert.equal(await total(), 30_000_000);
  });

  it('a SAS token from the SDK works instead of the key', { timeout: 60_000 }, async () => {
    assert.equal(await stopCleanly(embers), null);
    embers = undefined;
    const sas = generateAccountSASQueryParameters({
      expiresOn: new Date(Date.now() + 3_600_000), permissions: AccountSASPermissions.parse('rwdlac'),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(), services: AccountSASServices.parse('b').toString(),
      protocol: SASProtocol.HttpsAndHttp, version: '2021-08-06',
    }, new StorageSharedKeyCredential(ACCOUNT, KEY)).toString();
    embers = await startServer({
      extraArgs: [...azureArgs({ 'storage.azure.connection-string': `BlobEndpoint=${azurite.endpoint};SharedAccessSignature=${sas}` }), ...common],
      dir: path.join(dir, 'embers'), ports,
    });
    // The data written with the key reads back; a new push is written with the token.
    assert.equal(await total(), 30_000_000);
    const before = (await segmentNames()).length;
    const res = await json('POST', '/push.v1.PusherService/Push', {
      series: [{
        labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: 'azure-svc' }],
        samples: [{ rawProfile: Buffer.from(encodeProfile({ samples: [{ stack: ['main', 'sas'], cpu: 5_000_000, count: 1 }], timeMs: Date.now() - 1000 })).toString('base64') }],
      }],
    });
    assert.equal(res.status, 200, show(res));
    assert.equal(await total(), 35_000_000);
    assert.ok((await segmentNames()).length > before, 'a segment written with the SAS token');
    assert.ok(!(await call(embers, '/config')).text.includes(sas.slice(-20)), 'the SAS token shows in /config');
    assert.equal(await stopCleanly(embers), null);
    embers = undefined;
  });

  const unready = async (overrides, expected) => {
    const server = await startUnready([...azureArgs(overrides), ...common], expected,
      /opening Azure container azure:\/\//);
    assert.ok(!(await call(server, '/ready')).text.includes(KEY), 'the key shows in /ready');
    return server;
  };

  for (const [what, overrides, expected] of [
    // Overrides are functions: azurite's endpoint is known once it runs.
    ['a wrong account key', () => ({ 'storage.azure.connection-string': connectionString({ key: Buffer.from('wrong key '.repeat(6)).toString('base64') }) }),
      /failed to authenticate.*-storage\.azure\.account-key/],
    ['a SAS token with a wrong signature', () => ({ 'storage.azure.connection-string': `BlobEndpoint=${azurite.endpoint};SharedAccessSignature=sv=2021-08-06&ss=b&srt=sco&sp=rl&se=2099-01-01T00%3A00%3A00Z&spr=https%2Chttp&sig=d3Jvbmc%3D` }),
      /AuthenticationFailed|AuthorizationFailure/],
    ['a missing container', () => ({ 'storage.azure.container-name': 'no-such-container' }), /ContainerNotFound.*-storage\.azure\.container-name/],
    ['an unreachable endpoint', () => ({ 'storage.azure.connection-string': connectionString({ endpoint: `http://${HOST}:1/${ACCOUNT}` }) }), /UNAVAILABLE.*127\.0\.0\.1:1/],
  ]) {
    it(`${what} keeps /ready at 503 with one clear error`, { timeout: 60_000 }, async () => {
      await checkOneErrorThenCleanStop(await unready(overrides(), expected));
    });
  }
});
