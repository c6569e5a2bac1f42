// A real s3rver (npm) for the end-to-end tests of the S3 backend, run through
// s3rver_s3_semantics.cjs (S3's atomic overwrites and byte-ordered listings) with the OpenSSL
// legacy provider its dependencies need on node 20.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { EMBERS_SRC, HOST, freeStablePort, request } from './harness.mjs';

/**
 * Starts s3rver on `port` (a free one if absent) with its objects under `dir` and `bucket`
 * configured, and waits until it answers. Returns {child, endpoint, port}; restarting on the same
 * dir and port brings back what it stored.
 */
export async function startS3rver(dir, bucket, { port } = {}) {
  port ??= await freeStablePort();
  const child = spawn(process.execPath, [
    '--openssl-legacy-provider', path.join(EMBERS_SRC, 'tests', 'node', 's3rver_s3_semantics.cjs'),
    '-d', dir, '-a', HOST, '-p', String(port), '--configure-bucket', bucket, '--silent',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (c) => { log += c; });
  child.stderr.on('data', (c) => { log += c; });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const res = await request(`http://${HOST}:${port}/${bucket}?list-type=2&max-keys=1`, { timeoutMs: 1000 });
      if (res.status === 200) return { child, endpoint: `${HOST}:${port}`, port };
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`s3rver did not answer on port ${port}:\n${log}`);
}

/** Stops a store started by startS3rver or startAzurite (SIGKILL unless told) and waits until it is gone. */
export async function killStore(store, signal = 'SIGKILL') {
  if (store.child.exitCode !== null || store.child.signalCode !== null) return;
  const exited = new Promise((r) => store.child.once('exit', r));
  store.child.kill(signal);
  await exited;
}
