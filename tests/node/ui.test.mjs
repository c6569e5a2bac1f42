// The built-in web UI (issue 16) in a real browser: Debian's chromium, headless, driven by
// playwright-core, against the real embers binary serving the page it embeds. Known folded
// profiles are pushed through /ingest for one tenant (multitenancy on, so the tenant picker and
// X-Scope-OrgID matter); the tests read what a user sees from the Top table's rows and the
// flame graph's data attributes, not pixels: the service picker, top frames and percentages,
// click-to-focus, search share, label autocomplete, the URL round trip, the old Pyroscope deep
// link, group-by, the sandwich and diff views, pprof/JSON export and API errors; a second server
// with -auth.enabled checks the API token field. A 100k-node profile measures first paint and
// focus with performance.now() in the page and prints them (numbers go to docs/performance.md;
// no timed assertions).
//
// Environment: CHROMIUM (default /usr/bin/chromium; Debian package chromium, installed by
// scripts/install-deps.sh --test); EMBERS_UI_SCREENSHOTS=<dir> saves a PNG of each view there
// (docs/ui/ holds the committed ones).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { call, show, useEmbers } from './harness.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.EMBERS_UI_SCREENSHOTS;
const TENANT = 'team-ui';
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const q = (selector) => encodeURIComponent(`${CPU}${selector}`);

// shop, env=prod: render 50, parse 30, gc 20; env=staging: render 100 (sample counts).
// Merged: render 150/200 = 75 %, parse 15 %, gc 10 %, handle total 90 %.
const PROFILES = [
  ['shop', 'prod', 'main;handle;parse 30\nmain;handle;render 50\nmain;gc 20\n'],
  ['shop', 'staging', 'main;handle;render 100\n'],
  ['cart', 'prod', 'main;checkout 10\n'],
];

/** 50 × 40 × 50 leaves under main: 102,052 nodes with main and the root. */
function bigProfile() {
  const lines = [];
  for (let a = 0; a < 50; a++) {
    for (let b = 0; b < 40; b++) {
      for (let c = 0; c < 50; c++) lines.push(`main;a${a};b${b};c${c} ${1 + ((a * 7 + b * 3 + c) % 5)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

describe('web UI in chromium', () => {
  const embers = useEmbers({ extraArgs: [
    '-auth.multitenancy-enabled=true', '-segment-writer.segment-duration=100ms',
    // The 100k-node profile is one push of 100,000 stacks.
    '-validation.max-profile-stacktrace-samples=0'] });
  let browser;
  let page;
  const tenantHeaders = [];

  const ingest = async (service, env, body) => {
    const now = Math.floor(Date.now() / 1000);
    const res = await call(embers(), `/ingest?name=${encodeURIComponent(`${service}.cpu{env=${env}}`)}&sampleRate=100&from=${now - 30}&until=${now}`, {
      method: 'POST', headers: { 'Content-Type': 'text/plain', 'X-Scope-OrgID': TENANT }, body, timeoutMs: 60_000,
    });
    assert.equal(res.status, 200, show(res));
  };
  const open = async (search) => {
    await page.goto(`${embers().baseUrl}/${search}`);
  };
  const rows = (testid = 'top-table') => page.locator(`[data-testid=${testid}] tbody tr`).evaluateAll(
    (trs) => trs.map((tr) => ({ ...tr.dataset })));
  const waitRows = async (predicate, testid = 'top-table') => {
    const deadline = Date.now() + 20_000;
    let last = [];
    while (Date.now() < deadline) {
      last = await rows(testid);
      if (last.length > 0 && predicate(last)) return last;
      await page.waitForTimeout(50);
    }
    const errors = await page.locator('[data-testid=errors]').allTextContents();
    assert.fail(`table never matched; last rows ${JSON.stringify(last.slice(0, 8))}; errors ${JSON.stringify(errors)}`);
  };
  const byName = (rs) => Object.fromEntries(rs.map((r) => [r.name, r]));
  const shot = async (name) => {
    if (!SHOTS) return;
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  };

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found: install Debian's chromium (scripts/install-deps.sh --test)`);
    for (const [service, env, body] of PROFILES) await ingest(service, env, body);
    await ingest('zz-big', 'prod', bigProfile());
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    page.on('request', (r) => { if (r.url().includes('/querier.v1.')) tenantHeaders.push(r.headers()['x-scope-orgid']); });
  });
  after(async () => { await browser?.close(); });

  it('GET / serves the embedded page; assets are hashed, cached, gzipped and revalidated', async () => {
    let res = await call(embers(), '/', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(res.status, 200, show(res));
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['content-encoding'], 'gzip');
    const html = zlib.gunzipSync(res.body).toString();
    const etag = res.headers.etag;
    assert.match(etag, /^"[0-9a-f]+"$/);
    res = await call(embers(), '/', { headers: { 'If-None-Match': etag } });
    assert.equal(res.status, 304);
    assert.equal(res.body.length, 0);
    let gzipped = zlib.gzipSync(html).length;
    for (const asset of html.match(/\/ui\/main-[A-Z0-9]+\.(js|css)/g)) {
      res = await call(embers(), asset, { headers: { 'Accept-Encoding': 'br;q=1, gzip;q=0.5' } });
      assert.equal(res.status, 200, show(res));
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(res.headers['content-encoding'], 'gzip');
      assert.match(res.headers['content-type'], asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      gzipped += res.body.length;
      res = await call(embers(), asset, { headers: { 'Accept-Encoding': 'gzip;q=0' } });
      assert.equal(res.headers['content-encoding'], undefined);
    }
    console.log(`# UI bundle: ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
    assert.ok(gzipped <= 250 * 1024, `bundle ${gzipped} bytes gzipped, budget 250 KB`);
    res = await call(embers(), '/ui/main-NOSUCH.js');
    assert.equal(res.status, 404);
  });

  it('the status pages linked from the header answer', async () => {
    await open(`?tenant=${TENANT}`);
    const links = await page.locator('nav[aria-label="Status pages"] a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, ['/api/v1/status/buildinfo', '/config', '/metrics']);
    for (const link of links) {
      const res = await call(embers(), link);
      assert.equal(res.status, 200, `${link}: ${show(res)}`);
    }
  });

  it('the Status view shows the metastore, compaction and cluster as tables', async () => {
    await open(`?tenant=${TENANT}`);
    await page.getByRole('link', { name: 'Status' }).click();
    assert.match(page.url(), /[?&]view=status/);
    const cells = async (testid) => page.locator(`[data-testid=${testid}] tbody tr`).evaluateAll(
      (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    await page.getByTestId('status-node').waitFor();
    const [node] = await cells('status-node');
    // node, state, term, leader, ready, commit, applied, blocks, …
    assert.equal(node[1], 'leader');
    assert.equal(node[4], 'yes');
    assert.ok(Number(node[7]) > 0, `blocks: ${node}`);
    const status = (await call(embers(), '/metastore/status')).json();
    assert.equal(Number(node[7]), status.blocks);
    const levels = await cells('status-levels');
    assert.deepEqual(levels.map((l) => Number(l[0])), status.compaction.levels.map((l) => l.level));
    assert.equal((await cells('status-nodes')).length, status.nodes.length);
    await page.getByTestId('status-members').waitFor();
    await shot('status');
    // Keyboard: the view's links are reachable and Refresh reloads.
    await page.getByRole('button', { name: 'Refresh' }).press('Enter');
    await page.getByTestId('status-node').waitFor();
  });

  it('API errors are shown as the server said them (no tenant while multitenancy is on; a bad selector)', async () => {
    await open('');
    const alert = page.locator('[data-testid=errors]');
    await alert.waitFor({ timeout: 10_000 });
    const text = await alert.textContent();
    assert.match(text, /ProfileTypes: /);
    assert.match(text, /X-Scope-OrgID|tenant/i);
    await shot('error');
    // A query the server refuses (an invalid regular expression): its Connect error, as sent.
    await open(`?tenant=${TENANT}&query=${q('{service_name=~"("}')}`);
    await page.waitForFunction(() => /SelectMergeStacktraces: invalid_argument: /.test(document.querySelector('[data-testid=errors]')?.textContent ?? ''));
    await page.waitForFunction(() => /SelectSeries: invalid_argument: /.test(document.querySelector('[data-testid=errors]')?.textContent ?? ''));
    assert.equal(await page.getByTestId('label-selector').getAttribute('aria-invalid'), 'true');
    // Another tenant sees none of team-ui's profiles, and is told so.
    await open('?tenant=nobody');
    assert.match(await page.getByTestId('no-data').textContent(), /No profiles in this time range for tenant nobody/);
    assert.equal(await page.getByTestId('errors').count(), 0);
  });

  it('explore: picks a type and a service, then shows the chosen service\'s top frames', async () => {
    tenantHeaders.length = 0;
    await open(`?tenant=${TENANT}`);
    // No query in the URL: the CPU type and the first service (cart) are chosen.
    let rs = await waitRows((r) => r.some((x) => x.name === 'checkout'));
    assert.equal(byName(rs).checkout.selfPercent, '100');
    assert.match(decodeURIComponent(page.url()), /service_name="cart"/);
    await page.selectOption('[data-testid=service]', 'shop');
    rs = await waitRows((r) => r.some((x) => x.name === 'render'));
    const top = rs.slice(0, 3).map((r) => [r.name, Number(r.selfPercent)]);
    assert.deepEqual(top, [['render', 75], ['parse', 15], ['gc', 10]]);
    assert.equal(Number(byName(rs).handle.totalPercent), 90);
    assert.equal(Number(byName(rs).render.self), 1.5e9); // 150 samples at 100 Hz, in ns
    assert.match(decodeURIComponent(page.url()), new RegExp(`query=${CPU}\\{service_name="shop"\\}`));
    assert.ok(tenantHeaders.length > 0 && tenantHeaders.every((h) => h === TENANT), `X-Scope-OrgID sent: ${tenantHeaders}`);
    // Sorting by name, then filtering.
    await page.getByRole('button', { name: /^Function/ }).click();
    rs = await rows();
    assert.deepEqual(rs.map((r) => r.name), ['gc', 'handle', 'main', 'parse', 'render']);
    await page.getByLabel('Filter functions').fill('ar');
    assert.deepEqual((await rows()).map((r) => r.name), ['parse']);
    await page.getByLabel('Filter functions').fill('');
    await page.locator('[data-testid=timeline] canvas').first().waitFor();
    await shot('explore');
    if (SHOTS) { // the dark theme, drawn from the start in dark (the chart reads its colours once)
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.reload();
      await waitRows((r) => r.length === 5);
      await page.locator('[data-testid=timeline] canvas').first().waitFor();
      await shot('explore-dark');
      await page.emulateMedia({ colorScheme: 'light' });
      await page.reload();
      await waitRows((r) => r.length === 5);
    }
  });

  it('exports the merged profile as pprof and the flame graph as JSON', async () => {
    // The page shows shop (all envs) from the previous test.
    let [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download pprof' }).click()]);
    assert.equal(download.suggestedFilename(), 'shop.pb');
    const pprof = fs.readFileSync(await download.path());
    // A google.v1.Profile: field 1 (sample_type) first, and the frames in its string table.
    assert.equal(pprof[0], 0x0a);
    for (const frame of ['main', 'handle', 'render', 'parse', 'gc']) assert.ok(pprof.includes(Buffer.from(frame)), frame);
    [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
    const json = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
    assert.equal(json.total, '2000000000');
    assert.deepEqual([...json.names].sort(), ['gc', 'handle', 'main', 'parse', 'render', 'total']);
    assert.deepEqual(json.levels[0].values, ['0', '2000000000', '0', '0']);
  });

  it('click to focus, breadcrumbs and reset; the same with the keyboard', async () => {
    const canvas = page.locator('[data-testid=flamegraph]');
    const box = await canvas.boundingBox();
    // Icicle: row 0 total, 1 main, 2 gc (10 %) then handle (90 %).
    await canvas.click({ position: { x: box.width * 0.5, y: 2 * 18 + 9 } });
    await page.waitForFunction(() => document.querySelector('[data-testid=flamegraph]').dataset.focus === 'handle');
    assert.match(decodeURIComponent(page.url()), /focus=main;handle/);
    const crumbs = await page.locator('nav[aria-label="Focused frame"] button').allTextContents();
    assert.deepEqual(crumbs, ['all', 'main', 'handle', 'Reset']);
    await shot('focus');
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=flamegraph]').dataset.focus === '');
    await canvas.click({ position: { x: box.width * 0.5, y: 3 * 18 + 9 } }); // render
    await page.waitForFunction(() => document.querySelector('[data-testid=flamegraph]').dataset.focus === 'render');
    await canvas.press('Escape');
    await page.waitForFunction(() => document.querySelector('[data-testid=flamegraph]').dataset.focus === '');
    // The keyboard: down to main, down to its first child gc, right to handle, Enter focuses.
    for (const key of ['ArrowDown', 'ArrowDown', 'ArrowRight']) await canvas.press(key);
    assert.equal(await canvas.getAttribute('data-selected'), 'handle');
    assert.match(await page.locator('.fg-canvas [aria-live]').textContent(), /handle: total 90\.00%/);
    await page.getByRole('tooltip').waitFor();
    await canvas.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid=flamegraph]').dataset.focus === 'handle');
    await canvas.press('Escape');
    await page.waitForFunction(() => document.querySelector('[data-testid=flamegraph]').dataset.focus === '');
  });

  it('search highlights the matching frames and shows their share', async () => {
    await page.getByLabel('Search frames').fill('rend');
    const share = page.locator('[data-testid=search-share]');
    await share.waitFor();
    assert.equal(await share.getAttribute('data-count'), '1');
    assert.equal(Number(await share.getAttribute('data-share')), 0.75);
    assert.match(await share.textContent(), /75\.00% of total/);
    await page.getByLabel('Search frames').fill('a'); // main, handle, parse: main holds the others, 100 %
    await page.waitForFunction(() => document.querySelector('[data-testid=search-share]')?.dataset.count === '3');
    assert.equal(Number(await share.getAttribute('data-share')), 1);
    await page.getByLabel('Search frames').fill('parse');
    await shot('search');
  });

  it('label autocomplete: names after a comma, values inside quotes; Enter applies', async () => {
    const input = page.getByTestId('label-selector');
    await input.click();
    await input.press('End');
    await input.press('ArrowLeft'); // before }
    await input.pressSequentially(', e');
    const options = page.getByTestId('selector-options');
    await options.waitFor();
    // The list follows the typing (names first, then those starting with "e"): wait until it has
    // caught up with the last key before reading it, or Enter may pick from an older list.
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=selector-options] li')]
      .map((li) => li.textContent).join(',') === 'env', null, { timeout: 10_000 }).catch(() => {});
    assert.deepEqual(await options.locator('li').allTextContents(), ['env']);
    await input.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid=selector-options]')?.textContent.includes('prod'));
    assert.deepEqual(await options.locator('li').allTextContents(), ['prod', 'staging']);
    await input.press('Enter');
    assert.equal(await input.inputValue(), '{service_name="shop", env="prod"}');
    assert.equal(await page.getByTestId('selector-error').count(), 0);
    await input.press('Enter'); // list closed: applies
    const rs = await waitRows((r) => Number(byName(r).render?.selfPercent) === 50);
    assert.equal(Number(byName(rs).parse.selfPercent), 30);
    // Invalid input is flagged as it is typed.
    await input.fill('{env="prod" service_name="x"}');
    assert.match(await page.getByTestId('selector-error').textContent(), /expected , or }/);
    await input.fill('{service_name="shop", env="prod"}');
  });

  it('the URL holds the state: a reload restores it, Back goes to the previous view', async () => {
    await page.getByLabel('Orientation').selectOption('flame');
    const canvas = page.locator('[data-testid=flamegraph]');
    const box = await canvas.boundingBox();
    // Flame: rows from the bottom; handle is the row above main, right of gc.
    const rowsDrawn = box.height / 18;
    await canvas.click({ position: { x: box.width * 0.9, y: (rowsDrawn - 3) * 18 + 9 } });
    await page.waitForFunction(() => document.querySelector('[data-testid=flamegraph]').dataset.focus === 'handle');
    const url = page.url();
    const before = await rows();
    await page.reload();
    await page.waitForFunction(() => document.querySelector('[data-testid=flamegraph]')?.dataset.focus === 'handle');
    assert.equal(page.url(), url);
    const byNameSorted = (rs) => rs.slice().sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(byNameSorted(await waitRows((r) => r.length === before.length)), byNameSorted(before));
    assert.equal(await page.getByLabel('Orientation').inputValue(), 'flame');
    assert.equal(await page.getByLabel('Search frames').inputValue(), 'parse');
    assert.equal(await page.getByTestId('label-selector').inputValue(), '{service_name="shop", env="prod"}');
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('[data-testid=flamegraph]')?.dataset.focus === '');
  });

  it('opens the old Pyroscope UI deep link form', async () => {
    await open(`?query=${q('{service_name="shop",env="staging"}')}&from=now-1h&until=now&tenant=${TENANT}`);
    // From navigation start (the page's time origin) to the flame graph drawn and the table filled.
    const interactiveMs = await page.waitForFunction(() => (
      document.querySelector('[data-testid=flamegraph]')?.dataset.drawn &&
      document.querySelectorAll('[data-testid=top-table] tbody tr').length === 3 ? performance.now() : 0));
    console.log(`# explore page interactive: ${(await interactiveMs.jsonValue()).toFixed(0)} ms from navigation (warm server)`);
    const rs = await waitRows((r) => r.length === 3);
    assert.deepEqual(rs.map((r) => [r.name, Number(r.selfPercent)]), [['render', 100], ['handle', 0], ['main', 0]]);
  });

  it('timeline: group by a label draws one line per value; brushing zooms the time range', async () => {
    await open(`?query=${q('{service_name="shop"}')}&tenant=${TENANT}&groupBy=env`);
    await page.waitForFunction(() => (document.querySelector('[data-testid=timeline]')?.dataset.lines ?? '').split('\n').length === 2);
    const lines = (await page.getByTestId('timeline').getAttribute('data-lines')).split('\n');
    assert.deepEqual(lines, ['prod', 'staging']); // by sum, largest first; equal sums (100 each) by name
    await shot('timeline');
    // Brushing the middle half of the chart zooms to it: an absolute range (unix seconds) in the URL.
    const over = page.locator('[data-testid=timeline] .u-over');
    const box = await over.boundingBox();
    const before = Date.now();
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => /from=\d+/.test(location.search));
    const url = new URL(page.url());
    const from = Number(url.searchParams.get('from')) * 1000;
    const until = Number(url.searchParams.get('until')) * 1000;
    // The chart spans now-1h .. now: a quarter in is 45 min ago, three quarters 15 min ago.
    assert.ok(Math.abs(before - from - 45 * 60e3) < 3 * 60e3, `from ${new Date(from).toISOString()}`);
    assert.ok(Math.abs(before - until - 15 * 60e3) < 3 * 60e3, `until ${new Date(until).toISOString()}`);
    assert.equal(await page.getByLabel('From').inputValue(), url.searchParams.get('from'));
  });

  it('diff view: red for more, green for less, ranked by the change of normalised share; side by side', async () => {
    await open(`?view=diff&tenant=${TENANT}&leftQuery=${q('{service_name="shop",env="prod"}')}&rightQuery=${q('{service_name="shop",env="staging"}')}`);
    const rs = await waitRows((r) => r.length >= 3, 'diff-table');
    // prod: render 50 %, parse 30 %, gc 20 %; staging: render 100 %.
    assert.deepEqual(rs.map((r) => [r.name, Math.round(Number(r.delta) * 100)]), [['render', 50], ['parse', -30], ['gc', -20]]);
    assert.equal(await page.locator('[data-testid=diff-table] tr.worse').count(), 1);
    assert.equal(await page.locator('[data-testid=diff-table] tr.better').count(), 2);
    await shot('diff');
    // Sorted by a clicked column (buttons in the headers, aria-sort), filtered by a typed name.
    const table = page.getByTestId('diff-table');
    const sorted = async (column, names, direction) => {
      await table.getByRole('button', { name: new RegExp(`^${column}`) }).click();
      assert.deepEqual((await rows('diff-table')).map((r) => r.name), names, `sorted by ${column}`);
      assert.equal(await table.locator(`th[aria-sort=${direction}]`).textContent(), `${column} ${direction === 'ascending' ? '▲' : '▼'}`);
      assert.equal(await table.locator('th[aria-sort=none]').count(), 3);
    };
    assert.equal(await table.locator('th[aria-sort=descending]').textContent(), 'Change ▼');
    await sorted('Function', ['gc', 'parse', 'render'], 'ascending');
    await sorted('Function', ['render', 'parse', 'gc'], 'descending');
    await sorted('Comparison self', ['render', 'gc', 'parse'], 'descending'); // gc and parse: 0 each, by name
    await sorted('Baseline self', ['render', 'parse', 'gc'], 'descending');
    await sorted('Baseline self', ['gc', 'parse', 'render'], 'ascending');
    await sorted('Change', ['render', 'parse', 'gc'], 'descending'); // by the size of the change
    await sorted('Change', ['gc', 'parse', 'render'], 'ascending');
    await page.getByLabel('Filter functions').fill('R');
    assert.deepEqual((await rows('diff-table')).map((r) => r.name), ['parse', 'render']);
    await page.getByLabel('Filter functions').fill('ars');
    assert.deepEqual((await rows('diff-table')).map((r) => [r.name, Math.round(Number(r.delta) * 100)]), [['parse', -30]]);
    await page.getByLabel('Filter functions').fill('');
    assert.equal((await rows('diff-table')).length, 3);
    // Side by side: each side's own flame graph, searched on its own.
    await page.getByLabel('Show').selectOption('side-by-side');
    assert.match(page.url(), /compare=side-by-side/);
    for (const [side, share] of [['baseline', 0.5], ['comparison', 1]]) {
      const pane = page.getByTestId(`compare-${side}`);
      await pane.locator('[data-testid=flamegraph]').waitFor();
      assert.equal(Number(await pane.locator('[data-testid=flamegraph]').getAttribute('data-total')), 1e9);
      await pane.getByLabel('Search frames').fill('render');
      assert.equal(Number(await pane.getByTestId('search-share').getAttribute('data-share')), share);
    }
    await shot('comparison');
  });

  it('time zone switch: the browser\'s zone or UTC for the range shown, typed times and the timeline; kept in the URL', async () => {
    // A browser in Asia/Kolkata (+05:30, no daylight saving), so its zone and UTC differ.
    const context = await browser.newContext({ timezoneId: 'Asia/Kolkata', viewport: { width: 1400, height: 900 } });
    const tzPage = await context.newPage();
    try {
      const resolved = () => tzPage.getByTestId('resolved-range').textContent();
      const kolkata = '\\((Asia/Kolkata|Asia/Calcutta)\\)';
      // 2026-01-02 10:00 to 11:00 UTC, as unix seconds.
      await tzPage.goto(`${embers().baseUrl}/?tenant=${TENANT}&query=${q('{service_name="shop"}')}&from=1767348000&until=1767351600`);
      assert.equal(await tzPage.getByTestId('time-zone').inputValue(), 'local');
      assert.match(await resolved(), new RegExp(`^2026-01-02 15:30:00 – 2026-01-02 16:30:00 ${kolkata}$`));
      await tzPage.getByTestId('time-zone').selectOption('utc');
      assert.match(tzPage.url(), /[?&]tz=utc(&|$)/);
      assert.equal(await resolved(), '2026-01-02 10:00:00 – 2026-01-02 11:00:00 (UTC)');
      await tzPage.reload();
      assert.equal(await tzPage.getByTestId('time-zone').inputValue(), 'utc');
      assert.equal(await resolved(), '2026-01-02 10:00:00 – 2026-01-02 11:00:00 (UTC)');
      // A time typed without an offset is read in the chosen zone.
      await tzPage.getByLabel('From').fill('2026-01-02 09:00');
      await tzPage.getByRole('button', { name: 'Set' }).click();
      await tzPage.waitForFunction(() => new URLSearchParams(location.search).get('from') === '2026-01-02 09:00');
      assert.equal(await resolved(), '2026-01-02 09:00:00 – 2026-01-02 11:00:00 (UTC)');
      await tzPage.getByTestId('time-zone').selectOption('local');
      assert.doesNotMatch(tzPage.url(), /tz=/);
      assert.match(await resolved(), new RegExp(`^2026-01-02 09:00:00 – 2026-01-02 16:30:00 ${kolkata}$`));
      // The timeline's time (its legend under the cursor) in either zone: the data are from the
      // last minutes, so what it shows is within a quarter of an hour of now in that zone.
      const legendMinutes = async (tz) => {
        await tzPage.goto(`${embers().baseUrl}/?tenant=${TENANT}&query=${q('{service_name="shop"}')}${tz === 'utc' ? '&tz=utc' : ''}`);
        const over = tzPage.locator('[data-testid=timeline] .u-over');
        await over.waitFor();
        assert.equal(await tzPage.getByTestId('timeline').getAttribute('data-tz'), tz);
        const box = await over.boundingBox();
        await tzPage.mouse.move(box.x + box.width - 5, box.y + box.height / 2);
        const text = await tzPage.locator('[data-testid=timeline] .u-legend .u-series').first().locator('.u-value').textContent();
        const m = /(\d+):(\d\d)\s*([ap]m)/i.exec(text);
        assert.ok(m, `legend time ${text}`);
        return ((Number(m[1]) % 12) + (m[3].toLowerCase() === 'pm' ? 12 : 0)) * 60 + Number(m[2]);
      };
      const nowUtc = (Date.now() / 60e3) % 1440;
      const near = (got, want, what) => {
        const d = Math.abs(got - want) % 1440;
        assert.ok(Math.min(d, 1440 - d) <= 15, `${what}: legend at minute ${got} of the day, now is ${want.toFixed(0)}`);
      };
      near(await legendMinutes('utc'), nowUtc, 'UTC');
      near(await legendMinutes('local'), (nowUtc + 330) % 1440, 'Asia/Kolkata');
    } finally {
      await context.close();
    }
  });

  it('sandwich view: callers above, callees below a function from the Top table', async () => {
    await open(`?query=${q('{service_name="shop"}')}&tenant=${TENANT}`);
    await waitRows((r) => r.some((x) => x.name === 'handle'));
    await page.getByRole('button', { name: 'Sandwich view of handle' }).click();
    assert.match(page.url(), /sandwich=handle/);
    const callers = page.locator('[data-testid=sandwich-callers] [data-testid=flamegraph]');
    const callees = page.locator('[data-testid=sandwich-callees] [data-testid=flamegraph]');
    await callees.waitFor();
    assert.equal(Number(await callers.getAttribute('data-total')), 1.8e9); // handle: 180 samples
    assert.equal(Number(await callees.getAttribute('data-total')), 1.8e9);
    await page.locator('[data-testid=sandwich-callees]').getByLabel('Search frames').fill('render');
    const share = page.locator('[data-testid=sandwich-callees] [data-testid=search-share]');
    await share.waitFor();
    assert.ok(Math.abs(Number(await share.getAttribute('data-share')) - 150 / 180) < 1e-9);
    await page.locator('[data-testid=sandwich-callers]').getByLabel('Search frames').fill('main');
    assert.equal(await page.locator('[data-testid=sandwich-callers] [data-testid=search-share]').getAttribute('data-share'), '1');
    await shot('sandwich');
    await page.getByRole('button', { name: 'Close sandwich' }).click();
    assert.doesNotMatch(page.url(), /sandwich=/);
  });

  it('a 100k-node flame graph: first paint and focus time (printed, not asserted)', { timeout: 120_000 }, async () => {
    await open(`?query=${q('{service_name="zz-big"}')}&tenant=${TENANT}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=flamegraph]')?.dataset.paintMs, null, { timeout: 60_000 });
    const canvas = page.locator('[data-testid=flamegraph]');
    const paintMs = Number(await canvas.getAttribute('data-paint-ms'));
    const total = await page.evaluate(() => document.querySelectorAll('[data-testid=top-table] tbody tr').length);
    assert.ok(total > 0);
    // Focus a0 (row 2, the first 2 % of the width), then back to the root: wall time from the
    // click to the frame drawn, and the layout + draw time alone.
    const focusTimes = await page.evaluate(async () => {
      const c = document.querySelector('[data-testid=flamegraph]');
      const r = c.getBoundingClientRect();
      const out = [];
      for (const [x, want] of [[r.left + r.width * 0.005, 'a0'], [r.left + r.width * 0.5, '']]) {
        const t0 = performance.now();
        if (want) c.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: x, clientY: r.top + 2 * 18 + 9 }));
        else c.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, key: 'Escape' }));
        while (c.dataset.focus !== want) await new Promise((res) => setTimeout(res, 0));
        out.push({ focus: want || 'all', wallMs: performance.now() - t0, drawMs: Number(c.dataset.drawMs) });
      }
      return out;
    });
    const drawn = await page.evaluate(() => Number(document.querySelector('[data-testid=flamegraph]').dataset.drawn));
    const panes = page.locator('.panes');
    const nodes = Number(await panes.getAttribute('data-nodes'));
    assert.equal(nodes, 102_052); // total, main, 50 + 2,000 + 100,000
    console.log(`# 100k-node flame graph (${nodes} nodes): first paint ${paintMs.toFixed(1)} ms after the data arrived ` +
      `(of which decoding ${Number(await panes.getAttribute('data-decode-ms')).toFixed(1)} ms; ${drawn} rectangles drawn)`);
    for (const f of focusTimes) console.log(`# focus ${f.focus}: ${f.wallMs.toFixed(1)} ms click to drawn, layout + draw ${f.drawMs.toFixed(1)} ms`);
    assert.equal(focusTimes[0].focus, 'a0');
    await shot('big');
  });
});

describe('web UI against a server with API tokens', () => {
  const ADMIN = 'ui-admin-token';
  const embers = useEmbers({ extraArgs: ['-auth.enabled=true', `-auth.admin-token=${ADMIN}`, '-auth.token-refresh-interval=200ms'] });
  let browser;
  let page;
  let token;
  const authHeaders = [];

  before(async () => {
    const res = await call(embers(), '/api/v1/auth/tokens', {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ tenant: 'team-token', scopes: 'read,write' }),
    });
    assert.equal(res.status, 200, show(res));
    token = JSON.parse(res.text).token;
    // The new token is usable once the servers' copies refresh (200 ms).
    const deadline = Date.now() + 10_000;
    let push;
    do {
      const now = Math.floor(Date.now() / 1000);
      push = await call(embers(), `/ingest?name=vault.cpu&sampleRate=100&from=${now - 30}&until=${now}`, {
        method: 'POST', headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${token}` }, body: 'main;unseal 40\nmain;seal 10\n',
      });
      if (push.status !== 200) await new Promise((r) => setTimeout(r, 100));
    } while (push.status !== 200 && Date.now() < deadline);
    assert.equal(push.status, 200, show(push));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('request', (r) => { if (r.url().includes('/querier.v1.')) authHeaders.push(r.headers().authorization); });
  });
  after(async () => { await browser?.close(); });

  it('asks for a token, sends it as Bearer, keeps it out of the URL and for the tab', async () => {
    await page.goto(`${embers().baseUrl}/`);
    await page.getByTestId('errors').waitFor();
    assert.match(await page.getByTestId('errors').textContent(), /ProfileTypes: unauthenticated: .*API token/);
    await page.getByTestId('api-token').fill(token);
    await page.getByTestId('api-token').press('Enter');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=top-table] tbody tr')].some((r) => r.dataset.name === 'unseal'), null, { timeout: 20_000 });
    const self = await page.locator('[data-testid=top-table] tr[data-name=unseal]').getAttribute('data-self-percent');
    assert.equal(Number(self), 80);
    assert.ok(!page.url().includes(token), 'the token is not in the URL');
    assert.ok(authHeaders.includes(`Bearer ${token}`));
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=top-table] tbody tr').length > 0, null, { timeout: 20_000 });
    assert.equal(await page.getByTestId('errors').count(), 0);
  });
});
