-- Changing a namespace (tier, end date, purpose, extra team access) is a lifecycle request
-- decided in the original request's thread, and applied by a durable run of its own kind.
-- SQLite cannot alter a CHECK constraint, so both tables are rebuilt: a new table, its rows
-- copied, the old one dropped, the new one renamed (which also renames the references to it).

CREATE TABLE runs_new (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id  INTEGER NOT NULL REFERENCES requests (id),
  status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  progress_ts TEXT,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  kind        TEXT NOT NULL DEFAULT 'provision' CHECK (kind IN ('provision', 'delete', 'change'))
);
INSERT INTO runs_new (id, request_id, status, progress_ts, started_at, finished_at, kind)
  SELECT id, request_id, status, progress_ts, started_at, finished_at, kind FROM runs;

CREATE TABLE run_steps_new (
  run_id      INTEGER NOT NULL REFERENCES runs_new (id),
  position    INTEGER NOT NULL,
  name        TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  started_at  TEXT,
  finished_at TEXT,
  PRIMARY KEY (run_id, position)
);
INSERT INTO run_steps_new (run_id, position, name, status, attempts, last_error, started_at, finished_at)
  SELECT run_id, position, name, status, attempts, last_error, started_at, finished_at FROM run_steps;

-- The steps go first: nothing references the old runs table when it is dropped.
DROP TABLE run_steps;
DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;
ALTER TABLE run_steps_new RENAME TO run_steps;
CREATE UNIQUE INDEX runs_one_active ON runs (request_id) WHERE status = 'running';

CREATE TABLE lifecycle_requests_new (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id   INTEGER NOT NULL REFERENCES requests (id),
  kind         TEXT NOT NULL CHECK (kind IN ('extend', 'delete', 'change')),
  requested_by TEXT NOT NULL,
  -- extend: the new expiry date asked for.
  expires_on   TEXT,
  reason       TEXT,
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'withdrawn')),
  decided_by   TEXT,
  decided_at   TEXT,
  message_channel TEXT,
  message_ts   TEXT,
  created_at   TEXT NOT NULL,
  -- change: the namespace's settings asked for (JSON: tier, expiresOn, purpose, access).
  change       TEXT
);
INSERT INTO lifecycle_requests_new (id, request_id, kind, requested_by, expires_on, reason, status, decided_by, decided_at,
    message_channel, message_ts, created_at)
  SELECT id, request_id, kind, requested_by, expires_on, reason, status, decided_by, decided_at,
    message_channel, message_ts, created_at FROM lifecycle_requests;
DROP TABLE lifecycle_requests;
ALTER TABLE lifecycle_requests_new RENAME TO lifecycle_requests;
CREATE UNIQUE INDEX lifecycle_requests_one_open ON lifecycle_requests (request_id, kind) WHERE status = 'pending';

-- What changes set: NULL while the namespace still has its request's tier or purpose.
ALTER TABLE namespaces ADD COLUMN tier TEXT;
ALTER TABLE namespaces ADD COLUMN purpose TEXT;

-- Other teams' access to a namespace, as changes gave it (one RoleBinding per row).
CREATE TABLE namespace_access (
  request_id INTEGER NOT NULL REFERENCES requests (id),
  team       TEXT NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('edit', 'view')),
  PRIMARY KEY (request_id, team)
);
