import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The survey key: the secret behind the pulse pseudonyms and the sealed feedback authors. It is
 * kept outside the database, so a copy of the database (a backup, a `sqlite3` session) links no
 * answer and names no author. Read from `SLIPWAY_SURVEY_KEY` (base64 or hex, 32 bytes or more) or
 * from a key file (`SLIPWAY_SURVEY_KEY_FILE`, by default `survey.key` next to the database),
 * which is made at random on first start.
 */

export interface SurveyKey {
  key: Buffer;
  /** Where it came from: `SLIPWAY_SURVEY_KEY` or the file's path. */
  source: string;
  /** True when this call made the key file. */
  created: boolean;
}

export const SURVEY_KEY_BYTES = 32;

/** The key file used when `SLIPWAY_SURVEY_KEY_FILE` is not set: next to the database. */
export function defaultSurveyKeyFile(databasePath: string): string {
  return join(dirname(resolve(databasePath)), 'survey.key');
}

function decode(text: string, what: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length % 2 === 0 ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length < SURVEY_KEY_BYTES) {
    throw new Error(`${what} must hold at least ${SURVEY_KEY_BYTES} random bytes, base64 or hex (e.g. the output of \`openssl rand -base64 32\`)`);
  }
  return key;
}

/** Checks a `SLIPWAY_SURVEY_KEY` value; the problem, or undefined when it is usable. */
export function surveyKeyProblem(value: string): string | undefined {
  try {
    decode(value, 'SLIPWAY_SURVEY_KEY');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Reads the key, or makes the key file when there is none (the caller says so in its log: the
 * file must be backed up, and kept out of database backups). A database at `:memory:` without a
 * configured key gets a key that lives as long as the process.
 */
export function loadSurveyKey(input: { databasePath: string; key?: string | undefined; file?: string | undefined }): SurveyKey {
  if (input.key) return { key: decode(input.key, 'SLIPWAY_SURVEY_KEY'), source: 'SLIPWAY_SURVEY_KEY', created: false };
  if (!input.file && input.databasePath === ':memory:') return { key: randomBytes(SURVEY_KEY_BYTES), source: 'memory', created: false };
  const file = resolve(input.file ?? defaultSurveyKeyFile(input.databasePath));
  try {
    return { key: decode(readFileSync(file, 'utf8'), `The survey key file ${file}`), source: file, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(file), { recursive: true });
  try {
    // `wx`: never overwrite a key another process made a moment ago; readable by the owner only.
    writeFileSync(file, `${randomBytes(SURVEY_KEY_BYTES).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { key: decode(readFileSync(file, 'utf8'), `The survey key file ${file}`), source: file, created: false };
  }
  return { key: decode(readFileSync(file, 'utf8'), `The survey key file ${file}`), source: file, created: true };
}

/** The log line for a key file made at first start. */
export function surveyKeyCreatedMessage(file: string): string {
  return (
    `made a new survey key in ${file}: back it up, and keep it out of database backups (a database copy together ` +
    'with this key can link answers of open pulses and name feedback authors). Without it, open pulses lose track ' +
    'of who answered and replies can no longer be passed on. To keep it elsewhere, set SLIPWAY_SURVEY_KEY or SLIPWAY_SURVEY_KEY_FILE.'
  );
}

/** A key for one purpose, derived from the survey key: `pulse` for pseudonyms, `author` for sealed authors. */
export type Subkey = (purpose: 'pulse' | 'author') => Buffer;

/** Derives the keys for each purpose from the survey key, which is read on first use. */
export function subkeys(surveyKey: () => Buffer): Subkey {
  let key: Buffer | undefined;
  return (purpose) =>
    createHmac('sha256', (key ??= surveyKey()))
      .update(`slipway:${purpose}`)
      .digest();
}
