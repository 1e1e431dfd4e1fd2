-- Drift and fleet upgrades (src/workflows/drift/).
--
-- The drift job's latest results: one row per scan, read by the weekly digest.
CREATE TABLE drift_scans (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  at         TEXT NOT NULL,
  -- Namespaces compared, and how many of them differ, by kind.
  namespaces INTEGER NOT NULL,
  edited     INTEGER NOT NULL,
  outdated   INTEGER NOT NULL,
  summary    TEXT NOT NULL
);

-- A fleet upgrade: the golden path re-applied to the outdated namespaces of one cluster, a few at
-- a time, with its progress in one Slack thread.
--   running  namespaces are being (or, after a restart, will be) re-applied
--   failed   stopped at the first permanent failure; Resume sets it running again
--   done     every namespace was re-applied
CREATE TABLE upgrades (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  cluster     TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('running', 'failed', 'done')),
  started_by  TEXT NOT NULL,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  -- The thread: its first message (updated with the progress) in this channel.
  channel     TEXT NOT NULL,
  thread_ts   TEXT
);

-- One running upgrade per cluster.
CREATE UNIQUE INDEX upgrades_running ON upgrades (cluster) WHERE status = 'running';

-- The namespaces of an upgrade, claimed one at a time by compare-and-set:
-- pending → running → done | failed (a failed one goes back to pending on Resume, a running one
-- when an interrupted upgrade resumes at start).
CREATE TABLE upgrade_items (
  upgrade_id  INTEGER NOT NULL REFERENCES upgrades (id),
  request_id  INTEGER NOT NULL REFERENCES requests (id),
  position    INTEGER NOT NULL,
  status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  finished_at TEXT,
  PRIMARY KEY (upgrade_id, request_id)
);

CREATE INDEX upgrade_items_next ON upgrade_items (upgrade_id, status, position);
