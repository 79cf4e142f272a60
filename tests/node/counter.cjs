#!/usr/bin/env node
// Mutual-exclusion stress client: increments an integer in <counterFile> <rounds> times, each time under
// a proper-lockfile lock on <targetFile>. Run several of these (and/or the C# implementation) at once;
// the final counter must equal the sum of all rounds.
//
// usage: node counter.cjs <targetFile> <counterFile> <rounds> <staleMs>
//
// Each round: lock(target, { stale, realpath: true, retries: { retries: 1000, minTimeout: 5, maxTimeout: 50 } }),
// read the integer in counterFile (0 if missing/empty), write value + 1, unlock.
// stdout: the number of rounds done (one line). Exit 0 on success, 1 on error (message on stderr,
// rounds done so far still printed), 4 if a lock was compromised, 2 on bad usage.
// The target file is created (empty) if missing, because realpath: true requires it.
'use strict';

const fs = require('fs');
const lockfile = require('proper-lockfile');

function usage(msg) {
  if (msg) process.stderr.write(`counter: ${msg}\n`);
  process.stderr.write('usage: node counter.cjs <targetFile> <counterFile> <rounds> <staleMs>\n');
  process.exit(2);
}

const [target, counterFile, roundsArg, staleArg] = process.argv.slice(2);
if (!target || !counterFile || roundsArg === undefined || staleArg === undefined) usage();
const rounds = Number(roundsArg);
const stale = Number(staleArg);
if (!Number.isInteger(rounds) || rounds < 0) usage(`rounds must be a non-negative integer, got '${roundsArg}'`);
if (!Number.isFinite(stale) || stale < 0) usage(`staleMs must be a non-negative number, got '${staleArg}'`);

function readCounter() {
  let text;
  try {
    text = fs.readFileSync(counterFile, 'utf8').trim();
  } catch (err) {
    if (err.code === 'ENOENT') return 0;
    throw err;
  }
  if (text === '') return 0;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new Error(`counter file ${counterFile} holds '${text}', not an integer`);
  return n;
}

let done = 0;
let compromised = null;

function exit(code) {
  process.stdout.write(`${done}\n`, () => process.exit(code));
}

async function main() {
  fs.closeSync(fs.openSync(target, 'a'));

  for (let i = 0; i < rounds; i++) {
    const release = await lockfile.lock(target, {
      stale,
      realpath: true,
      retries: { retries: 1000, minTimeout: 5, maxTimeout: 50 },
      onCompromised: (err) => {
        compromised = err;
      },
    });
    try {
      const value = readCounter();
      // Plain write (not atomic rename): a torn/lost update would show up as a wrong final total.
      fs.writeFileSync(counterFile, `${value + 1}\n`);
    } finally {
      await release().catch((err) => {
        if (!compromised) throw err;
      });
    }
    if (compromised) {
      process.stderr.write(`counter: lock compromised in round ${i + 1}: ${compromised.message}\n`);
      return exit(4);
    }
    done++;
  }
  exit(0);
}

main().catch((err) => {
  process.stderr.write(`counter: ${err && err.code ? err.code + ': ' : ''}${err && err.message}\n`);
  exit(1);
});
