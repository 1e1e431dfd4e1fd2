-- Rows the adoption metrics read by time range, so that a digest or `/platform stats` costs what
-- the weeks it shows hold, not what the whole history holds (docs/metrics.md, "How it is
-- computed"). Both tables are derived: triggers write them as events and usage snapshots are
-- written, and this migration fills them from the rows already there. They hold nothing that
-- `events` and `usage_snapshots` do not; dropping and refilling them gives the same rows.

-- The durations measured at an event, one row per event and its request's submission (as the
-- join of the two would give): 'ready' at a namespace_ready (submitted → ready), 'approval_wait'
-- at a person's decision (submitted → approved or denied; policy approvals are not waits).
CREATE TABLE metric_durations (
  kind TEXT NOT NULL CHECK (kind IN ('ready', 'approval_wait')),
  at   TEXT NOT NULL,
  ms   INTEGER
);

-- A window's durations of a kind, from the index alone.
CREATE INDEX metric_durations_kind_at ON metric_durations (kind, at, ms);

-- One trigger per kind of event, each firing only for its own.
CREATE TRIGGER events_ready_duration AFTER INSERT ON events
WHEN NEW.type = 'namespace_ready' AND NEW.request_id IS NOT NULL
BEGIN
  INSERT INTO metric_durations (kind, at, ms)
  SELECT 'ready', NEW.at, ROUND((julianday(NEW.at) - julianday(s.at)) * 86400000.0)
  FROM events s
  WHERE s.request_id = NEW.request_id AND s.type = 'request_submitted';
END;

CREATE TRIGGER events_approval_wait AFTER INSERT ON events
WHEN NEW.type IN ('request_approved', 'request_denied') AND NEW.request_id IS NOT NULL
  AND NOT coalesce(json_extract(NEW.data, '$.auto'), 0)
BEGIN
  INSERT INTO metric_durations (kind, at, ms)
  SELECT 'approval_wait', NEW.at, ROUND((julianday(NEW.at) - julianday(s.at)) * 86400000.0)
  FROM events s
  WHERE s.request_id = NEW.request_id AND s.type = 'request_submitted';
END;

-- A submission written after its request's later events (the workflows never do, an imported
-- log may): the pairs it completes.
CREATE TRIGGER events_late_submission AFTER INSERT ON events
WHEN NEW.type = 'request_submitted' AND NEW.request_id IS NOT NULL
BEGIN
  INSERT INTO metric_durations (kind, at, ms)
  SELECT CASE r.type WHEN 'namespace_ready' THEN 'ready' ELSE 'approval_wait' END, r.at,
         ROUND((julianday(r.at) - julianday(NEW.at)) * 86400000.0)
  FROM events r
  WHERE r.request_id = NEW.request_id
    AND (r.type = 'namespace_ready'
         OR (r.type IN ('request_approved', 'request_denied') AND NOT coalesce(json_extract(r.data, '$.auto'), 0)));
END;

INSERT INTO metric_durations (kind, at, ms)
SELECT 'ready', r.at, ROUND((julianday(r.at) - julianday(s.at)) * 86400000.0)
FROM events r JOIN events s ON s.request_id = r.request_id AND s.type = 'request_submitted'
WHERE r.type = 'namespace_ready';

INSERT INTO metric_durations (kind, at, ms)
SELECT 'approval_wait', d.at, ROUND((julianday(d.at) - julianday(s.at)) * 86400000.0)
FROM events d JOIN events s ON s.request_id = d.request_id AND s.type = 'request_submitted'
WHERE d.type IN ('request_approved', 'request_denied') AND NOT coalesce(json_extract(d.data, '$.auto'), 0);

-- Each team's first request: "new teams" of a week are the few rows whose first request is in it.
CREATE TABLE team_first_requests (
  team TEXT PRIMARY KEY,
  at   TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX team_first_requests_at ON team_first_requests (at, team);

CREATE TRIGGER events_team_first_request AFTER INSERT ON events
WHEN NEW.type = 'request_submitted' AND NEW.team IS NOT NULL
BEGIN
  INSERT INTO team_first_requests (team, at) VALUES (NEW.team, NEW.at)
  ON CONFLICT (team) DO UPDATE SET at = excluded.at WHERE excluded.at < team_first_requests.at;
END;

INSERT INTO team_first_requests (team, at)
SELECT team, MIN(at) FROM events WHERE type = 'request_submitted' AND team IS NOT NULL GROUP BY team;

-- A week's events of a type with their team, from the index alone (the teams that made requests);
-- replaces 0003's (type, at, request_id).
DROP INDEX events_type_at;
CREATE INDEX events_type_at ON events (type, at, request_id, team);
-- A week's approvals by the policy, counted without reading each approval's data.
CREATE INDEX events_auto_approved ON events (at) WHERE type = 'request_approved' AND json_extract(data, '$.auto');

-- A week's snapshots with running pods and whose they are, from the index alone (first workloads);
-- replaces 0003's (at, running_pods).
DROP INDEX usage_snapshots_at;
CREATE INDEX usage_snapshots_at ON usage_snapshots (at, running_pods, cluster, namespace, request_id);

-- The state each present usage snapshot describes, from its time (`at`) until the namespace's next
-- snapshot (`next_at`; NULL while it is the latest). The namespaces present at a cut-off are the
-- states open at it, found by `next_at` instead of by reading every snapshot before it. Of two
-- snapshots of a namespace at the same moment, the one written later holds.
CREATE TABLE usage_states (
  snapshot_id  INTEGER PRIMARY KEY,
  cluster      TEXT NOT NULL,
  namespace    TEXT NOT NULL,
  team         TEXT,
  request_id   INTEGER,
  running_pods INTEGER NOT NULL,
  at           TEXT NOT NULL,
  next_at      TEXT
);

-- The states with and without running pods open at a cut-off, from an index alone.
CREATE INDEX usage_states_running ON usage_states (next_at, at, cluster, namespace, team, request_id, running_pods) WHERE running_pods > 0;
CREATE INDEX usage_states_stopped ON usage_states (next_at, at, cluster, namespace, team, request_id, running_pods) WHERE running_pods = 0;
-- A namespace's states: to close the one a new snapshot follows, and to find its latest with pods.
CREATE INDEX usage_states_namespace ON usage_states (cluster, namespace, at, running_pods);

CREATE TRIGGER usage_snapshots_states AFTER INSERT ON usage_snapshots
BEGIN
  -- The state open at the new snapshot's time ends there (usually the namespace's latest one; an
  -- older one when a snapshot is written out of time order).
  UPDATE usage_states SET next_at = NEW.at
  WHERE cluster = NEW.cluster AND namespace = NEW.namespace AND at <= NEW.at AND (next_at IS NULL OR next_at > NEW.at);

  INSERT INTO usage_states (snapshot_id, cluster, namespace, team, request_id, running_pods, at, next_at)
  SELECT NEW.id, NEW.cluster, NEW.namespace, NEW.team, NEW.request_id, NEW.running_pods, NEW.at,
         (SELECT MIN(n.at) FROM usage_snapshots n WHERE n.cluster = NEW.cluster AND n.namespace = NEW.namespace AND n.at > NEW.at)
  WHERE NEW.present = 1;
END;

INSERT INTO usage_states (snapshot_id, cluster, namespace, team, request_id, running_pods, at, next_at)
SELECT id, cluster, namespace, team, request_id, running_pods, at, next_at
FROM (
  SELECT id, cluster, namespace, team, request_id, present, running_pods, at,
         LEAD(at) OVER (PARTITION BY cluster, namespace ORDER BY at, id) AS next_at
  FROM usage_snapshots
)
WHERE present = 1;

-- The first snapshot with running pods of each incarnation of a namespace (cluster, name and
-- request id): a week's first workloads are the rows whose time is in it. Snapshots without a
-- request id are left out, since no namespace_ready event goes with them.
CREATE TABLE first_workloads (
  cluster    TEXT NOT NULL,
  namespace  TEXT NOT NULL,
  request_id INTEGER NOT NULL,
  at         TEXT NOT NULL,
  PRIMARY KEY (cluster, namespace, request_id)
) WITHOUT ROWID;

CREATE INDEX first_workloads_at ON first_workloads (at, request_id);

CREATE TRIGGER usage_snapshots_first_workload AFTER INSERT ON usage_snapshots
WHEN NEW.running_pods > 0 AND NEW.request_id IS NOT NULL
BEGIN
  INSERT INTO first_workloads (cluster, namespace, request_id, at) VALUES (NEW.cluster, NEW.namespace, NEW.request_id, NEW.at)
  ON CONFLICT (cluster, namespace, request_id) DO UPDATE SET at = excluded.at WHERE excluded.at < first_workloads.at;
END;

INSERT INTO first_workloads (cluster, namespace, request_id, at)
SELECT cluster, namespace, request_id, MIN(at) FROM usage_snapshots
WHERE running_pods > 0 AND request_id IS NOT NULL
GROUP BY cluster, namespace, request_id;
