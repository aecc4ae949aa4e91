-- Finished jobs are purged after ZIMPORT_RESULT_RETENTION, oldest first.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
