-- Day 2: a ready namespace has an owner, an end date and a state until it is deleted.

CREATE TABLE namespaces (
  request_id  INTEGER PRIMARY KEY REFERENCES requests (id),
  -- The requester at first; `/platform transfer` moves it.
  owner       TEXT NOT NULL,
  -- YYYY-MM-DD, the last day the namespace lives; extensions move it. NULL: no end date.
  expires_on  TEXT,
  state       TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'expired', 'deleting', 'deleted')),
  -- Set by the final notice at expiry: deletion starts after it (unless extended meanwhile).
  grace_until TEXT,
  deleted_at  TEXT,
  updated_at  TEXT NOT NULL
);

CREATE INDEX namespaces_owner ON namespaces (owner, state);

-- Namespaces that were ready before this migration belong to their requesters.
INSERT INTO namespaces (request_id, owner, expires_on, updated_at)
  SELECT id, requester, expires_on, updated_at FROM requests WHERE status = 'ready';

-- What is due when: reminders before expiry, the final notice at expiry, the end of the grace
-- period. A sweep reads only the pending rows that are due (the partial index), so its cost
-- follows what is due, not how many namespaces exist. A row is claimed before its message goes
-- out, so it is never sent twice.
CREATE TABLE lifecycle_timers (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id  INTEGER NOT NULL REFERENCES requests (id),
  kind        TEXT NOT NULL CHECK (kind IN ('reminder', 'expiry', 'grace_end')),
  -- For reminders: how many days before the expiry date.
  days_before INTEGER,
  due_at      TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'skipped')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  done_at     TEXT
);

CREATE UNIQUE INDEX lifecycle_timers_once ON lifecycle_timers (request_id, kind, due_at);
CREATE INDEX lifecycle_timers_due ON lifecycle_timers (due_at) WHERE status = 'pending';

-- Extensions beyond policy and deletions that need an approver, decided in the original
-- request's thread. At most one of each kind is open per namespace.
CREATE TABLE lifecycle_requests (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id   INTEGER NOT NULL REFERENCES requests (id),
  kind         TEXT NOT NULL CHECK (kind IN ('extend', 'delete')),
  requested_by TEXT NOT NULL,
  -- extend: the new expiry date asked for.
  expires_on   TEXT,
  reason       TEXT,
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'withdrawn')),
  decided_by   TEXT,
  decided_at   TEXT,
  message_channel TEXT,
  message_ts   TEXT,
  created_at   TEXT NOT NULL
);

CREATE UNIQUE INDEX lifecycle_requests_one_open ON lifecycle_requests (request_id, kind) WHERE status = 'pending';

-- Runs do more than provision now: a deletion is a durable run with recorded steps too.
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'provision' CHECK (kind IN ('provision', 'delete'));

-- A deleted namespace frees its name for a new request.
ALTER TABLE requests ADD COLUMN deleted_at TEXT;
DROP INDEX requests_live_namespace;
CREATE UNIQUE INDEX requests_live_namespace ON requests (cluster, namespace) WHERE status <> 'denied' AND deleted_at IS NULL;
