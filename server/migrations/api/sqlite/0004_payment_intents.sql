-- Payment intents: what a buyer is about to pay for, priced before any card is confirmed.
-- The card frame shows an intent beside Pay; the vault mints a token for one intent; an
-- order pays exactly its intent (amount, item, quantity, email, address all come from here).
-- order_id is the order paying it: set when the order is placed (in the stock reservation's
-- transaction), taken over only when that order was declined or failed, so one intent is
-- never paid twice. The same SQL on both engines.
CREATE TABLE payment_intents (
    id             TEXT PRIMARY KEY,
    secret_hash    TEXT NOT NULL,
    product_id     TEXT NOT NULL REFERENCES products (id),
    variant_id     TEXT NOT NULL,
    quantity       BIGINT NOT NULL CHECK (quantity > 0),
    email          TEXT NOT NULL,
    share_email    BOOLEAN NOT NULL DEFAULT FALSE,
    shipping_json  TEXT,
    tweet_id       TEXT,
    subtotal_minor BIGINT NOT NULL,
    shipping_minor BIGINT NOT NULL,
    tax_minor      BIGINT NOT NULL,
    total_minor    BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    order_id       TEXT
);

CREATE INDEX payment_intents_expiry ON payment_intents (expires_at);

ALTER TABLE orders ADD COLUMN intent_id TEXT;
