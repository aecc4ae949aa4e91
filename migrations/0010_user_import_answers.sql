-- Answers of POST /users/human/_import sent with an Idempotency-Key, so that
-- the same key and body get the same answer. A row is inserted (answer NULL)
-- in the import's transaction before the user is written, which makes a
-- second request with the key wait for the first; the answer is filled in
-- before the commit. request_digest is an HMAC of the body (never a plain
-- hash: the body may hold a password); the answer is sealed, since it may
-- hold a passwordless registration link. Rows older than a day are purged.
CREATE TABLE user_import_answers (
    instance_id    text NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    caller         text NOT NULL,
    key            text NOT NULL,
    request_digest bytea NOT NULL,
    answer_sealed  bytea,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, caller, key)
);
CREATE INDEX user_import_answers_created ON user_import_answers (created_at);
