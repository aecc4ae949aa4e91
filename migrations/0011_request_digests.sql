-- Jobs keep a digest of their request only with an Idempotency-Key, and
-- only keyed (an HMAC, see seal.Box.Digest): drop the plain SHA-256 digests
-- that jobs without a key kept of bodies that may hold passwords. (Keys
-- recorded before this release still hold a plain digest: a replay of one
-- is answered 409, as for another body.)
UPDATE jobs SET request_hash = NULL WHERE idempotency_key IS NULL AND request_hash IS NOT NULL;
