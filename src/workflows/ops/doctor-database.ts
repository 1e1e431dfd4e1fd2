import { errorMessage } from '../../errors.ts';
import { isPostgresUrl, redactUrl } from '../../lib/database-url.ts';
import { inspectDatabase } from '../../store/store.ts';
import type { DoctorDeps, DoctorLine } from './doctor-lines.ts';

const AREA = 'database';

/** The database in words an operator recognises: the SQLite file, or PostgreSQL's host and database (never the password). */
export function describeDatabase(target: string): string {
  if (!isPostgresUrl(target)) return `SQLite file ${target}`;
  try {
    const url = new URL(target);
    const user = url.username ? ` as ${decodeURIComponent(url.username)}${url.password ? ' (password hidden)' : ''}` : '';
    return `PostgreSQL database ${decodeURIComponent(url.pathname.slice(1))} on ${url.host}${user}`;
  } catch {
    return `PostgreSQL at ${redactUrl(target)}`;
  }
}

/** Which database Slipway uses (DATABASE_URL or DATABASE_PATH), and whether every migration in `db/` is applied; nothing is changed. */
export async function checkDatabase(deps: DoctorDeps): Promise<DoctorLine[]> {
  const engine: DoctorLine = { area: AREA, check: 'engine', verdict: 'ok', detail: describeDatabase(deps.database) };
  const status = await inspectDatabase(deps.database);
  const line = (verdict: DoctorLine['verdict'], detail: string): DoctorLine[] => [engine, { area: AREA, check: 'migrations', verdict, detail }];
  switch (status.state) {
    case 'migrated':
      return line('ok', `all ${status.applied} applied`);
    case 'behind':
      return line(
        'warn',
        `${status.pending.length} not applied yet (${status.pending.join(', ')}): Slipway applies them when it starts, or run slipway migrate`,
      );
    case 'missing':
      return line('warn', 'the file does not exist yet: Slipway makes it and applies the migrations when it starts');
    case 'unreachable':
      return [
        { ...engine, verdict: 'fail' },
        { area: AREA, check: 'migrations', verdict: 'fail', detail: `could not read it: ${redactUrl(errorMessage(status.error))}` },
      ];
  }
}
