import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A PostgreSQL server of its own for a test: `initdb` on a temporary directory, `pg_ctl start` on
 * a free port of 127.0.0.1 (no Unix socket, no other listener), stopped and removed by `stop()`.
 * Never a shared server. The binaries come from Debian's `postgresql` package
 * (/usr/lib/postgresql/<version>/bin; `.ci/run` installs it when absent). PostgreSQL refuses to
 * run as root: as root, the server runs as the `postgres` user (or `nobody`) with `setpriv`.
 */
export interface TestPostgres {
  /** `postgres://…` for the database `slipway` on the server. */
  url: string;
  port: number;
  /** The server's data directory (its postmaster.pid names the server process). */
  dataDir: string;
  /** The server's log file. */
  logPath: string;
  stop(): void;
}

/** The newest installed PostgreSQL's bin directory, or undefined when none is installed. */
export function postgresBin(root = '/usr/lib/postgresql'): string | undefined {
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(root, versions[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The account the server runs as when this process is root. */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const found = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    if (found.status !== 0) continue;
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    return { uid: Number(found.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error('running as root, and neither a postgres nor a nobody account exists to run PostgreSQL as');
}

/** `settings`: more server settings (`-c name=value`), e.g. a benchmark's `shared_preload_libraries`. */
export async function startPostgres(settings: Record<string, string> = {}): Promise<TestPostgres> {
  const bin = postgresBin();
  // Never skipped: a test that needs PostgreSQL fails here, naming the package to install.
  if (!bin) throw new Error('PostgreSQL is not installed (no initdb and pg_ctl under /usr/lib/postgresql/*/bin): apt-get install postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'slipway-pg-'));
  const data = join(dir, 'data');
  const account = serverAccount();
  if (account) chownSync(dir, account.uid, account.gid);
  const run = (program: string, args: string[]) => {
    const command = account
      ? ['setpriv', [`--reuid=${account.uid}`, `--regid=${account.gid}`, '--clear-groups', join(bin, program), ...args]]
      : [join(bin, program), args];
    execFileSync(command[0] as string, command[1] as string[], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  run('initdb', ['-D', data, '-U', 'slipway', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  // Only TCP on 127.0.0.1 (no Unix socket directory to share), no fsync: a test's server.
  const extra = Object.entries(settings).map(([name, value]) => ` -c ${name}=${value}`);
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories='' -c fsync=off -c full_page_writes=off${extra.join('')}`;
  const logPath = join(dir, 'server.log');
  run('pg_ctl', ['-D', data, '-l', logPath, '-o', options, '-w', '-t', '30', 'start']);
  const stop = () => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'slipway', 'slipway']);
  } catch (err) {
    stop();
    throw err;
  }
  return { url: `postgres://slipway@127.0.0.1:${port}/slipway`, port, dataDir: data, logPath, stop };
}
