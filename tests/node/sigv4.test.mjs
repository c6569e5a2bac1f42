// SigV4 (objstore/s3/sigv4.h, issue 13) against two oracles, through the sigv4_sign tool built with
// the tests: every case of the AWS Signature Version 4 test suite (shipped as data in
// @smithy/signature-v4 1.x, installed through @aws-sdk/signature-v4 3.374.0), and the current
// @smithy/signature-v4 (the AWS SDK's own signer) over hundreds of generated S3 requests: methods,
// unicode and punctuation keys, S3 query strings, ranges, empty and large bodies, signed and
// UNSIGNED-PAYLOAD hashes. (s3rver does not check signatures, so this is where they are proven.)

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it, before, after } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { EMBERS_BIN } from './harness.mjs';
import { rng } from './synthetic_profiles.mjs';
import { JsonLineTool } from './json_line_tool.mjs';

const TOOL = process.env.EMBERS_SIGV4_SIGN ||
  path.resolve(path.dirname(EMBERS_BIN), '..', '..', 'objstore', 's3', 'sigv4_sign');
const require = createRequire(import.meta.url);
const suite = createRequire(require.resolve('@aws-sdk/signature-v4'))('@smithy/signature-v4/dist-cjs/suite.fixture.js');

// The hash the SDK signer is given: SHA-256, or HMAC-SHA-256 with a secret.
class NodeSha256 {
  constructor(secret) {
    this.hash = secret ? crypto.createHmac('sha256', Buffer.from(secret)) : crypto.createHash('sha256');
  }
  update(data) { this.hash.update(typeof data === 'string' ? Buffer.from(data) : data); }
  async digest() { return new Uint8Array(this.hash.digest()); }
}


describe('SigV4 signatures', () => {
  let signer;
  before(() => {
    assert.ok(fs.existsSync(TOOL), `sigv4_sign not built at ${TOOL} (cmake --build build --target sigv4_sign)`);
    signer = new JsonLineTool(TOOL);
  });
  after(() => signer?.close());

  it('match every case of the AWS test suite', { timeout: 30_000 }, async () => {
    assert.ok(suite.requests.length >= 20, 'the suite is there');
    for (const { name, request, authorization } of suite.requests) {
      const res = await signer.sign({
        method: request.method,
        path: request.path,
        query: Object.entries(request.query ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v ?? '']])),
        headers: Object.entries(request.headers),
        body: request.body ?? '',
        access_key_id: suite.credentials.accessKeyId,
        secret_access_key: suite.credentials.secretAccessKey,
        region: suite.region,
        service: suite.service,
        time: suite.signingDate.toISOString().replace('.000', ''),
      });
      assert.equal(res.authorization, authorization, `${name}\n${res.canonical_request ?? res.error}`);
    }
  });

  it('match the AWS SDK signer on generated S3 requests', { timeout: 60_000 }, async () => {
    const random = rng(20261206).next;
    const pick = (xs) => xs[Math.floor(random() * xs.length)];
    const alphabet = [...'abcXYZ019-._~ !$&\'()*+,;=:@%/?#[]"<>^`{|}', 'é', 'ሴ', '日本', '😀', '\u00a0'];
    const word = (n) => Array.from({ length: 1 + Math.floor(random() * n) }, () => pick(alphabet)).join('');
    // S3 keys are paths; the SDK's S3 client escapes each segment as smithy's escapeUri does.
    const escape = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const credentials = { accessKeyId: 'AKIAEMBERSTEST', secretAccessKey: 'secret/with+chars=' };
    const sdk = new SignatureV4({ credentials, region: 'eu-west-3', service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
    for (let i = 0; i < 400; i++) {
      const method = pick(['GET', 'PUT', 'HEAD', 'DELETE', 'POST']);
      const key = Array.from({ length: 1 + Math.floor(random() * 4) }, () => word(8).replaceAll('/', '_')).join('/');
      const rawPath = `/embers-bucket/${key}`;
      const query = pick([[], [['list-type', '2'], ['prefix', word(6)], ['continuation-token', word(20)]],
        [['uploads', '']], [['partNumber', String(1 + Math.floor(random() * 100))], ['uploadId', word(30)]], [['delete', '']],
        [[word(5), word(5)], [word(5), '']]]);
      const body = pick(['', 'x', crypto.randomBytes(Math.floor(random() * 1_000_000)).toString('latin1')]);
      const payloadHash = pick(['UNSIGNED-PAYLOAD', crypto.createHash('sha256').update(Buffer.from(body, 'latin1')).digest('hex')]);
      const headers = { host: 'embers-bucket.s3.eu-west-3.amazonaws.com', 'x-amz-content-sha256': payloadHash };
      if (random() < 0.3) headers.range = `bytes=${Math.floor(random() * 1000)}-${1000 + Math.floor(random() * 1000)}`;
      if (random() < 0.3) headers['content-type'] = 'application/octet-stream';
      if (random() < 0.2) headers['x-amz-meta-note'] = `  spaced   ${word(4)}  `;
      const date = new Date(Date.UTC(2026, Math.floor(random() * 12), 1 + Math.floor(random() * 28), Math.floor(random() * 24), Math.floor(random() * 60), Math.floor(random() * 60)));
      const queryObject = {};
      for (const [k, v] of query) queryObject[k] = v;
      const signed = await sdk.sign({
        method, protocol: 'https:', hostname: headers.host, path: rawPath.split('/').map(escape).join('/'),
        query: queryObject, headers: { ...headers }, body,
      }, { signingDate: date });
      const ours = await signer.sign({
        method, path: rawPath, query: Object.entries(queryObject),
        headers: [...Object.entries(headers), ['x-amz-date', signed.headers['x-amz-date']]],
        payload_hash: payloadHash, access_key_id: credentials.accessKeyId, secret_access_key: credentials.secretAccessKey,
        region: 'eu-west-3', service: 's3', time: date.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      });
      assert.equal(ours.authorization, signed.headers.authorization,
        `case ${i}: ${method} ${JSON.stringify(rawPath)} ${JSON.stringify(queryObject)}\n${ours.canonical_request ?? ours.error}`);
    }
  });
});
