#!/usr/bin/env node
/**
 * The `slipway` command line: commands, options and help with commander; the work itself is in
 * modules loaded only when a command runs, so `--help` and `--version` answer at once.
 *
 * Exit codes: 0 done (and `--help`, `--version`), 1 the command failed (doctor found a problem, a
 * job failed, the config is invalid), 2 the command line is wrong (unknown command or option,
 * missing or invalid value): one line saying what, plus the usage where the line itself is unknown.
 */
import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { RenderOptions } from './cli/actions.ts';
import type { DemoCommandOptions } from './cli/demo.ts';
import { SlipwayError } from './errors.ts';
import { JOB_NAMES } from './jobs/names.ts';
import { parseWeekChoice, WEEK_CHOICES, type WeekChoice } from './lib/calendar.ts';

const ENVIRONMENT = `
Environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN (Socket Mode), SLACK_API_URL,
PORT (3000), SLIPWAY_CONFIG (./slipway.config.yaml), DATABASE_PATH (./data/slipway.db), DATABASE_URL
(postgres://…: PostgreSQL instead of SQLite), LOG_LEVEL.
Without a command, slipway runs serve.`;

/** Errors after which the whole usage of the command helps: the command line itself was not understood. */
const SHOW_USAGE = new Set(['commander.unknownOption', 'commander.unknownCommand', 'commander.excessArguments', 'commander.missingArgument']);

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('Expected a port number (0 to 65535).');
  return port;
}

function weekChoice(value: string): WeekChoice {
  const choice = parseWeekChoice(value);
  if (!choice) throw new InvalidArgumentError(`Expected ${WEEK_CHOICES}.`);
  return choice;
}

const actions = () => import('./cli/actions.ts');
const jobCommands = () => import('./cli/jobs.ts');

function buildProgram(): Command {
  const program = new Command('slipway')
    .description('Self-serve Kubernetes namespaces from Slack, with approvals, adoption metrics and pulse surveys.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show the options of a command')
    .helpCommand('help [command]', 'show the help of a command')
    .addHelpText('after', ENVIRONMENT);

  program
    .command('serve')
    .description('run the bot (the default; what `npm start` runs)')
    .action(async () => (await actions()).serve());

  program
    .command('demo')
    .description('try Slipway in the browser: the bot with an embedded Slack workspace and cluster, on 127.0.0.1 (prints one URL)')
    .option('--config <path>', 'rehearse this config (default: the example config)')
    .option('--kubeconfig <path>', 'use this real cluster instead of the embedded one (every configured cluster goes there)')
    .option('--context <context>', "the kubeconfig context to use (default: each cluster's own; with no --kubeconfig, $KUBECONFIG or ~/.kube/config)")
    .addOption(new Option('--port <port>', "the page's port on 127.0.0.1 (0: any free port)").default(3100).argParser(portNumber))
    .action(async (options: DemoCommandOptions) => (await import('./cli/demo.ts')).demo(options));

  program
    .command('migrate')
    .description('apply database migrations and exit')
    .action(async () => (await actions()).migrate());

  program
    .command('doctor')
    .description('check the config, Slack (token, scopes, channels) and each cluster (reachable, version, RBAC); exits 1 when something is missing')
    .action(async () => (await actions()).doctor());

  program
    .command('render')
    .description('print the manifests a request would get, as YAML')
    .option('--team <team>', 'the team that owns it (required)')
    .option('--env <environment>', 'its environment (required)')
    .option('--tier <tier>', 'its size tier (required)')
    .option('--name <name>', 'the namespace name (required)')
    .option('--cluster <cluster>', 'render for this cluster (default: the first for the environment)')
    .option('--requester <user>', 'the Slack user id recorded as requester')
    .option('--purpose <text>', 'the purpose annotation')
    .option('--expires <YYYY-MM-DD>', 'the expiry annotation')
    .option('--config <path>', 'use another config file (default: $SLIPWAY_CONFIG)')
    .action(async (options: RenderOptions) => (await actions()).render(options));

  program
    .command('digest')
    .description("post a week's adoption digest to the platform channel now (needs SLACK_BOT_TOKEN)")
    .addOption(
      new Option('--week <week>', 'which week: current (so far), last (the last complete one) or the week containing a date YYYY-MM-DD')
        .default('last')
        .argParser(weekChoice),
    )
    .option('--dry-run', 'print the digest here instead (config and database only, no Slack)')
    .option('--chart <path>', 'with --dry-run: also write the chart PNG to this file')
    .action(async (options: { week: WeekChoice; dryRun?: boolean; chart?: string }) => {
      const [{ digestCommand }, { commandContext }] = await Promise.all([jobCommands(), actions()]);
      await digestCommand(options, commandContext);
    });

  const jobs = program
    .command('jobs')
    .description('list the scheduled jobs with their last and next run')
    .action(async () => {
      const [{ listJobs }, { commandContext }] = await Promise.all([jobCommands(), actions()]);
      await listJobs(commandContext);
    });
  jobs
    .command('run')
    .description('run a job now (recorded as a manual run)')
    .addArgument(new Argument('<name>', 'the job').choices(JOB_NAMES))
    .action(async (name: string) => {
      const [{ runJob }, { commandContext }] = await Promise.all([jobCommands(), actions()]);
      await runJob(name, commandContext);
    });

  program
    .command('drift')
    .description('compare every managed namespace with what the golden path renders today and print the differences (changes nothing)')
    .addArgument(new Argument('[namespace]', 'only this namespace'))
    .option('--json', 'print the report as one JSON object')
    .action(async (namespace: string | undefined, options: { json?: boolean }) => {
      const [{ driftCommand }, { commandContext }] = await Promise.all([import('./cli/drift.ts'), actions()]);
      await driftCommand(namespace, options, commandContext);
    });

  const survey = program.command('survey').description('open or close the pulse survey now');
  survey
    .command('open')
    .description("open this week's pulse survey now (or post it where it was missed)")
    .action(async () => runSurvey('open'));
  survey
    .command('close')
    .description('close the open pulse now and post its results')
    .action(async () => runSurvey('close'));

  // Every command throws instead of exiting, so main() chooses the exit code; a command line that
  // was not understood is followed by that command's usage.
  const each = (command: Command) => {
    command.exitOverride((err) => {
      if (SHOW_USAGE.has(err.code)) process.stderr.write(`\n${command.helpInformation()}`);
      throw err;
    });
    command.commands.forEach(each);
  };
  each(program);
  return program;
}

async function runSurvey(sub: 'open' | 'close'): Promise<void> {
  const [{ surveyCommand }, { commandContext }] = await Promise.all([import('./cli/surveys.ts'), actions()]);
  await surveyCommand(sub, commandContext);
}

async function main(argv: string[]): Promise<void> {
  try {
    // No command runs the bot, as the container image and `npm start` always have.
    await buildProgram().parseAsync(argv.length > 0 ? argv : ['serve'], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed the help, the version or the error already.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof SlipwayError && err.code === 'usage') {
      console.error(`error: ${err.userMessage}`);
      process.exit(2);
    }
    console.error(err instanceof SlipwayError ? err.userMessage : err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  }
}

// Output piped into `head` and the like: a closed pipe ends the command quietly, as it does for other tools.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

await main(process.argv.slice(2));
