// The other ingest APIs end to end against the real binary: /ingest (folded text, JFR multipart
// with context labels, pprof multipart with sample_type_config) and OTLP over HTTP (the OTel eBPF
// profiler capture from Pyroscope's test data). Each is acknowledged and its profile types show up
// in ProfileTypes; bad input gets the status Pyroscope's clients expect (422, 415, 400, 413).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { EMBERS_SRC, call, show, stopCleanly, useEmbers } from './harness.mjs';

const TESTDATA = process.env.EMBERS_TESTDATA || path.join(EMBERS_SRC, '..', 'shared', 'testdata');
const DATA = path.join(TESTDATA, 'pyroscope');
const haveTestdata = fs.existsSync(DATA);

function multipart(fields) {
  const boundary = 'embers-e2e-boundary';
  const parts = [];
  for (const [name, content] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n'), content, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

describe('/ingest and OTLP end to end', { skip: haveTestdata ? false : `no testdata at ${DATA}` }, () => {
  const embers = useEmbers({ extraArgs: ['-validation.reject-older-than=0', '-segment-writer.segment-duration=100ms', '-distributor.ingestion-rate-limit-mb=0'] });
  const ingest = (query, body, headers = {}) =>
    call(embers(), `/ingest?${query}`, { method: 'POST', body, headers, timeoutMs: 20_000 });

  it('folded text is accepted (200)', { timeout: 30_000 }, async () => {
    const res = await ingest('name=kafka.cpu%7Benv%3De2e%7D&sampleRate=100',
      fs.readFileSync(path.join(DATA, 'folded', 'java_kafka_cpu.folded')));
    assert.equal(res.status, 200, show(res));
  });

  it('JFR multipart with a labels snapshot is accepted (200)', { timeout: 30_000 }, async () => {
    const { body, contentType } = multipart({
      jfr: zlib.gunzipSync(fs.readFileSync(path.join(DATA, 'jfr', 'dump1_cpu_with_contexts.jfr.gz'))),
      labels: fs.readFileSync(path.join(DATA, 'jfr', 'dump1.labels.pb.gz')),
    });
    const res = await ingest('name=javaapp&format=jfr&spyName=javaspy&sampleRate=100', body, { 'Content-Type': contentType });
    assert.equal(res.status, 200, show(res));
  });

  it('pprof multipart with a sample_type_config is accepted (200)', { timeout: 30_000 }, async () => {
    const dir = path.join(DATA, 'ingest-multipart');
    const { body, contentType } = multipart({
      profile: fs.readFileSync(path.join(dir, 'req_4_mutex.pprof')),
      sample_type_config: fs.readFileSync(path.join(dir, 'req_4_mutex.sample_type_config.json')),
    });
    const res = await ingest('name=goapp&spyName=gospy', body, { 'Content-Type': contentType });
    assert.equal(res.status, 200, show(res));
  });

  it('OTLP protobuf over HTTP is accepted (200)', { timeout: 30_000 }, async () => {
    const res = await call(embers(), '/v1development/profiles', {
      method: 'POST', timeoutMs: 20_000,
      headers: { 'Content-Type': 'application/x-protobuf' },
      body: fs.readFileSync(path.join(DATA, 'otlp', 'otel-ebpf-profile.ExportProfilesServiceRequest.pb')),
    });
    assert.equal(res.status, 200, show(res));
  });

  it('ProfileTypes lists what the formats produced', { timeout: 30_000 }, async () => {
    const res = await call(embers(), '/querier.v1.QuerierService/ProfileTypes', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ start: 1, end: Date.now() }),
    });
    assert.equal(res.status, 200, show(res));
    const ids = res.json().profileTypes.map((t) => t.ID);
    for (const want of ['process_cpu:cpu:nanoseconds:cpu:nanoseconds', 'mutex:contentions:count:contentions:count',
      'mutex:delay:nanoseconds:contentions:count', 'off_cpu:off_cpu:nanoseconds::']) {
      assert.ok(ids.includes(want), `${want} missing from ${ids}`);
    }
  });

  it('bad input gets 4xx with a message: 422 count, 415 format, 400 multipart, 400 name, 415 OTLP type', { timeout: 30_000 }, async () => {
    let res = await ingest('name=app.cpu', 'a;b;c notanumber\n');
    assert.equal(res.status, 422, show(res));
    assert.match(res.text, /notanumber/);
    res = await ingest('name=app.cpu&format=nosuchformat', 'a;b 1\n');
    assert.equal(res.status, 415, show(res));
    res = await ingest('name=app.cpu', Buffer.from('--x\r\nbroken'), { 'Content-Type': 'multipart/form-data; boundary=x' });
    assert.equal(res.status, 400, show(res));
    res = await ingest('name=app.cpu%7Bunclosed', 'a;b 1\n');
    assert.equal(res.status, 400, show(res));
    res = await call(embers(), '/v1development/profiles', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' });
    assert.equal(res.status, 415, show(res));
  });

  it('a gzip bomb is refused with 413 without taking the server down', { timeout: 30_000 }, async () => {
    // ~1 MB of gzip that inflates to 1 GB, sent as an /ingest pprof body without Content-Encoding.
    const bomb = zlib.gzipSync(Buffer.alloc(1 << 30), { level: 9 });
    const res = await ingest('name=app.cpu&format=pprof', bomb);
    assert.equal(res.status, 413, show(res));
    const ready = await call(embers(), '/ready');
    assert.equal(ready.status, 200);
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});
