import type Database from 'better-sqlite3';

/** The SQL behind muting (db/0004_surveys.sql): who turned survey questions by DM off (`/platform surveys off`). */
export class MuteStore {
  private readonly stmts;

  constructor(db: Database.Database) {
    this.stmts = {
      mute: db.prepare('INSERT OR IGNORE INTO survey_mutes (user, muted_at) VALUES (?, ?)'),
      unmute: db.prepare('DELETE FROM survey_mutes WHERE user = ?'),
      isMuted: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM survey_mutes WHERE user = ?'),
    };
  }

  setMuted(user: string, muted: boolean, now: Date): void {
    if (muted) this.stmts.mute.run(user, now.toISOString());
    else this.stmts.unmute.run(user);
  }

  isMuted(user: string): boolean {
    return (this.stmts.isMuted.get(user)?.n ?? 0) > 0;
  }
}
