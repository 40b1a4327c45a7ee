-- The order an Idempotency-Key made, so a retry after a crash resumes that order (and its
-- charge, which the vault keys by order id) instead of placing a second one; and a flag
-- that lets the next retry take over a request that failed on our side after writing.
ALTER TABLE idempotency_keys ADD COLUMN order_id TEXT;
ALTER TABLE idempotency_keys ADD COLUMN resumable BIGINT NOT NULL DEFAULT 0;
