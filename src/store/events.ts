import type { Db } from './db.ts';
import { present, type Row } from './rows.ts';

/**
 * The SQL behind the event log (db/0001_init.sql): every request, decision, step and survey
 * answer, append-only (the database refuses updates and deletes). Reached through `store` itself
 * (`store.appendEvent`); adoption metrics read it in src/store/adoption.ts.
 */

export interface EventInput {
  type: string;
  at: Date;
  actor?: string | undefined;
  team?: string | undefined;
  requestId?: number | undefined;
  data?: Record<string, unknown>;
}

export interface StoredEvent {
  id: number;
  at: string;
  type: string;
  actor: string | undefined;
  team: string | undefined;
  requestId: number | undefined;
  data: Record<string, unknown>;
}

// The columns of an event, named as its fields.
const EVENT = 'SELECT id, at, type, actor, team, request_id AS "requestId", data FROM events';

export class EventStore {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      insertEvent: db.prepare('INSERT INTO events (at, type, actor, team, request_id, data) VALUES (@at, @type, @actor, @team, @requestId, @data)'),
      eventsOf: db.prepare<[number], Row<StoredEvent>>(`${EVENT} WHERE request_id = ? ORDER BY id`),
    };
  }

  async appendEvent(event: EventInput): Promise<void> {
    await this.stmts.insertEvent.run({
      at: event.at.toISOString(),
      type: event.type,
      actor: event.actor ?? null,
      team: event.team ?? null,
      requestId: event.requestId ?? null,
      data: event.data ? JSON.stringify(event.data) : null,
    });
  }

  async eventsFor(requestId: number): Promise<StoredEvent[]> {
    return (await this.stmts.eventsOf.all(requestId)).map((row) =>
      present<StoredEvent>(row, { data: row.data ? (JSON.parse(row.data) as Record<string, unknown>) : {} }),
    );
  }
}
