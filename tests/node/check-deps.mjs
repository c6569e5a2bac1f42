// ctest fixture for the e2e suite: checks that node, the pinned npm packages (tests/node/node_modules)
// and protoc are there, and says how to get them if not. Exit code 1 makes every e2e test fail
// loudly instead of failing later with an obscure import error.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const problems = [];

const major = Number(process.versions.node.split('.')[0]);
if (major < 20) problems.push(`node ${process.versions.node} is too old; the e2e tests need node >= 20`);

const { devDependencies } = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'));
for (const [name, wanted] of Object.entries(devDependencies)) {
  const manifest = path.join(here, 'node_modules', name, 'package.json');
  if (!fs.existsSync(manifest)) {
    problems.push(`npm package ${name} is not installed in ${path.join(here, 'node_modules')}`);
    continue;
  }
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
  if (version !== wanted) problems.push(`npm package ${name} is ${version}, package.json pins ${wanted}`);
}

try {
  execFileSync('protoc', ['--version'], { stdio: 'ignore', timeout: 10_000 });
} catch {
  problems.push('protoc is not on PATH (Debian package protobuf-compiler)');
}

try {
  execFileSync('zstd', ['--version'], { stdio: 'ignore', timeout: 10_000 });
} catch {
  problems.push('zstd is not on PATH (Debian package zstd)');
}

try {
  execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 10_000 });
} catch {
  problems.push('openssl is not on PATH (Debian package openssl)');
}

// The web UI's browser test (ui.test.mjs) drives Debian's chromium.
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(chromium)) problems.push(`${chromium} is missing (Debian package chromium)`);

if (problems.length > 0) {
  console.error(`e2e test dependencies are missing:\n  - ${problems.join('\n  - ')}\n` +
    'Run scripts/install-deps.sh --test from the project root (it runs `npm ci` in tests/node).');
  process.exit(1);
}
console.log('e2e test dependencies OK');
