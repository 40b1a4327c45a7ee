-- The vault's database. Card numbers are stored only encrypted (envelope encryption: a
-- fresh AES-256-GCM data key per card, wrapped by the master key named in key_id). CVCs
-- are never stored. PostgreSQL copy: BYTEA where SQLite has BLOB.

CREATE TABLE cards (
    id          TEXT PRIMARY KEY,
    token       TEXT NOT NULL UNIQUE,
    owner       TEXT NOT NULL,               -- 'anon' for one-time tokens
    key_id      TEXT NOT NULL,               -- which master key wrapped the data key
    wrapped_key BYTEA NOT NULL,               -- emptied once the card can no longer be charged
    key_nonce   BYTEA NOT NULL,
    ciphertext  BYTEA NOT NULL,               -- emptied once the card can no longer be charged
    nonce       BYTEA NOT NULL,
    brand       TEXT NOT NULL,
    last4       TEXT NOT NULL,
    exp_month   BIGINT NOT NULL,
    exp_year    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

-- Idempotent tokenization: a keyed hash (HMAC) of the request, never the request.
CREATE TABLE token_requests (
    idem_key     TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    card_id      TEXT NOT NULL REFERENCES cards (id),
    created_at   BIGINT NOT NULL
);

CREATE TABLE charges (
    id           TEXT PRIMARY KEY,
    card_id      TEXT NOT NULL REFERENCES cards (id),
    reference    TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('approved', 'declined')),
    decline_code TEXT,
    created_at   BIGINT NOT NULL
);

CREATE INDEX charges_card ON charges (card_id);
