#!/usr/bin/env node
// Hold a proper-lockfile lock on <targetFile> until stdin ends (or a line "release" is read).
//
// usage: node lock-hold.cjs <targetFile> <staleMs> [updateMs]
//
// stdout protocol (one token per line, nothing else is written to stdout):
//   LOCKED       the lock is held (lock directory "<realpath(target)>.lock" exists)
//   RELEASED     the lock was released; exit 0
//   ELOCKED      (or another error code, e.g. ENOENT) the lock could not be taken; exit 3
//   COMPROMISED  proper-lockfile reported the lock as compromised (onCompromised); exit 4
// Diagnostics go to stderr. Exit 2 = bad usage.
//
// The target file is created (empty) if it does not exist, because realpath: true requires it.
// proper-lockfile clamps the options: stale >= 2000, 1000 <= update <= stale/2 (update defaults to stale/2).
'use strict';

const fs = require('fs');
const readline = require('readline');
const lockfile = require('proper-lockfile');

function usage(msg) {
  if (msg) process.stderr.write(`lock-hold: ${msg}\n`);
  process.stderr.write('usage: node lock-hold.cjs <targetFile> <staleMs> [updateMs]\n');
  process.exit(2);
}

function parseMs(value, name) {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) usage(`${name} must be a non-negative number, got '${value}'`);
  return n;
}

const [target, staleArg, updateArg] = process.argv.slice(2);
if (!target || staleArg === undefined) usage();
const stale = parseMs(staleArg, 'staleMs');
const update = updateArg === undefined ? undefined : parseMs(updateArg, 'updateMs');

let finished = false;
function finish(line, code) {
  if (finished) return;
  finished = true;
  process.stdout.write(`${line}\n`, () => process.exit(code));
}

async function main() {
  // realpath: true makes proper-lockfile call fs.realpath(target), which fails with ENOENT if it is missing.
  fs.closeSync(fs.openSync(target, 'a'));

  const options = {
    stale,
    realpath: true,
    retries: 0,
    onCompromised: (err) => {
      process.stderr.write(`lock-hold: compromised: ${err && (err.code || '')} ${err && err.message}\n`);
      finish('COMPROMISED', 4);
    },
  };
  if (update !== undefined) options.update = update;

  let release;
  try {
    release = await lockfile.lock(target, options);
  } catch (err) {
    process.stderr.write(`lock-hold: lock failed: ${err && err.message}\n`);
    finish((err && err.code) || 'ERROR', 3);
    return;
  }

  process.stderr.write(`lock-hold: holding ${fs.realpathSync(target)}.lock (pid ${process.pid})\n`);
  process.stdout.write('LOCKED\n');

  let releasing = false;
  const doRelease = async () => {
    if (finished || releasing) return;
    releasing = true;
    try {
      await release();
    } catch (err) {
      // ERELEASED means it was compromised/released already; onCompromised has normally exited by then.
      process.stderr.write(`lock-hold: release failed: ${err && (err.code || err.message)}\n`);
      finish((err && err.code) || 'ERROR', 5);
      return;
    }
    finish('RELEASED', 0);
  };

  // Reading stdin keeps the process alive (proper-lockfile unrefs its mtime-update timer).
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    if (line.trim() === 'release') doRelease();
  });
  rl.on('close', doRelease);
}

main().catch((err) => {
  process.stderr.write(`lock-hold: ${err && err.stack ? err.stack : err}\n`);
  finish((err && err.code) || 'ERROR', 3);
});
