#!/usr/bin/env node
// Probe a proper-lockfile lock the way another Node client would see it.
//
// usage: node lock-check.cjs <targetFile> <staleMs>
//
// Prints exactly one JSON line on stdout:
//   {"checkLocked":true|false|null,"lockError":null|"ELOCKED"|"<code>","checkError":null|"<code>"}
// checkLocked: result of lockfile.check(target, { stale, realpath: true }) (null if check itself failed,
//              then checkError holds the error code, e.g. ENOENT when the target file does not exist).
// lockError:   null if lockfile.lock(target, { stale, realpath: true, retries: 0 }) succeeded (the lock is
//              released again at once), otherwise the error code (ELOCKED when held and not stale).
// Note: a successful lock attempt removes a stale lock directory as a side effect (that is how
// proper-lockfile takes over stale locks). The target file is NOT created.
// Exit 0 when the JSON line was printed, 2 on bad usage.
'use strict';

const lockfile = require('proper-lockfile');

function usage(msg) {
  if (msg) process.stderr.write(`lock-check: ${msg}\n`);
  process.stderr.write('usage: node lock-check.cjs <targetFile> <staleMs>\n');
  process.exit(2);
}

const [target, staleArg] = process.argv.slice(2);
if (!target || staleArg === undefined) usage();
const stale = Number(staleArg);
if (!Number.isFinite(stale) || stale < 0) usage(`staleMs must be a non-negative number, got '${staleArg}'`);

const codeOf = (err) => (err && (err.code || err.message)) || 'ERROR';

async function main() {
  const result = { checkLocked: null, lockError: null, checkError: null };

  try {
    result.checkLocked = await lockfile.check(target, { stale, realpath: true });
  } catch (err) {
    result.checkError = codeOf(err);
  }

  try {
    const release = await lockfile.lock(target, {
      stale,
      realpath: true,
      retries: 0,
      onCompromised: () => {}, // we release immediately; never throw from the update timer
    });
    try {
      await release();
    } catch (err) {
      process.stderr.write(`lock-check: release failed: ${codeOf(err)}\n`);
    }
  } catch (err) {
    result.lockError = codeOf(err);
  }

  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

main();
