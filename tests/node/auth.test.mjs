// API tokens (-auth.enabled, issue 15) against the real binary: the admin API creates, lists and
// revokes tokens (only with the admin token); every public API refuses requests without a valid
// token (401) and serves a token's own tenant only: a token of tenant A never reads B's data over
// Connect, gRPC, the legacy render/label routes, settings or ad hoc profiles, and X-Scope-OrgID
// cannot switch it to B (403); a read-only token cannot push and a write-only one cannot query
// (403); Bearer and Basic (the token as password) both work; a revoked token stops working at
// once; /ready and /metrics stay open.

import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import grpc from '@grpc/grpc-js';
import { call, show, stopCleanly, useEmbers } from './harness.mjs';
import { QUERIER_PROTO, loadGrpcPackage } from './protos.mjs';
import { encodeProfile } from './synthetic_profiles.mjs';

const ADMIN = 'admin-secret-for-tests';
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const basic = (user, token) => ({ Authorization: `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}` });

describe('API tokens', () => {
  const embers = useEmbers({
    extraArgs: ['-auth.enabled=true', `-auth.admin-token=${ADMIN}`, '-auth.token-refresh-interval=200ms',
      '-validation.reject-older-than=0', '-segment-writer.segment-duration=100ms'],
  });
  const tokens = {};  // name → {id, token, tenant, scopes}
  let querierPkg;

  const json = (method, path, body, headers = {}) => call(embers(), path, {
    method, headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const push = (headers, service, cpu = 10_000_000) => json('POST', '/push.v1.PusherService/Push', {
    series: [{
      labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: service }],
      samples: [{ rawProfile: Buffer.from(encodeProfile({ samples: [{ stack: ['main', service], cpu, count: 1 }], timeMs: Date.now() - 1000 })).toString('base64') }],
    }],
  }, headers);
  const range = () => ({ start: String(Date.now() - 3_600_000), end: String(Date.now() + 60_000) });
  const services = async (headers) => {
    const res = await json('POST', '/querier.v1.QuerierService/LabelValues', { name: 'service_name', ...range() }, headers);
    assert.equal(res.status, 200, show(res));
    return (JSON.parse(res.text).names ?? []).sort();
  };

  before(() => { querierPkg = loadGrpcPackage(QUERIER_PROTO); });

  it('the admin API needs the admin token', { timeout: 30_000 }, async () => {
    for (const headers of [{}, bearer('wrong'), basic('admin', ADMIN)]) {
      const res = await json('POST', '/api/v1/auth/tokens', { tenant: 'team-a', scopes: 'read,write' }, headers);
      assert.equal(res.status, 401, show(res));
      assert.equal((await json('GET', '/api/v1/auth/tokens', undefined, headers)).status, 401);
    }
    const bad = await json('POST', '/api/v1/auth/tokens', { tenant: '../x', scopes: 'read' }, bearer(ADMIN));
    assert.equal(bad.status, 400, show(bad));
    const noScope = await json('POST', '/api/v1/auth/tokens', { tenant: 'team-a', scopes: 'admin' }, bearer(ADMIN));
    assert.equal(noScope.status, 400, show(noScope));
  });

  it('creates tokens, shown once, listed without their secrets', { timeout: 30_000 }, async () => {
    for (const [name, tenant, scopes] of [['a', 'team-a', 'read,write'], ['b', 'team-b', ['read', 'write']],
      ['aRead', 'team-a', 'read'], ['aWrite', 'team-a', 'write']]) {
      const res = await json('POST', '/api/v1/auth/tokens', { tenant, scopes, description: `token ${name}` }, bearer(ADMIN));
      assert.equal(res.status, 200, show(res));
      tokens[name] = JSON.parse(res.text);
      assert.match(tokens[name].token, /^emb_[0-9a-f]{48}$/);
      assert.equal(tokens[name].tenant, tenant);
    }
    const list = await json('GET', '/api/v1/auth/tokens', undefined, bearer(ADMIN));
    assert.equal(list.status, 200, show(list));
    const listed = JSON.parse(list.text).tokens;
    assert.equal(listed.length, 4);
    for (const t of Object.values(tokens)) assert.ok(!list.text.includes(t.token.slice(20)), 'a secret is listed');
    const onlyB = JSON.parse((await json('GET', '/api/v1/auth/tokens?tenant=team-b', undefined, bearer(ADMIN))).text).tokens;
    assert.deepEqual(onlyB.map((t) => t.id), [tokens.b.id]);
  });

  it('requests without a valid token are 401; /ready and /metrics stay open', { timeout: 30_000 }, async () => {
    for (const headers of [{}, bearer('nonsense'), bearer(`emb_${'0'.repeat(48)}`),
      bearer(tokens.a.token.slice(0, -1) + (tokens.a.token.endsWith('0') ? '1' : '0'))]) {
      const res = await push(headers, 'intruder');
      assert.equal(res.status, 401, show(res));
      const q = await json('POST', '/querier.v1.QuerierService/LabelValues', { name: 'service_name', ...range() }, headers);
      assert.equal(q.status, 401, show(q));
    }
    assert.equal((await call(embers(), '/ready')).status, 200);
    assert.equal((await call(embers(), '/metrics')).status, 200);
  });

  it('each token pushes into its own tenant (Bearer, Basic, legacy /ingest)', { timeout: 30_000 }, async () => {
    let res = await push(bearer(tokens.a.token), 'svc-a');
    assert.equal(res.status, 200, show(res));
    res = await push(basic('anything', tokens.b.token), 'svc-b');
    assert.equal(res.status, 200, show(res));
    const now = Math.floor(Date.now() / 1000);
    res = await call(embers(), `/ingest?name=legacy-a.cpu&from=${now - 10}&until=${now}`, {
      method: 'POST', headers: { 'Content-Type': 'text/plain', ...bearer(tokens.aWrite.token) }, body: 'main;legacy 5\n',
    });
    assert.equal(res.status, 200, show(res));
    // X-Scope-OrgID may repeat the token's tenant, never name another one.
    res = await push({ ...bearer(tokens.a.token), 'X-Scope-OrgID': 'team-a' }, 'svc-a2');
    assert.equal(res.status, 200, show(res));
    res = await push({ ...bearer(tokens.a.token), 'X-Scope-OrgID': 'team-b' }, 'svc-smuggled');
    assert.equal(res.status, 403, show(res));
  });

  it('a token of tenant A reads A only, over every API', { timeout: 60_000 }, async () => {
    assert.deepEqual(await services(bearer(tokens.a.token)), ['legacy-a', 'svc-a', 'svc-a2']);
    assert.deepEqual(await services(bearer(tokens.b.token)), ['svc-b']);
    // X-Scope-OrgID cannot switch a read either.
    const smuggled = await json('POST', '/querier.v1.QuerierService/LabelValues', { name: 'service_name', ...range() },
      { ...bearer(tokens.a.token), 'X-Scope-OrgID': 'team-b' });
    assert.equal(smuggled.status, 403, show(smuggled));

    // SelectMergeStacktraces of B's service with A's token: nothing.
    const merge = (token, service) => json('POST', '/querier.v1.QuerierService/SelectMergeStacktraces', {
      profileTypeID: CPU, labelSelector: `{service_name="${service}"}`, ...range(),
    }, bearer(token));
    let res = await merge(tokens.b.token, 'svc-b');
    assert.equal(res.status, 200, show(res));
    assert.ok(Number(JSON.parse(res.text).flamegraph?.total ?? 0) > 0, `B sees its own data: ${res.text.slice(0, 300)}`);
    res = await merge(tokens.a.token, 'svc-b');
    assert.equal(res.status, 200, show(res));
    assert.equal(Number(JSON.parse(res.text).flamegraph?.total ?? 0), 0, `A sees B's data: ${res.text.slice(0, 300)}`);

    // Legacy render and label routes.
    const render = (token, service) => call(embers(), `/pyroscope/render?query=${encodeURIComponent(`${CPU}{service_name="${service}"}`)}&from=now-1h&until=now`, { headers: bearer(token) });
    res = await render(tokens.b.token, 'svc-b');
    assert.equal(res.status, 200, show(res));
    assert.ok(JSON.parse(res.text).flamebearer.numTicks > 0);
    res = await render(tokens.a.token, 'svc-b');
    assert.equal(res.status, 200, show(res));
    assert.equal(JSON.parse(res.text).flamebearer.numTicks, 0);
    res = await call(embers(), '/pyroscope/label-values?label=service_name&from=now-1h&until=now', { headers: bearer(tokens.a.token) });
    assert.equal(res.status, 200, show(res));
    assert.deepEqual(JSON.parse(res.text).sort(), ['legacy-a', 'svc-a', 'svc-a2']);
    res = await call(embers(), '/pyroscope/render?query=x&from=now-1h&until=now');
    assert.equal(res.status, 401, show(res));

    // gRPC on the public gRPC port, the token in the authorization metadata.
    const client = new querierPkg.querier.v1.QuerierService(embers().grpcAddress, grpc.credentials.createInsecure());
    try {
      const labelValues = (md) => new Promise((resolve) => {
        const m = new grpc.Metadata();
        for (const [k, v] of Object.entries(md)) m.set(k, v);
        client.LabelValues({ name: 'service_name', ...range() }, m, { deadline: new Date(Date.now() + 10_000) },
          (err, r) => resolve({ err, r }));
      });
      let r = await labelValues({ authorization: `Bearer ${tokens.b.token}` });
      assert.ifError(r.err);
      assert.deepEqual(r.r.names, ['svc-b']);
      r = await labelValues({});
      assert.equal(r.err?.code, grpc.status.UNAUTHENTICATED, `${r.err?.code} ${r.err?.details}`);
      r = await labelValues({ authorization: `Bearer ${tokens.b.token}`, 'x-scope-orgid': 'team-a' });
      assert.equal(r.err?.code, grpc.status.PERMISSION_DENIED, `${r.err?.code} ${r.err?.details}`);
    } finally {
      client.close();
    }

    // settings.v1: what A sets, B does not see.
    res = await json('POST', '/settings.v1.SettingsService/Set', { setting: { name: 'pluginSettings', value: 'a-only' } }, bearer(tokens.a.token));
    assert.equal(res.status, 200, show(res));
    res = await json('POST', '/settings.v1.SettingsService/Get', {}, bearer(tokens.b.token));
    assert.equal(res.status, 200, show(res));
    assert.ok(!res.text.includes('a-only'), `B reads A's setting: ${res.text}`);
    res = await json('POST', '/settings.v1.SettingsService/Get', {}, bearer(tokens.a.token));
    assert.ok(res.text.includes('a-only'), res.text);

    // adhocprofiles.v1: A's upload is not in B's list.
    const profile = Buffer.from(encodeProfile({ samples: [{ stack: ['main', 'adhoc'], cpu: 1, count: 1 }], timeMs: Date.now() })).toString('base64');
    res = await json('POST', '/adhocprofiles.v1.AdHocProfileService/Upload', { name: 'a.pprof', profile }, bearer(tokens.a.token));
    assert.equal(res.status, 200, show(res));
    const id = JSON.parse(res.text).id;
    res = await json('POST', '/adhocprofiles.v1.AdHocProfileService/List', {}, bearer(tokens.b.token));
    assert.equal(res.status, 200, show(res));
    assert.ok(!res.text.includes(id), `B lists A's upload: ${res.text}`);
    res = await json('POST', '/adhocprofiles.v1.AdHocProfileService/Get', { id }, bearer(tokens.b.token));
    assert.equal(res.status, 404, show(res));
  });

  it('scopes: a read-only token cannot push, a write-only one cannot query', { timeout: 30_000 }, async () => {
    let res = await push(bearer(tokens.aRead.token), 'svc-ro');
    assert.equal(res.status, 403, show(res));
    assert.match(res.text, /needs write/);
    res = await json('POST', '/querier.v1.QuerierService/LabelValues', { name: 'service_name', ...range() }, bearer(tokens.aWrite.token));
    assert.equal(res.status, 403, show(res));
    assert.deepEqual(await services(bearer(tokens.aRead.token)), ['legacy-a', 'svc-a', 'svc-a2']);
  });

  it('a revoked token stops working at once', { timeout: 30_000 }, async () => {
    let res = await json('DELETE', `/api/v1/auth/tokens/${tokens.a.id}`, undefined, bearer(ADMIN));
    assert.equal(res.status, 200, show(res));
    res = await push(bearer(tokens.a.token), 'svc-a');
    assert.equal(res.status, 401, show(res));
    res = await json('DELETE', `/api/v1/auth/tokens/${tokens.a.id}`, undefined, bearer(ADMIN));
    assert.equal(res.status, 404, show(res));
    const listed = JSON.parse((await json('GET', '/api/v1/auth/tokens', undefined, bearer(ADMIN))).text).tokens;
    assert.ok(!listed.some((t) => t.id === tokens.a.id));
    // The other tokens of the tenant still work.
    assert.deepEqual(await services(bearer(tokens.aRead.token)), ['legacy-a', 'svc-a', 'svc-a2']);
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});
