#!/usr/bin/env node
// Run a one-step OpenFn job with the real @openfn/runtime, loading the adaptor from a repo directory.
//
// usage:
//   node --experimental-vm-modules run-job.mjs <repoDir> <adaptorName> <adaptorVersion> <expressionFile> <initialStateJson>
//
//   <initialStateJson>  JSON text (e.g. '{"data":{}}'), '' for {}, or @path to read it from a file.
//
// The runtime resolves the adaptor through its linker with { repo: <repoDir> }:
//   <repoDir>/package.json must list the alias "<adaptorName>_<adaptorVersion>" under "dependencies"
//   (the runtime looks the alias up there before touching node_modules), and the package must sit in
//   <repoDir>/node_modules/<adaptorName>_<adaptorVersion>/ with a package.json. Its entry point is
//   exports (string) / exports["."] (string) / exports["."].import / main / index.js, loaded with import(),
//   so a CommonJS adaptor (main: index.js, exports.fn = ...) works as well as an ESM one.
//   Runtime behaviour worth knowing: alias not listed (or no repo package.json) -> ImportError, exit 1;
//   alias listed but its folder/package.json missing -> ENOENT reported as a JobError in state.errors, exit 3.
//   Only the key of the dependencies entry is checked, not its value.
//
// <expressionFile> may be either
//   * compiled job code, i.e. an ES module with `export default [op, op, ...]` that imports from the bare
//     adaptor name (what @openfn/compiler emits), passed to the runtime verbatim; or
//   * job DSL (`fn(state => state);` ...), which this script compiles the way the CLI does: every
//     top-level expression statement becomes one operation, adaptor exports used by the code are imported,
//     `export * from '<adaptorName>'` is added (so the adaptor's own `execute` is used if it has one), and
//     top-level declarations/imports are kept as module code. (@openfn/compiler could not be installed
//     from the registry used here - it answers 404 - hence this small stand-in.)
//
// Output: the final state as one JSON line, which is the last (and only) line on stdout. Job console
// output and diagnostics go to stderr.
// Exit codes: 0 success; 3 the job failed but the runtime returned a state (state.errors is set; the state
// is still printed); 1 the runtime threw (import error, syntax/reference error, timeout...); 2 bad usage.
// Environment: RUN_JOB_DEBUG=1 logs runtime debug output (and the compiled job) to stderr;
//              RUN_JOB_TIMEOUT_MS=<n> sets the runtime's step timeout.

import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { Console } from 'node:console';
import { pathToFileURL } from 'node:url';
import run, { getModuleEntryPoint } from '@openfn/runtime';

const USAGE =
  'usage: node --experimental-vm-modules run-job.mjs <repoDir> <adaptorName> <adaptorVersion> <expressionFile> <initialStateJson>';

const debug = /^(1|true|yes)$/i.test(process.env.RUN_JOB_DEBUG ?? '');
const stderrConsole = new Console({ stdout: process.stderr, stderr: process.stderr });

function fail(message, code) {
  process.stderr.write(`run-job: ${message}\n`);
  process.exit(code);
}

// ---------------------------------------------------------------------------------------------
// Job DSL -> compiled module

// Replace comments with spaces (newlines kept), aware of strings, template literals and regex literals.
export function stripComments(src) {
  const out = src.split('');
  const blank = (from, to) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n' && out[k] !== '\r') out[k] = ' ';
  };
  const REGEX_AFTER_WORD = new Set([
    'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else',
    'yield', 'await',
  ]);
  const templateStack = []; // per open `${`: number of unclosed `{` inside it
  let lastSig = ''; // last significant code character
  let lastWord = '';
  let i = 0;
  const n = src.length;

  const skipString = (quote) => {
    i++;
    while (i < n && src[i] !== quote) {
      if (src[i] === '\\') i++;
      else if (src[i] === '\n') break; // unterminated; let the parser report it
      i++;
    }
    i++;
  };
  // Scan template text from i (just after ` or }); returns when ` closes or ${ opens.
  const scanTemplate = () => {
    while (i < n) {
      const c = src[i];
      if (c === '\\') {
        i += 2;
      } else if (c === '`') {
        i++;
        lastSig = '`';
        lastWord = '';
        return;
      } else if (c === '$' && src[i + 1] === '{') {
        i += 2;
        templateStack.push(0);
        lastSig = '{';
        lastWord = '';
        return;
      } else {
        i++;
      }
    }
  };

  while (i < n) {
    const c = src[i];
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      const start = i;
      while (i < n && src[i] !== '\n') i++;
      blank(start, i);
    } else if (c === '/' && next === '*') {
      const start = i;
      const end = src.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
      blank(start, i);
    } else if (c === '"' || c === "'") {
      skipString(c);
      lastSig = c;
      lastWord = '';
    } else if (c === '`') {
      i++;
      scanTemplate();
    } else if (c === '/') {
      const regexAllowed = lastSig === '' || '(,=:[!&|?{};+-*%<>~^'.includes(lastSig) || REGEX_AFTER_WORD.has(lastWord);
      if (regexAllowed) {
        i++;
        let inClass = false;
        while (i < n && src[i] !== '\n') {
          if (src[i] === '\\') i++;
          else if (src[i] === '[') inClass = true;
          else if (src[i] === ']') inClass = false;
          else if (src[i] === '/' && !inClass) break;
          i++;
        }
        i++;
        while (i < n && /[a-z]/i.test(src[i])) i++; // flags
        lastSig = '/';
        lastWord = '';
      } else {
        i++;
        lastSig = '/';
        lastWord = '';
      }
    } else if (c === '{') {
      if (templateStack.length) templateStack[templateStack.length - 1]++;
      i++;
      lastSig = c;
      lastWord = '';
    } else if (c === '}') {
      if (templateStack.length && templateStack[templateStack.length - 1] === 0) {
        templateStack.pop();
        i++;
        scanTemplate();
      } else {
        if (templateStack.length) templateStack[templateStack.length - 1]--;
        i++;
        lastSig = c;
        lastWord = '';
      }
    } else if (/[A-Za-z_$0-9]/.test(c)) {
      const start = i;
      while (i < n && /[A-Za-z_$0-9]/.test(src[i])) i++;
      lastWord = src.slice(start, i);
      lastSig = 'a';
    } else if (/\s/.test(c)) {
      i++;
    } else {
      lastSig = c;
      lastWord = '';
      i++;
    }
  }
  return out.join('');
}

const parsesAsExpression = (code) => {
  try {
    new vm.Script(`(${code}\n)`);
    return true;
  } catch {
    return false;
  }
};

const parsesAsModule = (code) => {
  try {
    new vm.SourceTextModule(code);
    return true;
  } catch {
    return false;
  }
};

const DECLARATION = /^(const|let|var|function|async\s+function|class|if|for|while|do|switch|try|throw)\b/;

// Kind of a complete top-level chunk, or null if it is not (yet) complete.
function classify(chunk) {
  if (/^import\s*[{*'"\w]/.test(chunk) && !/^import\s*[.(]/.test(chunk)) {
    return parsesAsModule(chunk) ? 'module' : null;
  }
  if (/^export\b/.test(chunk) || DECLARATION.test(chunk)) {
    return parsesAsModule(chunk) ? 'module' : null;
  }
  if (parsesAsExpression(chunk)) return 'operation';
  return parsesAsModule(chunk) ? 'module' : null;
}

// Would JavaScript continue the statement on the next line (no automatic semicolon)?
function continuesOnNextLine(code, from) {
  const rest = code.slice(from).replace(/^\s+/, '');
  if (rest === '') return false;
  if (/^(\+\+|--)/.test(rest)) return false;
  if (/^(instanceof|in)\b/.test(rest)) return true;
  return '.([`,?:+-*/%&|^=<>'.includes(rest[0]);
}

export function splitTopLevel(code) {
  const parts = [];
  let start = 0;
  for (let b = 0; b <= code.length; b++) {
    if (b < code.length && code[b] !== ';' && code[b] !== '\n') continue;
    const text = code.slice(start, b).trim();
    if (text === '') {
      start = b + 1;
      continue;
    }
    const kind = classify(text);
    if (!kind) continue;
    if (code[b] === '\n' && continuesOnNextLine(code, b + 1)) continue;
    parts.push({ kind, text });
    start = b + 1;
  }
  const rest = code.slice(start).trim();
  if (rest) {
    // Let V8 produce a proper error message for the unparseable tail.
    try {
      new vm.SourceTextModule(code);
    } catch (e) {
      throw new SyntaxError(`cannot compile job: ${e.message}`);
    }
    throw new SyntaxError(`cannot compile job: cannot split statement: ${rest.slice(0, 200)}`);
  }
  return parts;
}

const RESERVED = new Set(
  ('break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval state').split(' ')
);

export function compileDsl(source, adaptorName, adaptorExports) {
  const code = stripComments(source);
  const parts = splitTopLevel(code);
  const moduleCode = parts.filter((p) => p.kind === 'module').map((p) => p.text);
  const operations = parts.filter((p) => p.kind === 'operation').map((p) => p.text);

  const declared = new Set();
  for (const m of moduleCode) {
    for (const match of m.matchAll(/\b(?:const|let|var|function\*?|class)\s+([A-Za-z_$][\w$]*)/g)) declared.add(match[1]);
    for (const match of m.matchAll(/\bimport\s*\{([^}]*)\}/g)) {
      for (const spec of match[1].split(',')) {
        const local = spec.trim().split(/\s+as\s+/).pop();
        if (local) declared.add(local);
      }
    }
    for (const match of m.matchAll(/\bimport\s+([A-Za-z_$][\w$]*)/g)) declared.add(match[1]);
    for (const match of m.matchAll(/\*\s+as\s+([A-Za-z_$][\w$]*)/g)) declared.add(match[1]);
  }
  const used = (name) => new RegExp(`(?<![\\w$])(?<!(?<!\\.)\\.)${name.replace(/\$/g, '\\$')}(?![\\w$])`).test(code);
  const imports = (adaptorExports ?? []).filter(
    (name) => /^[A-Za-z_$][\w$]*$/.test(name) && !RESERVED.has(name) && !declared.has(name) && used(name)
  );

  const spec = JSON.stringify(adaptorName);
  const lines = [];
  lines.push(imports.length ? `import { ${imports.join(', ')} } from ${spec};` : `import ${spec};`);
  lines.push(`export * from ${spec};`);
  lines.push(...moduleCode.map((m) => (m.endsWith(';') || m.endsWith('}') ? m : `${m};`)));
  lines.push(`export default [\n${operations.map((op) => `  ${op}`).join(',\n')}\n];`);
  return lines.join('\n') + '\n';
}

function isCompiledModule(source) {
  return /(^|[\n;}])\s*export\s+default\b/.test(stripComments(source));
}

// The adaptor's export names, as the runtime's linker will expose them.
async function readAdaptorExports(repoDir, adaptorName, adaptorVersion) {
  const entry = await getModuleEntryPoint(`${adaptorName}@${adaptorVersion}`, undefined, repoDir);
  if (!entry) return null;
  const ns = await import(pathToFileURL(entry.path).href);
  let target = ns;
  if (ns.__esModule && ns.default?.default) target = ns.default.default;
  else if (Object.keys(ns).length === 1 && ns.default && Object.keys(ns.default).length > 0) target = ns.default;
  return Object.keys(target);
}

// Explain the usual causes of an ImportError (the runtime's own message is terse).
function repoHints(repoDir, adaptorName, adaptorVersion) {
  const alias = `${adaptorName}_${adaptorVersion}`;
  const hints = [];
  const manifest = path.join(repoDir, 'package.json');
  try {
    const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    if (!pkg.dependencies || !(alias in pkg.dependencies)) {
      hints.push(`${manifest} does not list "${alias}" under "dependencies" (the runtime requires it)`);
    }
  } catch (e) {
    hints.push(`cannot read ${manifest}: ${e.message}`);
  }
  const modPkg = path.join(repoDir, 'node_modules', alias, 'package.json');
  if (!fs.existsSync(modPkg)) hints.push(`${modPkg} does not exist`);
  return hints;
}

function serializeError(e) {
  if (e === null || typeof e !== 'object') return String(e);
  const out = { name: e.name, message: e.message };
  for (const k of ['severity', 'subtype', 'type', 'code', 'step', 'pos', 'fix', 'details']) {
    if (e[k] !== undefined) out[k] = e[k];
  }
  return JSON.stringify(out);
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 4 || args.length > 5) fail(`expected 5 arguments, got ${args.length}\n${USAGE}`, 2);
  const [repoArg, adaptorName, adaptorVersion, expressionFile, stateArg = ''] = args;

  if (typeof vm.SourceTextModule !== 'function') {
    fail('@openfn/runtime needs vm.SourceTextModule: run node with --experimental-vm-modules', 2);
  }

  const repoDir = path.resolve(repoArg);

  let source;
  try {
    source = fs.readFileSync(expressionFile, 'utf8');
  } catch (e) {
    fail(`cannot read expression file: ${e.message}`, 2);
  }

  let initialState = {};
  try {
    const text = stateArg.startsWith('@') ? fs.readFileSync(stateArg.slice(1), 'utf8') : stateArg;
    if (text.trim() !== '') initialState = JSON.parse(text);
  } catch (e) {
    fail(`bad initial state: ${e.message}`, 2);
  }

  let logger;
  if (debug) {
    const { default: createLogger } = await import('@openfn/logger');
    // @openfn/logger only calls emitter methods that are own properties
    const emitter = {};
    for (const level of ['log', 'info', 'debug', 'warn', 'error']) emitter[level] = (...a) => stderrConsole[level](...a);
    emitter.success = emitter.always = emitter.info;
    logger = createLogger('R/T', { level: 'debug', logger: emitter });
  }

  let expression = source;
  if (!isCompiledModule(source)) {
    let adaptorExports = null;
    try {
      adaptorExports = await readAdaptorExports(repoDir, adaptorName, adaptorVersion);
    } catch (e) {
      // The runtime will fail to import it too and report that properly.
      if (debug) stderrConsole.error(`run-job: could not pre-load adaptor exports: ${e.message}`);
    }
    try {
      expression = compileDsl(source, adaptorName, adaptorExports);
    } catch (e) {
      fail(e.message, 1);
    }
  }
  if (debug) stderrConsole.error(`run-job: compiled job:\n${expression}`);

  const plan = {
    workflow: {
      steps: [{ id: 'job', expression, adaptors: [`${adaptorName}@${adaptorVersion}`] }],
    },
  };
  const timeout = Number(process.env.RUN_JOB_TIMEOUT_MS);
  const options = {
    linker: { repo: repoDir },
    jobLogger: stderrConsole,
    ...(logger ? { logger } : {}),
    ...(Number.isFinite(timeout) && timeout > 0 ? { defaultRunTimeoutMs: timeout } : {}),
  };

  let result;
  try {
    result = await run(plan, initialState, options);
  } catch (e) {
    process.stderr.write(`run-job: job crashed: ${serializeError(e)}\n`);
    if (e && e.name === 'ImportError') {
      for (const h of repoHints(repoDir, adaptorName, adaptorVersion)) process.stderr.write(`run-job: hint: ${h}\n`);
    }
    process.exit(1);
  }

  const json = JSON.stringify(result ?? null);
  let code = 0;
  if (result && typeof result === 'object' && result.errors && Object.keys(result.errors).length) {
    const errorsJson = JSON.stringify(result.errors);
    process.stderr.write(`run-job: job failed: ${errorsJson}\n`);
    if (/ENOENT|Failed to import/.test(errorsJson)) {
      for (const h of repoHints(repoDir, adaptorName, adaptorVersion)) process.stderr.write(`run-job: hint: ${h}\n`);
    }
    code = 3;
  }
  // Exit explicitly: adaptors may keep sockets/timers alive.
  process.stdout.write(`${json}\n`, () => process.exit(code));
}

const invokedDirectly = (() => {
  try {
    return import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();
if (invokedDirectly) main().catch((e) => fail(e && e.stack ? e.stack : String(e), 1));
