#!/usr/bin/env node
// A proper-lockfile waiter: tries to take the lock on <targetFile> with retries for about <waitMs>, breaking it if it looks
// older than <staleMs> (proper-lockfile's own stale rule, judged by this process's clock).
//
// usage: node lock-wait.cjs <targetFile> <staleMs> <waitMs>
//
// stdout: ACQUIRED (the lock was taken, and released again at once; exit 0) or ELOCKED (kept out for the whole wait; exit 3),
// or another error code (exit 1). Exit 2 = bad usage. The target file is created (empty) if missing.
'use strict';

const fs = require('fs');
const lockfile = require('proper-lockfile');

const [target, staleArg, waitArg] = process.argv.slice(2);
const stale = Number(staleArg);
const wait = Number(waitArg);
if (!target || !Number.isFinite(stale) || !Number.isFinite(wait)) {
  process.stderr.write('usage: node lock-wait.cjs <targetFile> <staleMs> <waitMs>\n');
  process.exit(2);
}

const interval = 200;

async function main() {
  fs.closeSync(fs.openSync(target, 'a'));
  try {
    const release = await lockfile.lock(target, {
      stale,
      realpath: true,
      retries: { retries: Math.ceil(wait / interval), factor: 1, minTimeout: interval, maxTimeout: interval },
    });
    await release();
    process.stdout.write('ACQUIRED\n', () => process.exit(0));
  } catch (err) {
    const code = (err && err.code) || 'ERROR';
    process.stdout.write(`${code}\n`, () => process.exit(code === 'ELOCKED' ? 3 : 1));
  }
}

main();
