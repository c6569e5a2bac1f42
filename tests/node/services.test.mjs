// The services Pyroscope's clients call besides push and query (issue 14), against the real binary:
//  - status.v1: GET /api/v1/status/buildinfo agrees with `embers -version`; the running, default
//    and diff configurations (GET and Connect GetConfig) show the flags the server was started with;
//    GetBuildInfo over gRPC on the gRPC port;
//  - version.v1 Version and capabilities.v1 GetFeatureFlags over Connect and gRPC;
//  - the allow-utf8-labelnames capability: with -client-capability.allow-utf8-labelnames, a client
//    that sends it in Accept may push a label name such as "k8s/pod" and sees it in LabelNames and
//    Series; a client without it is refused the push and never sees the name; a server without the
//    flag refuses the name whatever the client says;
//  - GET /pyroscope/label-values?label=__name__ lists the profile type ids ProfileTypes lists;
//  - SelectSeries exemplars (EXEMPLAR_TYPE_INDIVIDUAL): the largest profile of a point, by the id
//    it was pushed with, whose own selection by that id gives the same value;
//  - OTLP Export over Connect on the HTTP port (the OTel eBPF capture from Pyroscope's test data);
//  - settings.v1 Get/Set per tenant (multi-tenancy on): a value set by tenant A is read back by A
//    over Connect and gRPC, not by B; an older write is refused; settings survive a restart of the
//    process (they live in the metastore's Raft state);
//  - adhocprofiles.v1 Upload/Get/List/Diff: a pprof of known stacks comes back as a flame graph
//    whose self values are the stacks' values, for each sample type; collapsed stacks, perf script
//    output and exported flamebearer JSON upload too; Diff compares two uploads; uploads are per
//    tenant.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, before, after } from 'node:test';
import grpc from '@grpc/grpc-js';
import { EMBERS_BIN, EMBERS_SRC, call, show, startServer, stopCleanly, useEmbers } from './harness.mjs';
import { loadGrpcPackage } from './protos.mjs';
import { encodeProfile } from './synthetic_profiles.mjs';

const TESTDATA = process.env.EMBERS_TESTDATA || path.join(EMBERS_SRC, '..', 'shared', 'testdata');
const OTLP_CAPTURE = path.join(TESTDATA, 'pyroscope', 'otlp', 'otel-ebpf-profile.ExportProfilesServiceRequest.pb');
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const UTF8_ACCEPT = 'application/json; allow-utf8-labelnames=true';

const connect = (server, method, body = {}, headers = {}) => call(server, method, {
  method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body),
});

function grpcCall(client, method, req = {}) {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: new Date(Date.now() + 10_000) }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}

function pushBody(service, extraLabels = []) {
  const now = Date.now();
  const raw = encodeProfile({ samples: [{ stack: ['main', 'work'], cpu: 10_000_000, count: 1 }], timeMs: now });
  return {
    series: [{
      labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: service }, ...extraLabels],
      samples: [{ rawProfile: Buffer.from(raw).toString('base64') }],
    }],
  };
}

const range = () => ({ start: Date.now() - 3_600_000, end: Date.now() + 60_000 });

describe('status, version and capabilities services', () => {
  // The OTLP capture is from 2026-03: old profiles are accepted here.
  const embers = useEmbers({ extraArgs: ['-log.level=debug', '-validation.reject-older-than=0'] });
  const grpcClients = [];
  const grpcClient = (proto, pkgPath) => {
    let Service = loadGrpcPackage(proto);
    for (const p of pkgPath) Service = Service?.[p];
    assert.ok(Service, `${proto} does not define ${pkgPath.join('.')}`);
    const c = new Service(embers().grpcAddress, grpc.credentials.createInsecure());
    grpcClients.push(c);
    return c;
  };
  after(() => grpcClients.forEach((c) => c.close()));

  it('GET /api/v1/status/buildinfo reports the version and revision `embers -version` prints', { timeout: 30_000 }, async () => {
    const printed = execFileSync(EMBERS_BIN, ['-version']).toString();
    const [, version, revision] = printed.match(/version (\S+) \(revision (\S+)\)/) ?? [];
    assert.ok(version, `unexpected -version output: ${printed}`);
    const res = await call(embers(), '/api/v1/status/buildinfo');
    assert.equal(res.status, 200, show(res));
    const body = res.json();
    assert.equal(body.status, 'success');
    assert.equal(body.data.version, version);
    assert.equal(body.data.revision, revision);
    // Every field is present, as upstream's gateway renders it.
    for (const field of ['branch', 'buildUser', 'buildDate', 'goVersion']) {
      assert.ok(field in body.data, `data.${field} missing: ${res.text}`);
    }
    assert.ok(body.data.goVersion.length > 0, 'the compiler is reported in goVersion');
  });

  it('the running, default and diff configurations show what the server was started with', { timeout: 30_000 }, async () => {
    const port = embers().flag('server.http-listen-port');  // 0: the harness lets the server pick
    const running = await call(embers(), '/api/v1/status/config');
    assert.equal(running.status, 200, show(running));
    assert.match(running.text, new RegExp(`http_listen_port: ${port}\\b`));
    const defaults = await call(embers(), '/api/v1/status/config/default');
    assert.match(defaults.text, /http_listen_port: 4040\b/);
    assert.doesNotMatch(defaults.text, new RegExp(`http_listen_port: ${port}\\b`));
    const diff = await call(embers(), '/api/v1/status/config/diff');
    assert.match(diff.text, new RegExp(`http_listen_port: ${port}\\b`));
    assert.match(diff.text, /level: debug/);
    // A setting left at its default is not in the diff.
    assert.doesNotMatch(diff.text, /multitenancy_enabled/);
    assert.match(running.text, /multitenancy_enabled/);
    // Connect GetConfig answers the same YAML in an HttpBody.
    for (const [method, want] of [['GetConfig', running.text], ['GetDiffConfig', diff.text], ['GetDefaultConfig', defaults.text]]) {
      const res = await connect(embers(), `/status.v1.StatusService/${method}`);
      assert.equal(res.status, 200, show(res));
      assert.equal(Buffer.from(res.json().data, 'base64').toString(), want, method);
    }
  });

  it('version and feature flags over Connect and gRPC', { timeout: 30_000 }, async () => {
    let res = await connect(embers(), '/version.v1.Version/Version');
    assert.equal(res.status, 200, show(res));
    assert.equal(String(res.json().QuerierAPI), '1');
    res = await connect(embers(), '/capabilities.v1.FeatureFlagsService/GetFeatureFlags');
    assert.equal(res.status, 200, show(res));
    const flags = res.json().featureFlags;
    const names = flags.map((f) => f.name);
    assert.deepEqual(names, [...names].sort(), 'sorted by name');
    const byName = Object.fromEntries(flags.map((f) => [f.name, f.enabled ?? false]));
    assert.equal(byName.v2StorageLayer, true);
    assert.equal(byName.utf8LabelNames, false, 'off unless -client-capability.allow-utf8-labelnames');

    const version = grpcClient('version/v1/version.proto', ['version', 'v1', 'Version']);
    assert.equal(String((await grpcCall(version, 'Version')).QuerierAPI), '1');
    const caps = grpcClient('capabilities/v1/feature_flags.proto', ['capabilities', 'v1', 'FeatureFlagsService']);
    const viaGrpc = await grpcCall(caps, 'GetFeatureFlags');
    assert.deepEqual(viaGrpc.feature_flags.map((f) => f.name), names);
    const status = grpcClient('status/v1/status.proto', ['status', 'v1', 'StatusService']);
    const info = await grpcCall(status, 'GetBuildInfo');
    assert.equal(info.status, 'success');
    const http = (await call(embers(), '/api/v1/status/buildinfo')).json();
    assert.equal(info.data.version, http.data.version);
    assert.equal(info.data.revision, http.data.revision);
  });

  it('a label name outside the legacy charset is refused without the server flag, whatever the client sends', { timeout: 30_000 }, async () => {
    const res = await connect(embers(), '/push.v1.PusherService/Push',
      pushBody('utf8-off', [{ name: 'k8s/pod', value: 'a' }]), { Accept: UTF8_ACCEPT });
    assert.equal(res.status, 400, show(res));
    assert.match(res.text, /invalid label name 'k8s\/pod'/);
  });

  it('GET /pyroscope/label-values?label=__name__ lists the profile type ids', { timeout: 30_000 }, async () => {
    const push = await connect(embers(), '/push.v1.PusherService/Push', pushBody('names-e2e'));
    assert.equal(push.status, 200, show(push));
    const types = await connect(embers(), '/querier.v1.QuerierService/ProfileTypes', range());
    const ids = types.json().profileTypes.map((t) => t.ID).sort();
    assert.ok(ids.includes(CPU), `ProfileTypes: ${ids}`);
    const { start, end } = range();
    const res = await call(embers(), `/pyroscope/label-values?label=__name__&from=${start}&until=${end}`);
    assert.equal(res.status, 200, show(res));
    assert.deepEqual(res.json().sort(), ids);
  });

  it('SelectSeries exemplars name the largest profile of each point, and it can be selected by its id', { timeout: 30_000 }, async () => {
    const now = Date.now();
    const ids = ['6f1c2a3b-0000-4000-8000-000000000001', '6f1c2a3b-0000-4000-8000-000000000002', '6f1c2a3b-0000-4000-8000-000000000003'];
    const cpu = [20_000_000, 70_000_000, 40_000_000];
    for (let i = 0; i < 3; i++) {
      const raw = encodeProfile({ samples: [{ stack: ['main', `work${i}`], cpu: cpu[i], count: 1 }], timeMs: now - 1000 * (i + 1) });
      const res = await connect(embers(), '/push.v1.PusherService/Push', {
        series: [{
          labels: [{ name: '__name__', value: 'process_cpu' }, { name: 'service_name', value: 'exemplars-e2e' }, { name: 'pod', value: `pod-${i}` }],
          samples: [{ rawProfile: Buffer.from(raw).toString('base64'), ID: ids[i] }],
        }],
      });
      assert.equal(res.status, 200, show(res));
    }
    const query = { profileTypeID: CPU, labelSelector: '{service_name="exemplars-e2e"}', start: now - 600_000, end: now + 60_000, step: 600, groupBy: ['service_name'] };
    let res = await connect(embers(), '/querier.v1.QuerierService/SelectSeries', { ...query, exemplarType: 'EXEMPLAR_TYPE_INDIVIDUAL' });
    assert.equal(res.status, 200, show(res));
    const points = res.json().series.flatMap((x) => x.points);
    assert.equal(points.length, 1, res.text);
    assert.equal(points[0].value, 130_000_000);
    const [ex] = points[0].exemplars;
    assert.equal(points[0].exemplars.length, 1, res.text);
    assert.equal(ex.profileId, ids[1]);
    assert.equal(Number(ex.value), 70_000_000);
    assert.equal(Number(ex.timestamp), now - 2000);
    const labels = Object.fromEntries(ex.labels.map((l) => [l.name, l.value]));
    assert.equal(labels.pod, 'pod-1');
    assert.ok(!('service_name' in labels), 'group-by labels are the series\' own, not repeated');
    // The exemplar points at a stored profile: selecting it by id gives its value back.
    res = await connect(embers(), '/querier.v1.QuerierService/SelectMergeStacktraces', {
      profileTypeID: CPU, labelSelector: '{service_name="exemplars-e2e"}', start: query.start, end: query.end, profileIdSelector: [ex.profileId],
    });
    assert.equal(res.status, 200, show(res));
    assert.equal(Number(res.json().flamegraph.total), 70_000_000);
    // Without the exemplar type there are none; span exemplars are not built (as upstream).
    res = await connect(embers(), '/querier.v1.QuerierService/SelectSeries', query);
    assert.ok(res.json().series.flatMap((x) => x.points).every((p) => !p.exemplars), res.text);
    res = await connect(embers(), '/querier.v1.QuerierService/SelectSeries', { ...query, exemplarType: 'EXEMPLAR_TYPE_SPAN' });
    assert.equal(res.json().code, 'unimplemented', show(res));
  });

  it('OTLP Export over Connect on the HTTP port is stored', { timeout: 30_000, skip: fs.existsSync(OTLP_CAPTURE) ? false : `no testdata at ${OTLP_CAPTURE}` }, async () => {
    const res = await call(embers(), '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export', {
      method: 'POST', headers: { 'Content-Type': 'application/proto' }, body: fs.readFileSync(OTLP_CAPTURE), timeoutMs: 20_000,
    });
    assert.equal(res.status, 200, show(res));
    const types = await connect(embers(), '/querier.v1.QuerierService/ProfileTypes', { start: 1, end: Date.now() + 60_000 });
    const ids = types.json().profileTypes.map((t) => t.ID);
    assert.ok(ids.includes('off_cpu:off_cpu:nanoseconds::'), `the capture's profile type is listed: ${ids}`);
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});

describe('UTF-8 label names with -client-capability.allow-utf8-labelnames', () => {
  const embers = useEmbers({ extraArgs: ['-client-capability.allow-utf8-labelnames'] });
  const SERVICE = 'utf8-e2e';
  const selector = { matchers: [`{service_name="${SERVICE}"}`] };

  it('the feature flag is on', { timeout: 30_000 }, async () => {
    const res = await connect(embers(), '/capabilities.v1.FeatureFlagsService/GetFeatureFlags');
    const flag = res.json().featureFlags.find((f) => f.name === 'utf8LabelNames');
    assert.equal(flag?.enabled, true, res.text);
  });

  it('a client without the capability cannot push the name; one with it can', { timeout: 30_000 }, async () => {
    const body = pushBody(SERVICE, [{ name: 'k8s/pod', value: 'pod-1' }, { name: 'zone', value: 'eu' }]);
    let res = await connect(embers(), '/push.v1.PusherService/Push', body);
    assert.equal(res.status, 400, show(res));
    res = await connect(embers(), '/push.v1.PusherService/Push', body, { Accept: 'application/json; allow-utf8-labelnames=false' });
    assert.equal(res.status, 400, show(res));
    res = await connect(embers(), '/push.v1.PusherService/Push', body, { Accept: UTF8_ACCEPT });
    assert.equal(res.status, 200, show(res));
  });

  it('LabelNames and Series show the name only to a client with the capability', { timeout: 30_000 }, async () => {
    const names = async (headers) => {
      const res = await connect(embers(), '/querier.v1.QuerierService/LabelNames', { ...selector, ...range() }, headers);
      assert.equal(res.status, 200, show(res));
      return res.json().names ?? [];
    };
    const withCap = await names({ Accept: UTF8_ACCEPT });
    assert.ok(withCap.includes('k8s/pod'), `with the capability: ${withCap}`);
    assert.ok(withCap.includes('zone'));
    const without = await names({});
    assert.ok(!without.includes('k8s/pod'), `without the capability: ${without}`);
    assert.ok(without.includes('zone'), `legacy names stay: ${without}`);

    const series = async (headers, labelNames = []) => {
      const res = await connect(embers(), '/querier.v1.QuerierService/Series', { ...selector, ...range(), labelNames }, headers);
      assert.equal(res.status, 200, show(res));
      return (res.json().labelsSet ?? []).map((s) => Object.fromEntries(s.labels.map((l) => [l.name, l.value])));
    };
    // One series per sample type of the pushed profile.
    const cpuSeries = (sets) => sets.filter((l) => l.__profile_type__ === CPU);
    const full = cpuSeries(await series({ Accept: UTF8_ACCEPT }));
    assert.equal(full.length, 1, JSON.stringify(full));
    assert.equal(full[0]['k8s/pod'], 'pod-1');
    const legacy = cpuSeries(await series({}));
    assert.equal(legacy.length, 1, JSON.stringify(legacy));
    assert.ok(!('k8s/pod' in legacy[0]), JSON.stringify(legacy));
    assert.equal(legacy[0].zone, 'eu');
    // Asking for the name explicitly does not reveal it either.
    assert.deepEqual(await series({}, ['k8s/pod']), []);
    // Both series have the same pod: projected on that name they are one set.
    assert.deepEqual((await series({ Accept: UTF8_ACCEPT }, ['k8s/pod'])).map((s) => s['k8s/pod']), ['pod-1']);
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});

describe('settings.v1 per tenant, persisted in the metastore', () => {
  const ARGS = ['-auth.multitenancy-enabled'];
  let server = null;
  before(async () => { server = await startServer({ extraArgs: ARGS }); });
  after(async () => { await server?.kill(); });
  const embers = () => server;
  const as = (tenant) => ({ 'X-Scope-OrgID': tenant });
  const get = async (tenant) => {
    const res = await connect(embers(), '/settings.v1.SettingsService/Get', {}, as(tenant));
    assert.equal(res.status, 200, show(res));
    return res.json().settings ?? [];
  };

  it('a setting is the tenant\'s own, read back over Connect and gRPC', { timeout: 30_000 }, async () => {
    assert.deepEqual(await get('tenant-a'), []);
    const before = Date.now();
    let res = await connect(embers(), '/settings.v1.SettingsService/Set',
      { setting: { name: 'pyroscope.ui.theme', value: 'dark' } }, as('tenant-a'));
    assert.equal(res.status, 200, show(res));
    const stored = res.json().setting;
    assert.equal(stored.value, 'dark');
    assert.ok(Number(stored.modifiedAt) >= before - 1000, `modifiedAt is the server's now: ${stored.modifiedAt}`);
    res = await connect(embers(), '/settings.v1.SettingsService/Set',
      { setting: { name: 'explicit', value: 'v', modifiedAt: 1234 } }, as('tenant-a'));
    assert.equal(res.status, 200, show(res));

    const a = await get('tenant-a');
    assert.deepEqual(a.map((s) => [s.name, s.value, String(s.modifiedAt)]),
      [['explicit', 'v', '1234'], ['pyroscope.ui.theme', 'dark', String(stored.modifiedAt)]]);
    assert.deepEqual(await get('tenant-b'), [], 'another tenant sees none of them');

    const pkg = loadGrpcPackage('settings/v1/setting.proto');
    const client = new pkg.settings.v1.SettingsService(embers().grpcAddress, grpc.credentials.createInsecure());
    try {
      const meta = new grpc.Metadata();
      meta.set('x-scope-orgid', 'tenant-a');
      const viaGrpc = await new Promise((resolve, reject) => {
        client.Get({}, meta, { deadline: new Date(Date.now() + 10_000) }, (err, r) => (err ? reject(err) : resolve(r)));
      });
      assert.deepEqual(viaGrpc.settings.map((s) => s.value), ['v', 'dark']);
    } finally {
      client.close();
    }
  });

  it('an older write is refused and changes nothing; a tenant is required', { timeout: 30_000 }, async () => {
    const res = await connect(embers(), '/settings.v1.SettingsService/Set',
      { setting: { name: 'explicit', value: 'stale', modifiedAt: 1000 } }, as('tenant-a'));
    assert.equal(res.status, 400, show(res));
    assert.equal(res.json().code, 'failed_precondition');
    assert.equal((await get('tenant-a')).find((s) => s.name === 'explicit').value, 'v');
    const anonymous = await connect(embers(), '/settings.v1.SettingsService/Get');
    assert.equal(anonymous.status, 401, show(anonymous));
  });

  it('settings survive a restart', { timeout: 60_000 }, async () => {
    assert.equal(await stopCleanly(server), null);
    server = await startServer({ extraArgs: ARGS, dir: server.dir, ports: server.ports });
    const a = await get('tenant-a');
    assert.deepEqual(a.map((s) => s.value), ['v', 'dark']);
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});

describe('adhocprofiles.v1: uploaded profiles as flame graphs, per tenant', () => {
  const embers = useEmbers({ extraArgs: ['-auth.multitenancy-enabled', '-adhoc-profiles.max-per-tenant=2'] });
  const as = (tenant) => ({ 'X-Scope-OrgID': tenant });
  const adhoc = (method, body, tenant = 'team-a') =>
    connect(embers(), `/adhocprofiles.v1.AdHocProfileService/${method}`, body, as(tenant));
  // Known stacks, root first: cpu nanoseconds and sample counts.
  const samples = [
    { stack: ['main', 'work', 'hash'], cpu: 30_000_000, count: 3 },
    { stack: ['main', 'work'], cpu: 10_000_000, count: 1 },
    { stack: ['main', 'idle'], cpu: 20_000_000, count: 2 },
  ];
  const profile = Buffer.from(encodeProfile({ samples, timeMs: Date.now() })).toString('base64');
  // self per function from a flamebearer document
  const selfOf = (fb) => {
    const out = {};
    for (let d = 1; d < fb.flamebearer.levels.length; d++) {
      const l = fb.flamebearer.levels[d];
      for (let i = 0; i + 3 < l.length; i += 4) {
        if (l[i + 2] > 0) out[fb.flamebearer.names[l[i + 3]]] = (out[fb.flamebearer.names[l[i + 3]]] ?? 0) + l[i + 2];
      }
    }
    return out;
  };
  let first;

  it('Upload answers the flame graph of the first sample type and an id', { timeout: 30_000 }, async () => {
    const res = await adhoc('Upload', { name: 'my cpu profile.pb.gz', profile });
    assert.equal(res.status, 200, show(res));
    first = res.json();
    assert.match(first.id, /^[0-9A-Z]{26}-my_cpu_profile\.pb\.gz$/);
    assert.equal(first.name, 'my_cpu_profile.pb.gz');
    assert.deepEqual(first.profileTypes, ['cpu', 'samples']);
    assert.equal(first.profileType, 'cpu');
    const fb = JSON.parse(first.flamebearerProfile);
    assert.equal(fb.flamebearer.numTicks, 60_000_000);
    assert.deepEqual(selfOf(fb), { hash: 30_000_000, work: 10_000_000, idle: 20_000_000 });
    assert.equal(fb.metadata.name, 'cpu');
  });

  it('Get answers another sample type; List shows the uploads newest first', { timeout: 30_000 }, async () => {
    let res = await adhoc('Get', { id: first.id, profileType: 'samples' });
    assert.equal(res.status, 200, show(res));
    const got = res.json();
    assert.equal(got.profileType, 'samples');
    assert.deepEqual(selfOf(JSON.parse(got.flamebearerProfile)), { hash: 3, work: 1, idle: 2 });
    assert.equal(got.uploadedAt, first.uploadedAt);

    await new Promise((r) => setTimeout(r, 5)); // a later millisecond for the second upload
    res = await adhoc('Upload', { name: 'second', profile });
    assert.equal(res.status, 200, show(res));
    const second = res.json();
    res = await adhoc('List', {});
    assert.equal(res.status, 200, show(res));
    assert.deepEqual(res.json().profiles.map((p) => p.id), [second.id, first.id]);
  });

  it('another tenant sees none of them', { timeout: 30_000 }, async () => {
    let res = await adhoc('List', {}, 'team-b');
    assert.equal(res.status, 200, show(res));
    assert.deepEqual(res.json().profiles ?? [], []);
    res = await adhoc('Get', { id: first.id }, 'team-b');
    assert.equal(res.status, 404, show(res));
  });

  it('bad input is a 4xx with a message and stores nothing', { timeout: 30_000 }, async () => {
    let res = await adhoc('Upload', { name: 'x', profile: '%%%not base64%%%' });
    assert.equal(res.status, 400, show(res));
    res = await adhoc('Upload', { name: 'x.collapsed', profile: Buffer.from('main;work lots\n').toString('base64') });
    assert.ok(res.status === 400 || res.status === 422, show(res));
    assert.match(res.text, /detected as collapsed/);
    res = await adhoc('Upload', { name: 'x.json', profile: Buffer.from('{"version":2}').toString('base64') });
    assert.ok(res.status === 400 || res.status === 422, show(res));
    assert.match(res.text, /detected as json/);
    res = await adhoc('Get', { id: '../../segments' });
    assert.equal(res.status, 400, show(res));
    res = await adhoc('List', {});
    assert.equal(res.json().profiles.length, 2);
  });

  it('collapsed stacks and perf script output upload too, and Diff compares two uploads', { timeout: 30_000 }, async () => {
    const b64 = (text) => Buffer.from(text).toString('base64');
    let res = await adhoc('Upload', { name: 'stacks.txt', profile: b64('main;work;hash 30\nmain;work 10\nmain;idle 20\n') }, 'team-c');
    assert.equal(res.status, 200, show(res));
    const collapsed = res.json();
    assert.deepEqual(collapsed.profileTypes, ['samples']);
    assert.deepEqual(selfOf(JSON.parse(collapsed.flamebearerProfile)), { hash: 30, work: 10, idle: 20 });
    // perf script: one count per event, the command name as the root.
    const event = (frames) => `app 4242/4242 [001] 12.5: cpu-clock:\n${frames.map((f, i) => `\t${(0x1000 + i).toString(16)} ${f} (/bin/app)\n`).join('')}\n`;
    const perf = event(['hash', 'work', 'main']).repeat(2) + event(['idle', 'main']);
    res = await adhoc('Upload', { name: 'perf.out', profile: b64(perf) }, 'team-c');
    assert.equal(res.status, 200, show(res));
    const perfUpload = res.json();
    const fb = JSON.parse(perfUpload.flamebearerProfile);
    assert.equal(fb.flamebearer.numTicks, 3);
    assert.deepEqual(selfOf(fb), { hash: 2, idle: 1 });
    assert.deepEqual(fb.flamebearer.names.slice(0, 3), ['total', 'app', 'main']);  // command, then frames

    res = await adhoc('Diff', { leftId: collapsed.id, rightId: perfUpload.id }, 'team-c');
    assert.equal(res.status, 200, show(res));
    const diff = res.json();
    assert.deepEqual(diff.profileTypes, ['samples']);
    const doc = JSON.parse(diff.flamebearerProfile);
    assert.equal(doc.metadata.format, 'double');
    assert.equal(doc.leftTicks, 60);
    assert.equal(doc.rightTicks, 3);
    // 7 integers per node: the root carries both totals.
    assert.deepEqual(doc.flamebearer.levels[0].slice(0, 7).filter((_, i) => i === 1 || i === 4), [60, 3]);

    res = await adhoc('Diff', { leftId: collapsed.id, rightId: `${collapsed.id.slice(0, 26)}-missing` }, 'team-c');
    assert.equal(res.status, 404, show(res));
    assert.match(res.text, /right profile/);
    res = await adhoc('Diff', { leftId: collapsed.id, rightId: first.id }, 'team-c');
    assert.equal(res.status, 404, show(res), 'another tenant\'s upload is not found');
  });

  it('a flame graph exported as JSON uploads back; Diff of two sample types is refused naming the common ones', { timeout: 30_000 }, async () => {
    let res = await adhoc('Upload', { name: 'cpu.pb.gz', profile }, 'team-d');
    assert.equal(res.status, 200, show(res));
    const pprofUpload = res.json();
    res = await adhoc('Upload', { name: 'exported.json', profile: Buffer.from(pprofUpload.flamebearerProfile).toString('base64') }, 'team-d');
    assert.equal(res.status, 200, show(res));
    const jsonUpload = res.json();
    assert.deepEqual(jsonUpload.profileTypes, ['cpu']);
    assert.deepEqual(selfOf(JSON.parse(jsonUpload.flamebearerProfile)), { hash: 30_000_000, work: 10_000_000, idle: 20_000_000 });
    res = await adhoc('Diff', { leftId: pprofUpload.id, rightId: jsonUpload.id }, 'team-d');
    assert.equal(res.status, 200, show(res));
    const doc = JSON.parse(res.json().flamebearerProfile);
    assert.equal(doc.leftTicks, 60_000_000);
    assert.equal(doc.rightTicks, 60_000_000);
    res = await adhoc('Diff', { leftId: pprofUpload.id, rightId: jsonUpload.id, profileType: 'samples' }, 'team-d');
    assert.equal(res.status, 400, show(res));
    assert.match(res.text, /profile type mismatch.*common types: cpu/);
  });

  it('a tenant keeps at most -adhoc-profiles.max-per-tenant uploads (429 beyond), others are not affected', { timeout: 30_000 }, async () => {
    let res = await adhoc('Upload', { name: 'third', profile });
    assert.equal(res.status, 429, show(res));
    assert.match(res.text, /limit 2/);
    res = await adhoc('List', {});
    assert.equal(res.json().profiles.length, 2);
    res = await adhoc('Upload', { name: 'other-tenant', profile }, 'team-b');
    assert.equal(res.status, 200, show(res));
  });

  it('exits with code 0 on SIGTERM', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});
