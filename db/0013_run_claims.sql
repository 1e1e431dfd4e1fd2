-- Run claims (src/workflows/runs/claims.ts): the replica executing a run, or a job's run, is named
-- in claimed_by (its leader-election identity) and renews heartbeat_at while it works. A run whose
-- heartbeat lapsed is taken over by another replica with compare-and-set on the old claim. Rows
-- from before this migration have no claim: they are free to take.
ALTER TABLE runs ADD COLUMN claimed_by TEXT;
ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;

ALTER TABLE job_runs ADD COLUMN claimed_by TEXT;
ALTER TABLE job_runs ADD COLUMN heartbeat_at TEXT;
-- What a job run has done so far, as a JSON object of named steps (the digest's posted message),
-- so the run that takes it over continues from there.
ALTER TABLE job_runs ADD COLUMN progress TEXT;
