-- The looks replicas make on a timer read partial indexes that hold just the rows they look for,
-- so a look costs what it finds, not the history. Each term of an index's WHERE is, word for word,
-- a term of its look's (the statements in src/store/requests.ts, runs.ts and adoption.ts): SQLite
-- uses a partial index only when every term of its WHERE appears in the query's. The columns are those a look
-- orders by, then compares; never heartbeat_at, which heartbeats rewrite every few seconds (on
-- PostgreSQL an indexed column makes each such update write the indexes too).

-- The leader, every 2 s: requests stored whose card was never recorded (a replica died first).
CREATE INDEX requests_unannounced ON requests (id, created_at, status) WHERE card_ts IS NULL;
-- The leader, every 2 s: outcomes reached that the requester was not told. PostgreSQL cannot
-- estimate how few rows `notified_status IS DISTINCT FROM status` keeps (two columns compared),
-- so the look asks for the oldest first, a few at a time: in this index's order, which no other has.
CREATE INDEX requests_untold ON requests (updated_at, id) WHERE status IN ('ready', 'failed') AND notified_status IS DISTINCT FROM status;
-- Every replica, every heartbeat: running runs nobody holds or whose holder's heartbeat lapsed.
CREATE INDEX runs_running ON runs (id) WHERE status = 'running';
-- The leader, every heartbeat: running job runs whose holder's heartbeat lapsed.
CREATE INDEX job_runs_running ON job_runs (id) WHERE status = 'running';
