#!/usr/bin/env node
// Install one adaptor the way an OpenFn Node worker does: proper-lockfile lock on <repo>/.locks/<alias>.lock, then
// `npm install <alias>@npm:<name>@<version>` in the repo root (npm hoists the adaptor's dependencies to <repo>/node_modules/),
// then an empty sentinel <repo>/.sentinels/<alias>.done, then unlock.
//
// usage: node worker-install.cjs <repoDir> <name> <version> [registryUrl]
// Exit 0 when installed; npm's exit code (or 1) otherwise. npm's output goes to stderr.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const lockfile = require('proper-lockfile');

const [repo, name, version, registry] = process.argv.slice(2);
if (!repo || !name || !version) {
  process.stderr.write('usage: node worker-install.cjs <repoDir> <name> <version> [registryUrl]\n');
  process.exit(2);
}

const alias = `${name}_${version}`;

async function main() {
  const target = path.join(repo, '.locks', `${alias}.lock`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, '');
  const manifest = path.join(repo, 'package.json');
  if (!fs.existsSync(manifest)) fs.writeFileSync(manifest, JSON.stringify({ name: 'openfn-repo', private: true, dependencies: {} }, null, 2));
  const release = await lockfile.lock(target, { stale: 300000, retries: { retries: 100, minTimeout: 100, maxTimeout: 500 } });
  try {
    const args = ['install', '--no-audit', '--no-fund', `${alias}@npm:${name}@${version}`];
    if (registry) args.push('--registry', registry);
    const npm = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: repo, stdio: ['ignore', 2, 2] });
    if (npm.status !== 0) process.exit(npm.status ?? 1);
    const sentinel = path.join(repo, '.sentinels', `${alias}.done`);
    fs.mkdirSync(path.dirname(sentinel), { recursive: true });
    fs.writeFileSync(sentinel, '');
  } finally {
    await release();
  }
}

main().catch((e) => {
  process.stderr.write(`worker-install: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
