import type { Db } from '../db.ts';

/** The SQL behind muting (db/0004_surveys.sql): who turned survey questions by DM off (`/platform surveys off`). */
export class MuteStore {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      // `user` is a reserved word in PostgreSQL (the current role): the column is always quoted.
      mute: db.prepare('INSERT INTO survey_mutes ("user", muted_at) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      unmute: db.prepare('DELETE FROM survey_mutes WHERE "user" = ?'),
      isMuted: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM survey_mutes WHERE "user" = ?'),
    };
  }

  async setMuted(user: string, muted: boolean, now: Date): Promise<void> {
    if (muted) await this.stmts.mute.run(user, now.toISOString());
    else await this.stmts.unmute.run(user);
  }

  async isMuted(user: string): Promise<boolean> {
    return ((await this.stmts.isMuted.get(user))?.n ?? 0) > 0;
  }
}
