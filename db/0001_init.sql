-- Namespace requests, their decisions and provisioning runs; events are append-only.

CREATE TABLE requests (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  namespace       TEXT NOT NULL,
  cluster         TEXT NOT NULL,
  team            TEXT NOT NULL,
  environment     TEXT NOT NULL,
  tier            TEXT NOT NULL,
  purpose         TEXT NOT NULL,
  expires_on      TEXT,
  requester       TEXT NOT NULL,
  -- The modal submission that created the request: a redelivered submission creates nothing new.
  source_view_id  TEXT UNIQUE,
  status          TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'approved', 'denied', 'ready', 'failed')),
  auto_approved   INTEGER NOT NULL DEFAULT 0,
  decided_by      TEXT,
  decided_at      TEXT,
  decision_reason TEXT,
  card_channel    TEXT,
  card_ts         TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);

-- One live request per name and cluster; a denied request frees its name.
CREATE UNIQUE INDEX requests_live_namespace ON requests (cluster, namespace) WHERE status <> 'denied';
CREATE INDEX requests_requester ON requests (requester, created_at);

CREATE TABLE runs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id  INTEGER NOT NULL REFERENCES requests (id),
  status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  progress_ts TEXT,
  started_at  TEXT NOT NULL,
  finished_at TEXT
);

-- At most one active run per request, enforced by the database.
CREATE UNIQUE INDEX runs_one_active ON runs (request_id) WHERE status = 'running';

CREATE TABLE run_steps (
  run_id      INTEGER NOT NULL REFERENCES runs (id),
  position    INTEGER NOT NULL,
  name        TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  started_at  TEXT,
  finished_at TEXT,
  PRIMARY KEY (run_id, position)
);

CREATE TABLE events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  at         TEXT NOT NULL,
  type       TEXT NOT NULL,
  actor      TEXT,
  team       TEXT,
  request_id INTEGER,
  data       TEXT
);

CREATE INDEX events_type_at ON events (type, at);
CREATE INDEX events_request ON events (request_id);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
