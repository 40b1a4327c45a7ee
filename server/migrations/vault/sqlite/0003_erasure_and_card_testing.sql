-- Erasing on a clock, saved credentials that expire when unused, and a cap on declines per
-- card. The same SQL on both engines.

-- The sweeper erases one-time cards whose 15 minutes are up. This index holds only the
-- cards it may still have to erase (one-time, number not yet erased), so a sweep reads
-- those and not every card ever tokenized.
CREATE INDEX cards_live_one_time ON cards (expires_at) WHERE reusable = FALSE AND length(ciphertext) > 0;

-- Tokenization idempotency keys and spent saved-card tokens are purged by age.
CREATE INDEX token_requests_created ON token_requests (created_at);
CREATE INDEX saved_tokens_expires ON saved_tokens (expires_at);
-- Saved-card tokens minted per profile in the last minute (the mint limit).
CREATE INDEX saved_tokens_profile_created ON saved_tokens (profile_id, created_at);

-- When a device credential was last used; one unused for 180 days stops working and its
-- profile is erased. Existing profiles count from when they were saved.
ALTER TABLE profiles ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
UPDATE profiles SET last_used_at = created_at;
CREATE INDEX profiles_last_used ON profiles (last_used_at);
-- Saved-card tokens minted in the current one-minute window, counted on the profile's own
-- row so that one conditional UPDATE takes a mint atomically on either database.
ALTER TABLE profiles ADD COLUMN mint_window_start BIGINT NOT NULL DEFAULT 0;
ALTER TABLE profiles ADD COLUMN mint_count BIGINT NOT NULL DEFAULT 0;

-- Declines per card, by a keyed fingerprint (HMAC) of the number, never the number: too
-- many in a short time blocks the card for a while (card testing).
CREATE TABLE card_declines (
    fingerprint TEXT NOT NULL,
    declined_at BIGINT NOT NULL
);
CREATE INDEX card_declines_fingerprint ON card_declines (fingerprint, declined_at);
CREATE INDEX card_declines_at ON card_declines (declined_at);

CREATE TABLE card_blocks (
    fingerprint   TEXT PRIMARY KEY,
    blocked_until BIGINT NOT NULL
);
CREATE INDEX card_blocks_until ON card_blocks (blocked_until);
