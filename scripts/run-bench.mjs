// Runs every benchmark, one after another, with `node --import tsx`; exits non-zero if one fails.
// A benchmark is bench/<name>.ts with a `bench:<name>` script in package.json (so each one can
// also be run alone with `npm run bench:<name>`); other files in bench/ are helpers (e.g. the load
// generator) and are not run. A script `bench:<name>:<variant>` runs a benchmark another way (e.g.
// `bench:ack:soak`, a long soak) and is left to be run by hand. Arguments select benchmarks by
// name: `npm run bench -- ack`.
// This script writes its own lines to stderr, so stdout is only the benchmarks' output and its
// last line stays the last benchmark's JSON summary.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const { scripts = {} } = JSON.parse(readFileSync('package.json', 'utf8'));
const registered = Object.keys(scripts)
  .filter((key) => /^bench:[^:]+$/.test(key))
  .map((key) => key.slice('bench:'.length))
  .sort();

const missing = registered.filter((name) => !existsSync(join('bench', `${name}.ts`)));
if (missing.length > 0) {
  console.error(`run-bench: package.json names benchmarks with no bench/<name>.ts: ${missing.join(', ')}`);
  process.exit(1);
}

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !registered.includes(name));
if (unknown.length > 0) {
  console.error(`run-bench: unknown benchmark ${unknown.join(', ')} (known: ${registered.join(', ')})`);
  process.exit(1);
}
const selected = requested.length > 0 ? requested : registered;
const helpers = readdirSync('bench')
  .filter((file) => file.endsWith('.ts') && !registered.includes(file.slice(0, -'.ts'.length)))
  .sort();
if (helpers.length > 0) console.error(`run-bench: helpers, not run: ${helpers.join(', ')}`);

const results = [];
for (const name of selected) {
  console.error(`\nrun-bench: ${name} (bench/${name}.ts)`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', join('bench', `${name}.ts`)], { stdio: 'inherit' });
  const status = result.status ?? 1;
  results.push({ name, status, seconds: (Date.now() - started) / 1000, signal: result.signal });
}

console.error('\nrun-bench summary:');
for (const r of results) {
  const outcome = r.status === 0 ? 'ok' : `FAILED (${r.signal ? `signal ${r.signal}` : `exit ${r.status}`})`;
  console.error(`  ${r.name.padEnd(12)} ${outcome.padEnd(20)} ${r.seconds.toFixed(1)} s`);
}
process.exit(results.every((r) => r.status === 0) ? 0 : 1);
