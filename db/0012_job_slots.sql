-- One run per job and schedule slot (src/jobs/scheduler.ts): a scheduled or caught-up run claims
-- its slot here in the same transaction that records it, so a second leader of a moment (leader
-- election), or a catch-up of a slot that ran, finds the slot taken and does nothing. A slot stays
-- taken whatever its run's outcome. Runs by hand have no slot.
CREATE TABLE job_slots (
  job           TEXT NOT NULL,
  scheduled_for TEXT NOT NULL,
  run_id        INTEGER NOT NULL REFERENCES job_runs (id),
  PRIMARY KEY (job, scheduled_for)
);

-- Slots already run before this table existed are taken by their first run.
INSERT INTO job_slots (job, scheduled_for, run_id)
SELECT job, scheduled_for, MIN(id) FROM job_runs
WHERE scheduled_for IS NOT NULL AND status <> 'skipped'
GROUP BY job, scheduled_for;
