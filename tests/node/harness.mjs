// Shared harness for the end-to-end tests: starts the real `embers` binary on loopback ports it
// binds itself (port 0, read back from its `listening` log line, so no other process can take a
// port between picking and binding) with its own temporary data directories, waits until /ready
// answers 200, captures its logs, and
// stops it with SIGTERM (expecting exit code 0). Also small HTTP helpers built on node:http, so a
// test sees exactly the status, headers and body the server sent.
//
// Environment (ctest sets both):
//   EMBERS_BIN  absolute path of the embers binary (default: $EMBERS_SRC/build/src/cmd/embers/embers)
//   EMBERS_SRC  project root (default: two directories above this file)
//   EMBERS_E2E_LOGS=1  print the server's stderr after every test file, not only after failures

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after, afterEach } from 'node:test';

export const HOST = '127.0.0.1';
export const EMBERS_SRC = path.resolve(
  process.env.EMBERS_SRC || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..'));
export const EMBERS_BIN = path.resolve(
  process.env.EMBERS_BIN || path.join(EMBERS_SRC, 'build', 'src', 'cmd', 'embers', 'embers'));
export const PROTO_ROOT = path.join(EMBERS_SRC, 'src', 'proto');

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 10_000;
const LOG_LIMIT_BYTES = 4 << 20; // keep at most the last 4 MiB of each stream

// Servers still running; killed on process exit even if an after() hook never ran.
const live = new Set();
process.on('exit', () => {
  for (const s of live) s.killNow();
});
// Also when the test process itself is interrupted (Ctrl-C, ctest timeout): clean up, then die
// of the same signal.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    for (const s of live) s.killNow();
    process.kill(process.pid, sig);
  });
}

/**
 * A free TCP port on 127.0.0.1 below the kernel's ephemeral range, for an address that must be
 * chosen before the server starts (the metastore's Raft address is part of its log). A port the
 * kernel hands out for port 0 comes from the ephemeral range, so servers binding port 0 (every
 * HTTP/gRPC listener here) can never take it between the pick and the bind; two picks colliding
 * is left to startServer's retry.
 */
export async function freeStablePort() {
  let low = 32768;
  try {
    low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch { /* not Linux: keep the usual bound */ }
  const from = Math.max(1024, Math.min(20000, low - 4096));
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = from + Math.floor(Math.random() * (low - from));
    const free = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, HOST, () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port found in [${from}, ${low})`);
}

/** A free TCP port on 127.0.0.1 (listen on port 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Keeps the tail of a stream in memory. */
class LogTail {
  constructor() { this.chunks = []; this.bytes = 0; this.total = 0; }
  push(chunk) {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.total += chunk.length;
    while (this.bytes > LOG_LIMIT_BYTES && this.chunks.length > 1) this.bytes -= this.chunks.shift().length;
  }
  text(maxBytes = LOG_LIMIT_BYTES) {
    const all = Buffer.concat(this.chunks).toString('utf8');
    return all.length > maxBytes ? '…' + all.slice(all.length - maxBytes) : all;
  }
}

/** One running embers process. Create it with startServer(). */
export class EmbersServer {
  constructor({ dir, args, child, tls }) {
    this.dir = dir;
    this.args = args;
    // When the HTTP port serves TLS (baseUrl is https then): {ca, cert, key} (PEM) that requests
    // to it verify the server with and, for client authentication, present.
    this.tls = tls;
    this.child = child;
    this.pid = child.pid;
    this.setPorts({ http: 0, grpc: 0, internal: 0 });
    this.stderr = new LogTail();
    this.stdout = new LogTail();
    this.exit = null; // {code, signal} once the process has exited
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        resolve(this.exit);
      });
    });
    child.stderr.on('data', (c) => this.stderr.push(c));
    child.stdout.on('data', (c) => this.stdout.push(c));
    live.add(this);
  }

  /** Ports as bound: http, grpc (public), internal (gRPC between components; 0 if none). */
  setPorts({ http, grpc, internal }) {
    this.httpPort = http;
    this.grpcPort = grpc;
    this.internalPort = internal;
    this.baseUrl = `${this.tls ? 'https' : 'http'}://${HOST}:${http}`;
    this.grpcAddress = `${HOST}:${grpc}`;
    // Where other components reach this process's metastore, segment-writer and query-backend.
    this.internalAddress = `${HOST}:${internal}`;
  }

  url(p) { return this.baseUrl + p; }

  /** The value the server was started with for flag `name` (the last one given), or undefined. */
  flag(name) {
    const prefix = `-${name}=`;
    return this.args.findLast((a) => a.startsWith(prefix))?.slice(prefix.length);
  }

  /** Command line, for messages. */
  commandLine() { return [EMBERS_BIN, ...this.args].join(' '); }

  /** Last bytes of the server's stderr (its logfmt log), for failure messages. */
  logTail(maxBytes = 8192) { return this.stderr.text(maxBytes); }

  describeExit() {
    if (!this.exit) return 'still running';
    return this.exit.signal ? `killed by signal ${this.exit.signal}` : `exited with code ${this.exit.code}`;
  }

  /** Throws (with the log tail) if the process is no longer running. */
  assertRunning() {
    if (this.exit) {
      throw new Error(`embers (pid ${this.pid}) ${this.describeExit()} unexpectedly.\n` +
        `command: ${this.commandLine()}\n--- embers stderr (tail) ---\n${this.logTail()}`);
    }
  }

  /** Sends SIGTERM and waits up to 10 s. Resolves to {code, signal}; SIGKILLs on timeout. */
  async stop() {
    if (this.exit) return { ...this.exit, alreadyExited: true };
    this.child.kill('SIGTERM');
    const timedOut = Symbol('timeout');
    let timer;
    const r = await Promise.race([
      this.exited,
      new Promise((resolve) => { timer = setTimeout(() => resolve(timedOut), STOP_TIMEOUT_MS); }),
    ]);
    clearTimeout(timer);
    if (r === timedOut) {
      this.child.kill('SIGKILL');
      await this.exited;
      return { code: null, signal: 'SIGKILL', timedOut: true };
    }
    return { ...r };
  }

  /** Kills the process if it still runs and removes its temporary directory. Never throws. */
  async kill() {
    if (!this.exit) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous last resort (process 'exit' handler). */
  killNow() {
    try { if (!this.exit) this.child.kill('SIGKILL'); } catch { /* already gone */ }
    try { fs.rmSync(this.dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }

  /** Number of threads of the server process, from /proc/<pid>/status. */
  threadCount() {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const m = /^Threads:\s+(\d+)/m.exec(status);
    if (!m) throw new Error(`no Threads: line in /proc/${this.pid}/status`);
    return Number(m[1]);
  }

  /** Soft RLIMIT_NOFILE of the server process, from /proc/<pid>/limits (Infinity if unlimited). */
  openFileLimit() { return softOpenFileLimit(this.pid); }
}

/** Soft "Max open files" of a process (default: this one). */
export function softOpenFileLimit(pid = 'self') {
  const limits = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = /^Max open files\s+(\S+)/m.exec(limits);
  if (!m) throw new Error(`no "Max open files" line in /proc/${pid}/limits`);
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

function assertBinary() {
  try {
    fs.accessSync(EMBERS_BIN, fs.constants.X_OK);
  } catch {
    throw new Error(`embers binary not found or not executable: ${EMBERS_BIN}\n` +
      'Build it first (cmake --build build), or set EMBERS_BIN to its absolute path.');
  }
}

/**
 * Starts embers on free ports with fresh data directories and waits for GET /ready == 200.
 * extraArgs: more flags, e.g. ['-server.http-max-request-body-bytes=1024'].
 * To restart on the data of a stopped server, pass its `dir` and `ports` (the metastore's Raft
 * address is part of its log, so it keeps its port).
 * Retries with a new Raft port if the chosen one was taken meanwhile (the only port picked before
 * the server binds it).
 * tls: for a server started with -server.http-tls-*, {ca, cert?, key?} (PEM): the CA its
 * certificate chains to and a client certificate; baseUrl, call() and the readiness check then
 * use https.
 */
export async function startServer({ extraArgs = [], dir, ports, tls } = {}) {
  assertBinary();
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const server = await spawnServer(extraArgs, dir, ports, tls);
    try {
      await waitReady(server);
      return server;
    } catch (err) {
      lastError = err;
      await server.kill();
      // libraft reports a taken port as "raft start: I/O error".
      const portTaken = server.exit &&
        /address already in use|EADDRINUSE|raft start: I\/O error/i.test(server.logTail()) && !ports?.raft;
      if (!portTaken) break;
    }
  }
  throw lastError;
}

async function spawnServer(extraArgs, reuseDir, ports, tls) {
  // HTTP and gRPC ports are bound by the server (0) unless a restart asks for the old ones; the
  // metastore's Raft address is part of its log, so it is chosen here.
  const raftPort = ports?.raft ?? await freeStablePort();
  const dir = reuseDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'embers-e2e-'));
  const args = [
    `-server.http-listen-address=${HOST}`,
    `-server.http-listen-port=${ports?.http ?? 0}`,
    `-server.grpc-listen-address=${HOST}`,
    `-server.grpc-listen-port=${ports?.grpc ?? 0}`,
    `-server.internal-grpc-listen-address=${HOST}`,
    `-server.internal-grpc-listen-port=${ports?.internal ?? 0}`,
    `-storage.filesystem.dir=${path.join(dir, 'data')}`,
    `-metastore.data-dir=${path.join(dir, 'metastore')}`,
    `-metastore.raft.bind-address=${HOST}:${raftPort}`,
    ...extraArgs,
  ];
  const child = spawn(EMBERS_BIN, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = new EmbersServer({ dir, args, child, tls });
  server.ports = { raft: raftPort };
  // A spawn failure (ENOENT, EACCES) is reported as an 'error' event followed by 'exit'.
  child.on('error', (err) => server.stderr.push(Buffer.from(`spawn error: ${err.message}\n`)));
  return server;
}

/** The ports a server reports in its `msg="listening" http=host:port grpc=… internal_grpc=…` line. */
export function listeningPorts(log) {
  // Only a whole line: the log may arrive cut in the middle of a port number.
  const line = /msg="listening"[^\n]*\n/.exec(log);
  if (!line) return null;
  const port = (key) => {
    const m = new RegExp(`\\b${key}=\\S*:(\\d+)`).exec(line[0]);
    return m ? Number(m[1]) : 0;
  };
  return { http: port('http'), grpc: port('grpc'), internal: port('internal_grpc') };
}

/** Reads the bound ports from the log once they are there; true when known. */
function learnPorts(server) {
  if (server.httpPort) return true;
  const bound = listeningPorts(server.logTail(1 << 20));
  if (!bound) return false;
  server.setPorts(bound);
  Object.assign(server.ports, bound);
  return true;
}

/**
 * Starts embers like startServer() but returns as soon as its HTTP port listens, ready or not: for
 * tests of a server that stays unready (a bucket that does not open) and says why on /ready.
 */
export async function startServerListening({ extraArgs = [], dir, ports, tls } = {}) {
  assertBinary();
  const server = await spawnServer(extraArgs, dir, ports, tls);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !server.exit) {
    if (learnPorts(server)) return server;
    await new Promise((r) => setTimeout(r, 20));
  }
  await server.kill();
  throw new Error(`embers never logged its msg="listening" line (${server.describeExit()}).\n` +
    `command: ${server.commandLine()}\n--- embers stderr ---\n${server.logTail(64 * 1024)}`);
}

export async function waitReady(server) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (server.exit) break;
    if (!learnPorts(server)) { await new Promise((r) => setTimeout(r, 20)); continue; }
    try {
      const res = await request(server.url('/ready'), { timeoutMs: 1000, ...server.tls });
      if (res.status === 200) return;
      last = `HTTP ${res.status} ${res.text.slice(0, 200)}`;
    } catch (err) {
      last = err.code || err.message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const quiet = /^(warn|error)$/.test(server.flag('log.level') ?? '');
  const why = server.exit ? `the process ${server.describeExit()}`
    : !server.httpPort ? 'it never logged its msg="listening" line (the harness reads the ports it bound from ' +
        `that info-level line${quiet ? '; do not start it with -log.level above info' : ''})`
    : `GET /ready did not return 200 within ${READY_TIMEOUT_MS / 1000} s (last: ${last})`;
  throw new Error(`embers did not become ready: ${why}.\ncommand: ${server.commandLine()}\n` +
    `--- embers stderr ---\n${server.logTail(64 * 1024)}`);
}

/**
 * Registers before/after hooks in the current describe() that start one server for the suite,
 * print its log tail after a failed test, and always kill it at the end.
 * Returns a function giving the running EmbersServer.
 */
export function useEmbers(options = {}) {
  let server = null;
  let printed = 0; // stderr bytes already shown, so each failure shows only what is new
  before(async () => { server = await startServer(options); });
  afterEach((t) => {
    if (!server || t.passed !== false) return;
    const fresh = server.stderr.total - printed;
    printed = server.stderr.total;
    const state = server.exit ? `embers ${server.describeExit()}` : 'embers is still running';
    const log = fresh > 0 ? server.logTail(Math.min(fresh, 8192)) : '(nothing new on stderr)';
    console.error(`--- test "${t.name}" failed; ${state}; its stderr since the last report ---\n${log}`);
  });
  after(async () => {
    if (!server) return;
    if (process.env.EMBERS_E2E_LOGS) console.error(`--- embers stderr ---\n${server.logTail(1 << 20)}`);
    await server.kill();
  });
  return () => {
    if (!server) throw new Error('embers server was not started (see the before hook error)');
    return server;
  };
}

/**
 * The usual last test of a suite: SIGTERM, exit code 0 within 10 s.
 * Returns a message describing what went wrong, or null.
 */
export async function stopCleanly(server) {
  const r = await server.stop();
  if (r.alreadyExited) return `embers was no longer running before SIGTERM (${server.describeExit()})`;
  if (r.timedOut) return `embers did not exit within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM (killed)`;
  if (r.signal) return `embers was killed by ${r.signal} after SIGTERM`;
  if (r.code !== 0) return `embers exited with code ${r.code} after SIGTERM`;
  return null;
}

/**
 * One HTTP/1.1 request on a fresh connection (no keep-alive pooling); https:// URLs are verified
 * against `ca` (PEM) and may present a client certificate (`cert`, `key`).
 * Returns {status, headers, body: Buffer, text, json()}; rejects on network errors and timeouts.
 * The response is returned even if the server answers before reading the whole request body.
 */
export function request(url, { method = 'GET', headers = {}, body, timeoutMs = REQUEST_TIMEOUT_MS, ca, cert, key } = {}) {
  return new Promise((resolve, reject) => {
    const req = String(url).startsWith('https:')
      ? https.request(url, { method, headers, agent: false, ca, cert, key })
      : http.request(url, { method, headers, agent: false });
    let settled = false;
    const finish = (fn, v) => { if (!settled) { settled = true; clearTimeout(timer); fn(v); } };
    const timer = setTimeout(() => {
      req.destroy();
      finish(reject, new Error(`${method} ${url}: no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (err) => finish(reject, err));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        finish(resolve, {
          status: res.statusCode,
          headers: res.headers,
          body: buf,
          text,
          json() {
            try { return JSON.parse(text); } catch (e) {
              throw new Error(`${method} ${url}: response body is not JSON (${e.message}): ${text.slice(0, 500)}`);
            }
          },
        });
      });
    });
    req.on('error', (err) => {
      err.message = `${method} ${url}: ${err.message}`;
      finish(reject, err);
    });
    if (body !== undefined) req.end(body); else req.end();
  });
}

/** request() that first checks the server still runs and adds its log tail to network errors. */
export async function call(server, pathname, options) {
  server.assertRunning();
  try {
    return await request(server.url(pathname), { ...server.tls, ...options });
  } catch (err) {
    if (server.exit) server.assertRunning();
    throw err;
  }
}

/** Short description of a response, for assertion messages. */
export function show(res) {
  const ct = res.headers['content-type'] ?? '(no content-type)';
  return `HTTP ${res.status} [${ct}] ${res.text.slice(0, 500)}`;
}

/** Current time range [now-1h, now] in Unix milliseconds, as BigInt (what Grafana sends). */
export function lastHourMs() {
  const end = BigInt(Date.now());
  return { start: end - 3_600_000n, end };
}

/**
 * The object keys (`…/block.bin`, relative to `bucket`) of a filesystem bucket that a running
 * server may be changing: a directory that compaction or retention removes mid-walk makes the
 * walk start again rather than fail.
 */
export function bucketObjects(bucket) {
  for (let attempt = 0; ; attempt++) {
    try {
      if (!fs.existsSync(bucket)) return [];
      return fs.readdirSync(bucket, { recursive: true }).filter((f) => f.endsWith('block.bin'));
    } catch (e) {
      if (e.code !== 'ENOENT' || attempt >= 20) throw e;
    }
  }
}
