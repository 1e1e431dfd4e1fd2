-- Adoption metrics: usage observed in the clusters, and the runs of scheduled jobs.

-- What a usage refresh saw of one namespace labelled app.kubernetes.io/managed-by=slipway. A row
-- is written when something changed since the namespace's previous row: it appeared, it started or
-- stopped running pods, its request id changed (re-created), or it disappeared (present = 0).
-- The state holds until the next row, so the table stays small (docs/metrics.md).
CREATE TABLE usage_snapshots (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  at           TEXT NOT NULL,
  cluster      TEXT NOT NULL,
  namespace    TEXT NOT NULL,
  team         TEXT,
  request_id   INTEGER,
  present      INTEGER NOT NULL CHECK (present IN (0, 1)),
  running_pods INTEGER NOT NULL CHECK (running_pods >= 0)
);

CREATE INDEX usage_snapshots_at ON usage_snapshots (at, running_pods);
-- The state of every namespace at a cut-off is one pass over this index.
CREATE INDEX usage_snapshots_namespace ON usage_snapshots (cluster, namespace, at, present, running_pods, team, request_id);
CREATE INDEX usage_snapshots_request ON usage_snapshots (request_id);

CREATE TRIGGER usage_snapshots_append_only_update BEFORE UPDATE ON usage_snapshots
BEGIN SELECT RAISE(ABORT, 'usage snapshots are append-only'); END;
CREATE TRIGGER usage_snapshots_append_only_delete BEFORE DELETE ON usage_snapshots
BEGIN SELECT RAISE(ABORT, 'usage snapshots are append-only'); END;

-- Events of a type in a window, with their request id, read from the index alone (the metrics
-- join each ready event to its request's submission). Replaces 0001's (type, at).
DROP INDEX events_type_at;
CREATE INDEX events_type_at ON events (type, at, request_id);
-- A team's first request, a team's first ready namespace: one index seek each.
CREATE INDEX events_type_team_at ON events (type, team, at);
-- A request's submission or ready event by request id, without reading the table.
CREATE INDEX events_request_type ON events (request_id, type, at);

-- Every run of a scheduled job: by its schedule, caught up at start-up, or by hand.
CREATE TABLE job_runs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  job           TEXT NOT NULL,
  reason        TEXT NOT NULL CHECK (reason IN ('scheduled', 'catch-up', 'manual')),
  -- The schedule slot a scheduled or catch-up run is for.
  scheduled_for TEXT,
  started_at    TEXT NOT NULL,
  finished_at   TEXT,
  status        TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'skipped')),
  summary       TEXT,
  error         TEXT
);

CREATE INDEX job_runs_job ON job_runs (job, started_at);
