// Many idle keep-alive connections cost the HTTP server no threads: open 1,000 plain TCP
// connections, send one `GET /ready` on each and read its 200, keep them all open; then every one
// is still open, a fresh request is answered, the server runs fewer than 64 threads, and every
// idle connection can still be reused for a second request. Then SIGTERM → exit code 0 while they
// are open.

import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it, before, after } from 'node:test';
import { HOST, call, show, softOpenFileLimit, stopCleanly, useEmbers } from './harness.mjs';

const CONNECTIONS = 1000;
const MAX_THREADS = 64;
const IN_FLIGHT = 50;       // connections being opened at once (keeps the listen backlog small)
const STEP_TIMEOUT_MS = 10_000;
const FD_HEADROOM = 200;    // fds a process needs besides the test connections

/** Reads one HTTP/1.1 response (Content-Length or chunked) from a socket; resolves {status, head}. */
function readResponse(sock) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err, v) => {
      clearTimeout(timer);
      sock.off('data', onData); sock.off('end', onEnd); sock.off('close', onEnd); sock.off('error', onError);
      err ? reject(err) : resolve(v);
    };
    const onData = (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = buf.subarray(0, headEnd).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
      const rest = buf.subarray(headEnd + 4);
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
      if (len ? rest.length >= Number(len[1]) : chunked ? rest.includes('0\r\n\r\n') : true) {
        done(null, { status, head });
      }
    };
    const onEnd = () => done(new Error(`connection closed before a complete response (${buf.length} bytes read)`));
    const onError = (err) => done(err);
    const timer = setTimeout(() => done(new Error(`no response within ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
    sock.on('data', onData); sock.on('end', onEnd); sock.on('close', onEnd); sock.on('error', onError);
  });
}

/** Opens one keep-alive connection and does one GET /ready on it. */
function openIdleConnection(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: HOST, port });
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('connect timed out')); }, STEP_TIMEOUT_MS);
    sock.once('error', (err) => { clearTimeout(timer); reject(err); });
    sock.once('connect', () => {
      clearTimeout(timer);
      const state = { closed: false, error: null };
      sock.on('close', () => { state.closed = true; });
      sock.on('error', (err) => { state.error = err; });
      readResponse(sock).then((res) => resolve({ sock, state, res }), (err) => { sock.destroy(); reject(err); });
      sock.write('GET /ready HTTP/1.1\r\nHost: x\r\n\r\n');
    });
  });
}

describe(`${CONNECTIONS} idle keep-alive connections`, () => {
  const embers = useEmbers();
  const conns = [];

  before(() => {
    // Both ends need about CONNECTIONS descriptors; say so plainly if the limit is too low.
    const need = CONNECTIONS + FD_HEADROOM;
    const mine = softOpenFileLimit();
    assert.ok(mine >= need, `this test needs ${need} open files but the test process's soft limit ` +
      `(ulimit -n) is ${mine}; raise it (e.g. \`ulimit -n 4096\`) before running the tests`);
    const theirs = embers().openFileLimit();
    assert.ok(theirs >= need, `embers runs with a soft open-files limit (ulimit -n) of ${theirs}, fewer ` +
      `than the ${need} this test needs; raise it (\`ulimit -n 4096\`), or have embers raise its soft ` +
      'RLIMIT_NOFILE to the hard limit at startup');
  });
  after(() => { for (const c of conns) c.sock.destroy(); });

  it(`opens ${CONNECTIONS} connections, each answered 200 on GET /ready`, { timeout: 60_000 }, async () => {
    const port = embers().httpPort;
    let next = 0;
    const failures = [];
    const worker = async () => {
      while (next < CONNECTIONS) {
        const i = next++;
        try {
          const c = await openIdleConnection(port);
          conns.push(c);
          if (c.res.status !== 200) failures.push(`connection ${i}: HTTP ${c.res.status}\n${c.res.head}`);
        } catch (err) {
          failures.push(`connection ${i}: ${err.message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    embers().assertRunning();
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${CONNECTIONS} connections failed`);
    assert.equal(conns.length, CONNECTIONS);
  });

  it('all of them are still open', () => {
    const closed = conns.filter((c) => c.state.closed || c.sock.destroyed);
    assert.equal(closed.length, 0, `the server closed ${closed.length} of ${conns.length} idle keep-alive ` +
      `connections (first error: ${closed.find((c) => c.state.error)?.state.error?.message ?? 'none'})`);
  });

  it('a fresh request is still answered', { timeout: 15_000 }, async () => {
    const res = await call(embers(), '/ready');
    assert.equal(res.status, 200, show(res));
  });

  it(`the server runs fewer than ${MAX_THREADS} threads`, () => {
    const threads = embers().threadCount();
    assert.ok(threads < MAX_THREADS,
      `embers has ${threads} threads with ${conns.length} idle connections open (limit ${MAX_THREADS - 1})`);
  });

  it('every idle connection can be reused for a second request', { timeout: 60_000 }, async () => {
    const failures = [];
    for (let i = 0; i < conns.length; i += IN_FLIGHT) {
      await Promise.all(conns.slice(i, i + IN_FLIGHT).map(async (c, j) => {
        try {
          const pending = readResponse(c.sock);
          c.sock.write('GET /ready HTTP/1.1\r\nHost: x\r\n\r\n');
          const res = await pending;
          if (res.status !== 200) failures.push(`connection ${i + j}: HTTP ${res.status}`);
        } catch (err) {
          failures.push(`connection ${i + j}: ${err.message}`);
        }
      }));
    }
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${conns.length} reused connections failed`);
  });

  it('exits with code 0 on SIGTERM while the connections are open', { timeout: 15_000 }, async () => {
    assert.equal(await stopCleanly(embers()), null);
  });
});
