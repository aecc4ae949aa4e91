-- Unique values of the instance that units of two or more orgs of one job
-- claim: an org name, a verified domain, a user name (kind 'org_name',
-- 'domain', 'user_name'; key folded with lower()). A unit waits for every
-- unit of an earlier org that claims one of its keys, unless both only read
-- it (takes false: a user name that ends in "@<domain>" reads the domain),
-- so the earlier org wins whatever the timing, as in ZITADEL's import, which
-- takes the orgs one after the other. The split records them with the units.
CREATE TABLE job_claims (
    job_id    uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind      text NOT NULL,
    key       text NOT NULL,
    org_index int NOT NULL,
    stage     int NOT NULL,
    seq       int NOT NULL,
    takes     boolean NOT NULL,
    PRIMARY KEY (job_id, kind, key, org_index, stage, seq)
);
CREATE INDEX job_claims_unit ON job_claims (job_id, stage, org_index, seq);
