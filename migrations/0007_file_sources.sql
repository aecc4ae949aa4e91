-- Import files (dataOrgsLocal, dataOrgsS3, dataOrgsGcs and their v1 forms):
-- where the file is, without credentials (kept for the job's view), and the
-- version the split pinned (ETag, generation or size and mtime).
ALTER TABLE jobs ADD COLUMN source jsonb;
ALTER TABLE jobs ADD COLUMN source_version jsonb;

-- The credentials a request gave for its file, sealed (AES-GCM). They are
-- deleted in the statement that ends the job, like the inline payload.
CREATE TABLE job_source_secrets (
    job_id uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    sealed bytea NOT NULL
);
