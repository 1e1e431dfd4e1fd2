import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeConfig } from './support/bot-process.ts';
import { runCli, type CliResult } from './support/cli.ts';
import { exampleConfigDocument } from './support/config.ts';
import { freshPostgresDatabase } from './support/stores.ts';
import { Store } from '../src/store/store.ts';

const ROOT = new URL('..', import.meta.url).pathname;

/** The entries of one section of commander's help (`Options:`, `Commands:`): each entry's first column. */
function helpSection(help: string, title: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(`${title}:`);
  if (start === -1) return [];
  const entries: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    // An entry starts two spaces in; deeper lines continue the description above them.
    const entry = /^ {2}(\S.*?)(?: {2,}|$)/.exec(line);
    if (entry?.[1]) entries.push(entry[1]);
  }
  return entries;
}

interface HelpNode {
  path: string;
  help: CliResult;
  options: string[];
}

/** Every command and subcommand as the CLI's own help lists them, with the long options of each. */
async function helpTree(): Promise<HelpNode[]> {
  const nodes: HelpNode[] = [];
  let level = [''];
  while (level.length > 0) {
    const helps = await Promise.all(level.map((path) => runCli([...path.split(' ').filter(Boolean), '--help'])));
    const next: string[] = [];
    level.forEach((path, i) => {
      const help = helps[i] as CliResult;
      const options = helpSection(help.stdout, 'Options')
        .flatMap((o) => /--[a-z][a-z-]*/.exec(o)?.[0] ?? [])
        .filter((o) => o !== '--help');
      nodes.push({ path, help, options });
      for (const entry of helpSection(help.stdout, 'Commands')) {
        const name = entry.split(' ')[0] ?? '';
        if (name !== 'help') next.push(`${path} ${name}`.trim());
      }
    });
    level = next;
  }
  return nodes;
}

/** The README's CLI table: each row's command path (words before the first option or placeholder) and its options. */
function readmeCommands(): { path: string; options: string[] }[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## CLI\n'), readme.indexOf('\n## ', readme.indexOf('\n## CLI\n') + 1));
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => {
    const cell = m[1] ?? '';
    const words: string[] = [];
    for (const word of cell.split(' ')) {
      if (!/^[a-z][a-z-]*$/.test(word)) break;
      words.push(word);
    }
    return { path: words.join(' '), options: [...cell.matchAll(/--[a-z][a-z-]*/g)].map((o) => o[0]) };
  });
}

test('every command and subcommand answers --help (exit 0, usage on stdout, nothing run), and the README table lists exactly them and their options', async () => {
  const tree = await helpTree();
  const paths = tree.map((n) => n.path);
  for (const expected of ['serve', 'migrate', 'doctor', 'render', 'digest', 'jobs', 'jobs run', 'survey', 'survey open', 'survey close']) {
    assert.ok(paths.includes(expected), `help lists ${expected} (found: ${paths.join(', ')})`);
  }
  for (const node of tree) {
    // No environment at all: a command that ran (doctor, serve) would fail on the missing token.
    assert.equal(node.help.code, 0, `slipway ${node.path} --help: ${node.help.stderr}`);
    assert.equal(node.help.stderr, '', `slipway ${node.path} --help writes nothing to stderr`);
    assert.match(node.help.stdout, new RegExp(`^Usage: slipway ${node.path ? `${node.path} ` : ''}\\[options\\]`), `slipway ${node.path} --help`);
  }

  const rows = readmeCommands();
  const commands = tree.filter((n) => n.path !== '');
  for (const row of rows) assert.ok(paths.includes(row.path), `README row "${row.path}" is a command the CLI knows`);
  for (const node of commands) {
    const inReadme = rows.filter((r) => r.path === node.path);
    // A command that only groups others (survey) is covered by their rows.
    const grouped = rows.some((r) => r.path.startsWith(`${node.path} `)) && node.options.length === 0;
    assert.ok(inReadme.length > 0 || grouped, `the README's CLI table has a row for ${node.path}`);
    if (inReadme.length === 0) continue;
    const documented = [...new Set(inReadme.flatMap((r) => r.options))].sort();
    assert.deepEqual(documented, [...node.options].sort(), `options of ${node.path}: README against --help`);
  }

  const top = tree.find((n) => n.path === '');
  assert.ok(top);
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const cliSection = readme.slice(readme.indexOf('\n## CLI\n'), readme.indexOf('\n## Provisioning'));
  for (const option of top.options) assert.ok(cliSection.includes(`\`${option}\``), `README's CLI section mentions ${option}`);

  // `slipway help render` is `slipway render --help`.
  const render = tree.find((n) => n.path === 'render');
  const viaHelp = await runCli(['help', 'render']);
  assert.equal(viaHelp.code, 0);
  assert.equal(viaHelp.stdout, render?.help.stdout);
});

test('slipway --version prints the version in package.json', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const out = await runCli([flag]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `${version}\n`);
  }
});

test('a command line that is not understood: one line saying what (and the usage for an unknown command or option), exit 2, no stack trace', async () => {
  const unknownOption = await runCli(['render', '--bogus']);
  assert.equal(unknownOption.code, 2);
  assert.equal(unknownOption.stdout, '');
  assert.match(unknownOption.stderr, /^error: unknown option '--bogus'\n\nUsage: slipway render \[options\]\n[\s\S]*--team <team>/);

  const unknownCommand = await runCli(['frobnicate']);
  assert.equal(unknownCommand.code, 2);
  assert.match(unknownCommand.stderr, /^error: unknown command 'frobnicate'\n\nUsage: slipway \[options\] \[command\]\n[\s\S]*\n {2}digest/);

  const missingArgument = await runCli(['jobs', 'run']);
  assert.equal(missingArgument.code, 2);
  assert.match(missingArgument.stderr, /^error: missing required argument 'name'\n\nUsage: slipway jobs run \[options\] <name>/);

  // Missing or invalid values: the one line says it all.
  const oneLine: [string[], RegExp][] = [
    [['render', '--team', 'payments', '--tier', 'small'], /^error: render needs --env, --name\n$/],
    [['digest', '--week', 'someday'], /^error: option '--week <week>' argument 'someday' is invalid\. Expected current, last or a date \(YYYY-MM-DD\)\.\n$/],
    [['digest', '--week', '2026-02-30', '--dry-run'], /^error: option '--week <week>' argument '2026-02-30' is invalid\./],
    [['digest', '--week'], /^error: option '--week <week>' argument missing\n$/],
    [['digest', '--chart', 'out.png'], /^error: --chart only goes with --dry-run \(a posted digest uploads its chart to Slack\)\.\n$/],
    [
      ['jobs', 'run', 'nope'],
      /^error: command-argument value 'nope' is invalid for argument 'name'\. Allowed choices are digest, usage-refresh, survey-open, survey-close, survey-remind, lifecycle, drift\.\n$/,
    ],
  ];
  const results = await Promise.all(oneLine.map(([args]) => runCli(args)));
  oneLine.forEach(([args, expected], i) => {
    const out = results[i] as CliResult;
    assert.equal(out.code, 2, `slipway ${args.join(' ')}: ${out.stderr}`);
    assert.match(out.stderr, expected, `slipway ${args.join(' ')}`);
    assert.equal(out.stderr.trimEnd().split('\n').length, 1, `slipway ${args.join(' ')}: one line`);
  });
});

test('the jobs `jobs run` offers are the jobs `slipway jobs` lists', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
  const env = { DATABASE_PATH: join(dir, 'slipway.db'), SLIPWAY_CONFIG: writeConfig(dir, exampleConfigDocument()) };
  const [list, help] = await Promise.all([runCli(['jobs'], env), runCli(['jobs', 'run', '--help'])]);
  assert.equal(list.code, 0, list.stderr);
  const listed = [...list.stdout.matchAll(/^([a-z-]+) {2,}/gm)].map((m) => m[1]);
  const offered = [...(/\(choices: ([^)]*)\)/.exec(help.stdout.replace(/\s+/g, ' '))?.[1] ?? '').matchAll(/"([a-z-]+)"/g)].map((m) => m[1]);
  assert.ok(listed.length >= 5, list.stdout);
  assert.deepEqual(offered, listed);
});

test('slipway migrate with DATABASE_URL migrates PostgreSQL, and names the database without its password', async () => {
  const url = new URL(await freshPostgresDatabase());
  url.password = 'hunter2';
  const out = await runCli(['migrate'], { DATABASE_URL: url.toString() });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.trim(), `Database ${url.toString().replace(':hunter2@', ':***@')} is up to date.`);
  assert.doesNotMatch(out.stdout + out.stderr, /hunter2/);
  const store = await Store.open(url.toString());
  try {
    assert.equal(await store.isReady(), true);
    assert.equal(await store.sql.prepare('SELECT count(*) FROM requests').pluck().get(), 0);
  } finally {
    await store.close();
  }
});
