// A small Node.js program profiled by the real @pyroscope/nodejs SDK, started by
// sdk_nodejs.test.mjs:
//   node apps/pyroscope_nodejs_app.mjs <serverAddress> <runMs>
// It profiles wall time and heap, burns CPU and allocates for runMs, flushes every second, then
// stops the SDK (which sends the last wall profile). It prints one JSON line on stdout:
//   {"uploads":[{"url","status","body"}...]}  every upload the SDK made and the server's answer.
// The SDK's own log (debug namespace "pyroscope*" and its logger) goes to stderr.
import Pyroscope from '@pyroscope/nodejs';

const [serverAddress, runMsArg] = process.argv.slice(2);
const runMs = Number(runMsArg ?? 3500);

// The SDK swallows upload errors (it only logs them), so record what the server answered.
const uploads = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const res = await realFetch(url, init);
  const body = res.ok ? '' : await res.clone().text();
  uploads.push({ url: String(url), status: res.status, body: body.slice(0, 500) });
  return res;
};

const log = (level) => (...args) => console.error(`[sdk ${level}]`, ...args);
Pyroscope.setLogger({
  trace: () => {}, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), fatal: log('fatal'),
});

Pyroscope.init({
  serverAddress,
  appName: 'e2e-node',
  flushIntervalMs: 1000,
  tags: { e2e: 'sdk_nodejs' },
  wall: { samplingDurationMs: 1000, samplingIntervalMicros: 10_000, collectCpuTime: false },
  heap: { samplingIntervalBytes: 32 * 1024, stackDepth: 64 },
});
Pyroscope.start();

function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

const retained = [];
function allocate() {
  const chunk = [];
  for (let i = 0; i < 2000; i++) chunk.push({ i, text: `item-${i}-${'x'.repeat(i % 64)}`, data: new Array(16).fill(i) });
  retained.push(chunk);
  if (retained.length > 40) retained.shift();
}

const deadline = Date.now() + runMs;
let sink = 0;
while (Date.now() < deadline) {
  const sliceEnd = Date.now() + 40;
  while (Date.now() < sliceEnd) sink += fib(20);
  allocate();
  // Yield so the SDK's flush timers run.
  await new Promise((resolve) => setTimeout(resolve, 10));
}

await Pyroscope.stop();
process.stdout.write(JSON.stringify({ uploads, sink: sink > 0, retained: retained.length }) + '\n');
process.exit(0);
