// The HTTP port's behaviour at its edges, as seen by a plain HTTP/1.1 client:
//  - routing: unknown route 404, known route with the wrong method 405 (+ Allow);
//  - Connect error bodies ({"code","message"} JSON on Connect routes): invalid JSON / invalid
//    protobuf → 400 invalid_argument, unsupported Content-Type → 415, wrong method → 405;
//  - request body limit: -server.http-max-request-body-bytes=1024 and a 64 KiB body (with
//    Content-Length, and chunked) → 413, and the server keeps serving afterwards;
//  - operational endpoints: /ready 200, /metrics (valid Prometheus text, embers_build_info, a request
//    counter for a route we called; made-up methods counted as "other", not as new series), /config
//    (YAML with the http_listen_port it was started with);
//  - a push of many small gzip bombs (each under the per-profile limit) is 413 once all of its
//    profiles together pass -distributor.max-push-decompressed-bytes, and the server's peak RSS
//    grows by less than 48 MiB doing it (50 × 4 MiB would decode without the budget);
//  - Content-Encoding: gzip and zstd pushes are stored; a zstd bomb over the body limit is 413, a
//    corrupt zstd body 400, an unknown encoding 415 (inflated on the handler threads, not the
//    I/O threads);
//  - SIGTERM → exit code 0.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { create, toBinary } from '@bufbuild/protobuf';
import { call, show, stopCleanly, useEmbers } from './harness.mjs';
import { pusherServiceDescriptor } from './protos.mjs';
import { encodeProfile } from './synthetic_profiles.mjs';

const PROFILE_TYPES = '/querier.v1.QuerierService/ProfileTypes';
const CONNECT_HEADERS = { 'Connect-Protocol-Version': '1' };

const post = (server, path, contentType, body) =>
  call(server, path, { method: 'POST', headers: { ...CONNECT_HEADERS, 'Content-Type': contentType }, body });

/**
 * Asserts a Connect unary error: the HTTP status and a JSON body {code, message} of strings;
 * with `code`, also that exact Connect code.
 */
function assertConnectError(res, status, code) {
  assert.equal(res.status, status, show(res));
  assert.match(res.headers['content-type'] ?? '', /^application\/json\b/, `error Content-Type: ${show(res)}`);
  const body = res.json();
  assert.equal(typeof body.code, 'string', `"code" must be a string: ${show(res)}`);
  assert.equal(typeof body.message, 'string', `"message" must be a string: ${show(res)}`);
  if (code !== undefined) assert.equal(body.code, code, show(res));
  assert.notEqual(body.message, '', `"message" should say what is wrong: ${show(res)}`);
}

// One line of the Prometheus text format 0.0.4: name{labels} value [timestamp]
const LABEL = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"`;
const SAMPLE_LINE = new RegExp(String.raw`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:${LABEL}(?:,${LABEL})*,?)?\})? ` +
  String.raw`([-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN))( -?[0-9]+)?$`);

describe('HTTP port: routing, Connect errors and operational endpoints', () => {
  const embers = useEmbers();

  it('GET /ready is 200', async () => {
    const res = await call(embers(), '/ready');
    assert.equal(res.status, 200, show(res));
  });

  it('an unknown route is 404', async () => {
    for (const [method, path] of [
      ['GET', '/no/such/route'],
      ['POST', '/no.such.v1.Service/Method'],
      ['POST', '/querier.v1.QuerierService/NoSuchMethod'],
    ]) {
      const headers = method === 'POST' ? { ...CONNECT_HEADERS, 'Content-Type': 'application/json' } : {};
      const res = await call(embers(), path, { method, headers, body: method === 'POST' ? '{}' : undefined });
      assert.equal(res.status, 404, `${method} ${path}: ${show(res)}`);
    }
  });

  it('a known route with the wrong method is 405 with an Allow header', async () => {
    for (const [method, path, allowed] of [['GET', PROFILE_TYPES, 'POST'], ['POST', '/ready', 'GET'],
      ['PUT', '/metrics', 'GET']]) {
      const res = await call(embers(), path, { method, body: method === 'GET' ? undefined : '' });
      assert.equal(res.status, 405, `${method} ${path}: ${show(res)}`);
      assert.match(res.headers.allow ?? '', new RegExp(`\\b${allowed}\\b`),
        `${method} ${path}: a 405 must name the allowed methods in Allow: ${JSON.stringify(res.headers)}`);
    }
  });

  it('the wrong method on a Connect route is a Connect error body', async () => {
    const res = await call(embers(), PROFILE_TYPES);
    assertConnectError(res, 405);
  });

  it('a valid JSON request is answered (control for the error cases)', async () => {
    const res = await post(embers(), PROFILE_TYPES, 'application/json', '{}');
    assert.equal(res.status, 200, show(res));
    assert.match(res.headers['content-type'] ?? '', /^application\/json\b/, show(res));
    const types = res.json().profileTypes ?? res.json().profile_types ?? [];
    assert.deepEqual(types, [], show(res));
  });

  it('invalid JSON is 400 invalid_argument with a Connect error body', async () => {
    for (const body of ['{"start": ', 'not json at all', '{"start": "yesterday"}', '[1,2,3]']) {
      const res = await post(embers(), PROFILE_TYPES, 'application/json', body);
      assertConnectError(res, 400, 'invalid_argument');
    }
  });

  it('invalid protobuf bytes are 400 invalid_argument with a Connect error body', async () => {
    const res = await post(embers(), PROFILE_TYPES, 'application/proto', Buffer.from([0xff, 0xff, 0xff]));
    assertConnectError(res, 400, 'invalid_argument');
  });

  it('an unsupported Content-Type is 415', async () => {
    const res = await post(embers(), PROFILE_TYPES, 'text/plain', 'hello');
    assertConnectError(res, 415);
  });

  it('GET /metrics is Prometheus text with embers_build_info and a request counter', async () => {
    // Make sure at least one ProfileTypes call was counted, whatever ran before.
    assert.equal((await post(embers(), PROFILE_TYPES, 'application/json', '{}')).status, 200);
    const res = await call(embers(), '/metrics');
    assert.equal(res.status, 200, show(res));
    assert.match(res.headers['content-type'] ?? '', /^text\/plain\b/, `Content-Type of /metrics: ${show(res)}`);

    const samples = [];
    for (const line of res.text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const m = SAMPLE_LINE.exec(line);
      assert.ok(m, `not a valid Prometheus sample line: ${JSON.stringify(line)}`);
      samples.push({ line, name: m[1], labels: m[2] ?? '', value: Number(m[3]) });
    }
    assert.ok(samples.some((s) => s.name === 'embers_build_info'), 'no embers_build_info sample in /metrics');

    // A request counter (…request…_total or …request…_count) with a label naming the route we called.
    const counted = samples.filter((s) => /request/i.test(s.name) && /(_total|_count)$/.test(s.name) &&
      /profile_?types/i.test(s.labels) && s.value >= 1);
    assert.ok(counted.length > 0, `no HTTP request counter for ${PROFILE_TYPES} in /metrics. Request lines:\n` +
      samples.filter((s) => /request/i.test(s.name)).map((s) => s.line).slice(0, 40).join('\n'));
  });

  it('requests with made-up methods do not add metric series (the label is "other")', async () => {
    const series = async () => (await call(embers(), '/metrics')).text.split('\n')
      .filter((l) => l.startsWith('embers_http_requests_total{'));
    for (let i = 0; i < 3; i++) await call(embers(), `/warm-${i}`, { method: `WARM${i}` });
    const before = await series();
    for (let i = 0; i < 40; i++) {
      const res = await call(embers(), i % 2 ? '/ready' : `/x-${i}`, { method: `BREW${i}` });
      assert.ok(res.status >= 400 && res.status < 500, `BREW${i}: ${show(res)}`);
    }
    const after = await series();
    assert.ok(after.some((l) => l.includes('method="other"')), `no method="other" series:\n${after.join('\n')}`);
    assert.ok(!after.some((l) => /method="(BREW|WARM)/.test(l)), `a made-up method became a label:\n${after.join('\n')}`);
    // /ready and "unmatched" with method "other": at most two series more than before.
    assert.ok(after.length <= before.length + 2, `series grew from ${before.length} to ${after.length}`);
  });

  it('GET /config is YAML naming the http_listen_port the server was started with', async () => {
    // The harness lets the server pick its port (0): /config shows the flag, as Pyroscope's does.
    const port = embers().flag('server.http-listen-port');
    const res = await call(embers(), '/config');
    assert.equal(res.status, 200, show(res));
    assert.match(res.text, new RegExp(String.raw`\bhttp_listen_port:\s*${port}\b`),
      `/config should contain "http_listen_port: ${port}":\n${res.text.slice(0, 2000)}`);
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});

describe('HTTP port: request body limit', () => {
  const LIMIT = 1024;
  const embers = useEmbers({ extraArgs: [`-server.http-max-request-body-bytes=${LIMIT}`] });

  it('a body within the limit is served normally', async () => {
    const res = await post(embers(), PROFILE_TYPES, 'application/json', '{"start":"0","end":"1"}');
    assert.equal(res.status, 200, show(res));
  });

  it('a 64 KiB body over a 1 KiB limit is 413', async () => {
    // A valid JSON object padded with whitespace, so only the size is wrong.
    const body = '{' + ' '.repeat(64 * 1024) + '}';
    const res = await post(embers(), PROFILE_TYPES, 'application/json', body);
    assertConnectError(res, 413);
  });

  it('a chunked body over the limit (no Content-Length) is 413 as well', async () => {
    const body = '{' + ' '.repeat(64 * 1024) + '}';
    const res = await call(embers(), PROFILE_TYPES, {
      method: 'POST',
      headers: { ...CONNECT_HEADERS, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      body,
    });
    assertConnectError(res, 413);
  });

  it('the server keeps serving after rejecting large bodies', async () => {
    const ready = await call(embers(), '/ready');
    assert.equal(ready.status, 200, show(ready));
    const res = await post(embers(), PROFILE_TYPES, 'application/json', '{}');
    assert.equal(res.status, 200, show(res));
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});

describe('Push: all profiles of one push share a decompressed-bytes budget', () => {
  // The rate limit is off: the first push alone empties a 2 MB burst, and what is tested here is
  // the budget (Distributor::Admit would answer 429 before any decoding otherwise).
  const embers = useEmbers({ extraArgs: ['-distributor.max-push-decompressed-bytes=8388608', '-distributor.ingestion-rate-limit-mb=0'] });
  const peakRssKiB = () => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${embers().pid}/status`, 'utf8'))[1]);
  // A pprof that decompresses to ~3.5 MiB (a long function name) and gzips to a few KiB: under the
  // 4 MiB per-profile limit.
  const bomb = zlib.gzipSync(encodeProfile({
    samples: [{ stack: ['main', 'x'.repeat(3_500_000)], cpu: 10_000_000, count: 1 }], timeMs: Date.now(),
  }));
  const pushBody = (n) => {
    const Push = pusherServiceDescriptor().methods.find((m) => m.name === 'Push').input;
    return toBinary(Push, create(Push, {
      series: [{ labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: 'bomb' }],
        samples: Array.from({ length: n }, () => ({ rawProfile: bomb })) }],
    }));
  };
  const push = (n) => call(embers(), '/push.v1.PusherService/Push', {
    method: 'POST', headers: { 'Content-Type': 'application/proto', 'Connect-Protocol-Version': '1' }, body: pushBody(n),
  });

  it('one such profile is accepted', async () => {
    assert.ok(bomb.length < 64 * 1024, `compressed size ${bomb.length}`);
    const res = await push(1);
    assert.equal(res.status, 200, show(res));
  });

  it('fifty of them in one push are 413 before they are all decoded', async () => {
    const before = peakRssKiB();
    const res = await push(50);
    assert.equal(res.status, 413, show(res));
    assert.match(res.text, /max-push-decompressed-bytes/);
    const grown = peakRssKiB() - before;
    assert.ok(grown < 48 * 1024, `peak RSS grew by ${grown} KiB`);
    const ready = await call(embers(), '/ready');
    assert.equal(ready.status, 200, show(ready));
  });
});

describe('Content-Encoding request bodies', () => {
  const embers = useEmbers({ extraArgs: ['-validation.reject-older-than=0', '-server.http-max-request-body-bytes=4194304'] });
  const zstd = (buf, args = []) => execFileSync('zstd', ['-q', '-c', ...args], { input: buf, maxBuffer: 64 << 20 });
  const pushBody = (service) => Buffer.from(JSON.stringify({
    series: [{
      labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: service }],
      samples: [{ rawProfile: Buffer.from(encodeProfile({ samples: [{ stack: ['main', service], cpu: 10_000_000, count: 1 }], timeMs: Date.now() - 1000 })).toString('base64') }],
    }],
  }));
  const push = (body, encoding) => call(embers(), '/push.v1.PusherService/Push', {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding }, body,
  });

  it('gzip and zstd pushes are stored like plain ones', { timeout: 30_000 }, async () => {
    let res = await push(zlib.gzipSync(pushBody('gzip-body')), 'gzip');
    assert.equal(res.status, 200, show(res));
    res = await push(zstd(pushBody('zstd-body')), 'zstd');
    assert.equal(res.status, 200, show(res));
    res = await call(embers(), '/querier.v1.QuerierService/LabelValues', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'service_name', start: String(Date.now() - 3_600_000), end: String(Date.now()) }),
    });
    assert.equal(res.status, 200, show(res));
    assert.deepEqual(JSON.parse(res.text).names.sort(), ['gzip-body', 'zstd-body']);
  });

  it('a zstd bomb over the body limit is 413, a corrupt one 400, an unknown encoding 415', { timeout: 30_000 }, async () => {
    // 64 MiB of zeros in a few KiB, against a 4 MiB limit.
    const bomb = zstd(Buffer.alloc(64 << 20), ['-19']);
    assert.ok(bomb.length < 64 << 10, `bomb is ${bomb.length} bytes`);
    let res = await push(bomb, 'zstd');
    assert.equal(res.status, 413, show(res));
    const corrupt = Buffer.from(zstd(pushBody('x')));
    corrupt[corrupt.length >> 1] ^= 0xff;
    res = await push(corrupt, 'zstd');
    assert.ok([400, 413].includes(res.status), show(res));
    assert.notEqual(res.status, 413, show(res));
    res = await push(pushBody('br-body'), 'br');
    assert.equal(res.status, 415, show(res));
    // The server is still fine.
    assert.equal((await call(embers(), '/ready')).status, 200);
  });
});
