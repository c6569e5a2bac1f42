// A real azurite (npm, Microsoft's Azure Storage emulator; it checks Shared Key signatures) for the
// end-to-end tests of the Azure backend.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { EMBERS_SRC, HOST, freeStablePort, request } from './harness.mjs';

// azurite's well-known development account.
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * Starts azurite-blob on `port` (a free one if absent) with its data under `dir`, and waits until
 * it answers. Returns {child, endpoint, port}, endpoint being the account's blob endpoint
 * (path style). Restarting on the same dir and port brings back what it stored.
 * --skipApiVersionCheck: the SDK asks for a newer service version than azurite knows (embers asks
 * for one it does).
 */
export async function startAzurite(dir, { port } = {}) {
  port ??= await freeStablePort();
  const child = spawn(process.execPath, [
    path.join(EMBERS_SRC, 'tests', 'node', 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js'),
    '--blobHost', HOST, '--blobPort', String(port), '--location', dir, '--silent',
    '--disableTelemetry', '--skipApiVersionCheck',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (c) => { log += c; });
  child.stderr.on('data', (c) => { log += c; });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      // Any answer (an unsigned request is refused) means it is up.
      await request(`http://${HOST}:${port}/${AZURITE_ACCOUNT}?comp=list`, { timeoutMs: 1000 });
      return { child, endpoint: `http://${HOST}:${port}/${AZURITE_ACCOUNT}`, port };
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`azurite did not answer on port ${port}:\n${log}`);
}

/** The connection string embers and the SDK reach `azurite` with. */
export function azuriteConnectionString(azurite, { key = AZURITE_KEY } = {}) {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${key};BlobEndpoint=${azurite.endpoint};`;
}
