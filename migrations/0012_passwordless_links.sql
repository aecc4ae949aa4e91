-- Passwordless registration links (with their one-time codes) stay in
-- job_results only until the code expires; the workers blank them then
-- (store.BlankExpiredLinks). This index finds the links still kept: results
-- of the passwordless_links step (number 198: stage 1, order 98) with a
-- link, by expiration (f3, RFC 3339 in UTC). Links of jobs that finished
-- before this release, long expired, are blanked here.
UPDATE job_results SET f2 = NULL
WHERE step = 198 AND f2 IS NOT NULL AND f3 <= to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
CREATE INDEX job_results_links ON job_results (f3) WHERE step = 198 AND f2 IS NOT NULL;
