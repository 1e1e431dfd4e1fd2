// Runs every test file under test/ with node's built-in runner. Node 20 does not expand globs
// itself, so the file list is built here; extra arguments are passed through (e.g. a file path).
// A skipped test fails the run: every test must run on every machine (CI's included).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const args = process.argv.slice(2);
const files = args.length > 0 ? args : findTests('test').sort();
const dir = mkdtempSync(join(tmpdir(), 'slipway-tests-'));
const skippedFile = join(dir, 'skipped.txt');
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    // The runner's own default (spec on a terminal, TAP otherwise), plus the list of skipped tests.
    `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
    '--test-reporter-destination=stdout',
    `--test-reporter=${pathToFileURL(join(import.meta.dirname, 'skipped-tests-reporter.mjs')).href}`,
    `--test-reporter-destination=${skippedFile}`,
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' } },
);
let skipped = '';
try {
  skipped = readFileSync(skippedFile, 'utf8');
} catch {
  // No file: the runner did not get as far as reporting.
}
rmSync(dir, { recursive: true, force: true });
if (skipped) {
  process.stderr.write(`\nSkipped tests fail the run (a test must run on every machine):\n${skipped}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
