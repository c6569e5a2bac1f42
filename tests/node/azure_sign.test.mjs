// Shared Key signing (objstore/azure/shared_key.h, issue 13) against the Azure SDK's own signer,
// through the azure_sign tool built with the tests: the storageSharedKeyCredentialPolicy that
// @azure/storage-blob's clients sign every request with, over hundreds of generated Blob requests
// (methods, path- and virtual-host-style URLs, unicode and punctuation blob names, List Blobs,
// Put Block and Put Block List query strings, x-ms-range and other x-ms-* headers in any order and
// case, empty and large bodies). azurite checks signatures too, so e2e.azure and the C++ tests on
// azurite prove them against a server as well.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, before, after } from 'node:test';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { storageSharedKeyCredentialPolicy } from '@azure/storage-common';
import { EMBERS_BIN } from './harness.mjs';
import { rng } from './synthetic_profiles.mjs';
import { JsonLineTool } from './json_line_tool.mjs';

const TOOL = process.env.EMBERS_AZURE_SIGN ||
  path.resolve(path.dirname(EMBERS_BIN), '..', '..', 'objstore', 'azure', 'azure_sign');


// Signs `request` with the SDK's policy; returns the headers it ended up with. The policy and the
// request type come from @azure/storage-common and @azure/core-rest-pipeline, which the pinned
// @azure/storage-blob depends on and builds every client pipeline from.
async function sdkSign(accountName, accountKey, { method, url, headers, body }) {
  const policy = storageSharedKeyCredentialPolicy({ accountName, accountKey: Buffer.from(accountKey, 'base64') });
  const request = createPipelineRequest({ url, method, headers: createHttpHeaders(headers), body });
  let signed;
  await policy.sendRequest(request, async (r) => { signed = r; return { request: r, status: 200, headers: createHttpHeaders() }; });
  return signed.headers;
}

describe('Azure Shared Key signatures', () => {
  let signer;
  before(() => {
    assert.ok(fs.existsSync(TOOL), `azure_sign not built at ${TOOL} (cmake --build build --target azure_sign)`);
    signer = new JsonLineTool(TOOL);
  });
  after(() => signer?.close());

  it('match the Azure SDK signer on generated Blob requests', { timeout: 60_000 }, async () => {
    const random = rng(20261207).next;
    const pick = (xs) => xs[Math.floor(random() * xs.length)];
    const alphabet = [...'abcXYZ019-._~ !$&\'()*+,;=:@%?#[]"<>^`{|}', 'é', 'ሴ', '日本', '😀', '\u00a0', '\ue000'];
    const word = (n) => Array.from({ length: 1 + Math.floor(random() * n) }, () => pick(alphabet)).join('');
    // What AzureBucket sends: every byte but the unreserved ones percent-encoded ('/' kept in names).
    const escape = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    let compared = 0;
    for (let i = 0; i < 400; i++) {
      const account = pick(['devstoreaccount1', 'embersprod', 'a1b2c3']);
      const accountKey = crypto.randomBytes(64).toString('base64');
      const method = pick(['GET', 'PUT', 'HEAD', 'DELETE']);
      // Names are paths of segments; no "." or ".." segment (keys never have one, and URL
      // parsing would fold it).
      const name = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
        const segment = word(8).replaceAll('/', '_');
        return segment === '.' || segment === '..' ? `${segment}x` : segment;
      }).join('/');
      const container = pick(['embers', 'c-1', 'blocks']);
      const pathStyle = random() < 0.5;
      const host = pathStyle ? '127.0.0.1:10000' : `${account}.blob.core.windows.net`;
      let encodedPath = `/${container}`;
      if (random() < 0.8) encodedPath += `/${name.split('/').map(escape).join('/')}`;
      if (pathStyle) encodedPath = `/${account}${encodedPath}`;
      const query = pick([[], [['restype', 'container'], ['comp', 'list'], ['prefix', word(6)], ['marker', word(20)], ['maxresults', String(1 + Math.floor(random() * 5000))]],
        [['comp', 'block'], ['blockid', crypto.randomBytes(24).toString('base64')]], [['comp', 'blocklist']],
        [['restype', 'container']], [[word(5).toLowerCase().replace(/[^a-z]/g, '') || 'q', word(5)]]]);
      const queryString = query.map(([k, v]) => `${escape(k)}=${escape(v)}`).join('&');
      const url = `${pathStyle ? 'http' : 'https'}://${host}${encodedPath}${queryString ? `?${queryString}` : ''}`;
      const body = method === 'PUT' ? pick(['', 'x', crypto.randomBytes(Math.floor(random() * 1_000_000)).toString('latin1')]) : undefined;
      const headers = { 'x-ms-version': pick(['2021-08-06', '2025-11-05']) };
      if (random() < 0.3) headers['x-ms-range'] = `bytes=${Math.floor(random() * 1000)}-${1000 + Math.floor(random() * 1000)}`;
      if (method === 'PUT' && random() < 0.5) headers['x-ms-blob-type'] = 'BlockBlob';
      if (random() < 0.3) headers['Content-Type'] = pick(['application/xml', 'application/octet-stream']);
      if (random() < 0.3) headers['x-ms-client-request-id'] = crypto.randomUUID();
      if (random() < 0.3) headers[`x-ms-meta-${pick(['a', 'a-b', 'ab', 'A_b', 'z9'])}`] = `v  ${word(3)}`;
      if (random() < 0.2) headers['X-MS-Blob-Content-Type'] = 'text/plain';
      if (random() < 0.2) headers['If-None-Match'] = '*';
      const signed = await sdkSign(account, accountKey, { method, url, headers, body: body === undefined ? undefined : Buffer.from(body, 'latin1') });
      const sent = [...signed].filter(([k]) => k.toLowerCase() !== 'authorization');
      const ours = await signer.sign({
        method, encoded_path: new URL(url).pathname, query,
        // libcurl sends a Content-Length with every upload, 0 included.
        headers: body === undefined || sent.some(([k]) => k.toLowerCase() === 'content-length') ? sent : [...sent, ['Content-Length', '0']],
        account_name: account, account_key: accountKey,
      });
      assert.match(signed.get('authorization') ?? '', new RegExp(`^SharedKey ${account}:[A-Za-z0-9+/]{43}=$`));
      assert.equal(ours.authorization, signed.get('authorization'),
        `case ${i}: ${method} ${url} ${JSON.stringify(sent)}\n${ours.string_to_sign ?? ours.error}`);
      compared++;
    }
    assert.equal(compared, 400);
  });
});
