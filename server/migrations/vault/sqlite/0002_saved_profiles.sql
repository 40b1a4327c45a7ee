-- Issue 5: saved buyer info. A profile is made from a card the buyer has just paid with,
-- when they tick "Save my card and shipping address" on the confirmation. The same SQL on
-- both engines except BLOB for bytes.

-- Cards: the hash of the one-time save secret that only the vault's frame holds (saving a
-- card needs it, not just the token the publisher's page saw), and whether the card is a
-- profile's reusable card (owner = the profile id, never expires, never marked used).
ALTER TABLE cards ADD COLUMN save_secret_hash TEXT;
ALTER TABLE cards ADD COLUMN reusable BOOLEAN NOT NULL DEFAULT FALSE;

-- One row per saved profile. The device holds a random credential; only its SHA-256 is
-- here. Email and shipping address are one envelope-encrypted JSON document (record id and
-- owner = the profile id as associated data), like card numbers.
CREATE TABLE profiles (
    id              TEXT PRIMARY KEY,
    credential_hash TEXT NOT NULL UNIQUE,
    card_id         TEXT NOT NULL REFERENCES cards (id),
    key_id          TEXT NOT NULL,
    wrapped_key     BLOB NOT NULL,
    key_nonce       BLOB NOT NULL,
    ciphertext      BLOB NOT NULL,
    nonce           BLOB NOT NULL,
    created_at      BIGINT NOT NULL
);

-- One-time tokens for a profile's card, minted for the device that holds the credential
-- and charged by the api (server to server) once, within 15 minutes.
CREATE TABLE saved_tokens (
    token      TEXT PRIMARY KEY,
    profile_id TEXT NOT NULL,
    card_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX saved_tokens_profile ON saved_tokens (profile_id);
