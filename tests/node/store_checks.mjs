// What the end-to-end tests of the object-store backends (e2e.s3, e2e.azure) check the same way:
// a flame graph's total for a service, and a server whose bucket does not open.

import assert from 'node:assert/strict';
import { call, show, startServerListening } from './harness.mjs';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

/** The CPU flame graph total of `service` over the last hour, from SelectMergeStacktraces. */
export async function flameGraphTotal(server, service) {
  const res = await call(server, '/querier.v1.QuerierService/SelectMergeStacktraces', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      profileTypeID: CPU, labelSelector: `{service_name="${service}"}`,
      start: String(Date.now() - 3_600_000), end: String(Date.now() + 60_000),
    }),
  });
  assert.equal(res.status, 200, show(res));
  return Number(JSON.parse(res.text).flamegraph?.total ?? 0);
}

/**
 * Starts embers with `args` on a bucket that does not open, and waits until /ready answers 503
 * with an error matching `expected`. A bucket that does not open leaves embers up but unready:
 * /ready says why (`not ready: storage (cannot open the bucket: …` followed by `opening`), the
 * log says it once, and SIGTERM still ends the process at once. Returns the running server.
 */
export async function startUnready(args, expected, opening) {
  const server = await startServerListening({ extraArgs: args });
  const deadline = Date.now() + 15_000;
  let last;
  while (Date.now() < deadline) {
    last = await call(server, '/ready');
    if (last.status === 503 && expected.test(last.text)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(last.status, 503, show(last));
  assert.match(last.text, new RegExp(`^not ready: storage \\(cannot open the bucket: .*${opening.source}`));
  assert.match(last.text, expected);
  server.assertRunning();
  return server;
}

/**
 * After startUnready: three more attempts (1 s, 2 s backoff) fail the same way and the log still
 * holds one error; SIGTERM then ends the process with status 0.
 */
export async function checkOneErrorThenCleanStop(server) {
  const errorLines = () => server.logTail(1 << 20).split('\n').filter((l) => l.includes('cannot open the bucket'));
  try {
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal((await call(server, '/ready')).status, 503);
    assert.equal(errorLines().length, 1, errorLines().join('\n'));
    const exit = await server.stop();
    assert.equal(exit.code, 0, `${JSON.stringify(exit)}\n${server.logTail()}`);
  } finally {
    await server.kill();
  }
}
