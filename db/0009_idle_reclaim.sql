-- Idle reclaim (src/workflows/lifecycle/idle.ts): a namespace without running pods for
-- lifecycle.idle.afterDays is asked about once; each row is one such conversation.
--   asked      the owner got the DM (Keep it / Delete it / Not mine); `next_at` is when the team hears
--   team_told  the team's channel got the note (no answer, or the owner said "Not mine")
--   kept       someone pressed Keep it: not asked again before `quiet_until`
--   deleting   no answer twice, and the environment's policy let Slipway delete it
--   approvers  no answer twice; the approvers were asked in the request's thread
--   ended      pods ran again, or the namespace went another way (deleted, expired)
CREATE TABLE idle_asks (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id  INTEGER NOT NULL REFERENCES requests (id),
  -- When its latest usage snapshot without running pods was taken.
  idle_since  TEXT NOT NULL,
  asked_at    TEXT NOT NULL,
  -- The user the DM went to (the owner at the time), and where it went: 'owner' or 'team'.
  asked_user  TEXT NOT NULL,
  asked_to    TEXT NOT NULL CHECK (asked_to IN ('owner', 'team')),
  stage       TEXT NOT NULL CHECK (stage IN ('asked', 'team_told', 'kept', 'deleting', 'approvers', 'ended')),
  -- When the next step of an open conversation is due; NULL once it is closed.
  next_at     TEXT,
  team_told_at TEXT,
  not_mine    INTEGER NOT NULL DEFAULT 0 CHECK (not_mine IN (0, 1)),
  -- A closed conversation keeps the namespace from being asked again until then.
  quiet_until TEXT,
  closed_at   TEXT,
  closed_by   TEXT
);

-- One open conversation per namespace.
CREATE UNIQUE INDEX idle_asks_open ON idle_asks (request_id) WHERE next_at IS NOT NULL;
-- The sweep reads only the conversations whose next step is due.
CREATE INDEX idle_asks_due ON idle_asks (next_at) WHERE next_at IS NOT NULL;
-- The latest conversation of a namespace (detection skips the ones asked or kept quiet).
CREATE INDEX idle_asks_request ON idle_asks (request_id, id);
