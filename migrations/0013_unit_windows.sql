-- Fair sharing of the workers: an instance has at most a window of units in
-- the queue at a time (store.ReadyUnits). A unit is queued once it has been
-- given a task; jobs.fill_org is the first org of the job's current stage
-- whose units have not been queued yet (orgs run their units one after the
-- other, so the orgs below it are done or have a unit queued).
ALTER TABLE job_units ADD COLUMN queued boolean NOT NULL DEFAULT false;
ALTER TABLE jobs ADD COLUMN fill_org int NOT NULL DEFAULT 0;
-- Running jobs had the first unit not done of every org of their stage
-- queued.
UPDATE job_units u SET queued = true
FROM (SELECT DISTINCT ON (u.job_id, u.org_index) u.job_id, u.stage, u.org_index, u.seq
      FROM job_units u JOIN jobs j ON j.id = u.job_id AND u.stage = j.stage
      WHERE j.status = 'running' AND NOT u.done
      ORDER BY u.job_id, u.org_index, u.seq) f
WHERE u.job_id = f.job_id AND u.stage = f.stage AND u.org_index = f.org_index AND u.seq = f.seq;
UPDATE jobs SET fill_org = 2147483647 WHERE status = 'running' AND stage BETWEEN 1 AND 98;
CREATE INDEX job_units_queued ON job_units (job_id) WHERE queued AND NOT done;
CREATE INDEX jobs_active ON jobs (instance_id, created_at) WHERE status IN ('queued', 'running');
