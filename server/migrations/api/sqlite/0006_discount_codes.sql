-- Discount codes. A code takes a percentage or a fixed amount off the subtotal of one product
-- (product_id) or of every product of one seller (seller_name), between starts_at and
-- ends_at, at most max_uses times in all and max_per_email times per buyer's email.
-- `used` is taken in the transaction that reserves the order's stock, by a conditional
-- UPDATE (so concurrent buyers of the last use cannot both have it), and given back with the
-- stock when the payment fails; discount_redemptions holds one row per order that used a
-- code, for the per-email limit and for that give-back. The same SQL on both engines.
CREATE TABLE discount_codes (
    code          TEXT PRIMARY KEY,
    percent_off   BIGINT CHECK (percent_off IS NULL OR (percent_off >= 1 AND percent_off <= 100)),
    amount_minor  BIGINT CHECK (amount_minor IS NULL OR amount_minor > 0),
    currency      TEXT,
    product_id    TEXT REFERENCES products (id),
    seller_name   TEXT,
    starts_at     BIGINT,
    ends_at       BIGINT,
    max_uses      BIGINT CHECK (max_uses IS NULL OR max_uses > 0),
    max_per_email BIGINT CHECK (max_per_email IS NULL OR max_per_email > 0),
    used          BIGINT NOT NULL DEFAULT 0 CHECK (used >= 0),
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT NOT NULL,
    CHECK ((percent_off IS NULL) <> (amount_minor IS NULL)),
    CHECK ((amount_minor IS NULL) = (currency IS NULL)),
    CHECK ((product_id IS NULL) <> (seller_name IS NULL)),
    CHECK (max_uses IS NULL OR used <= max_uses)
);

CREATE TABLE discount_redemptions (
    order_id   TEXT PRIMARY KEY,
    code       TEXT NOT NULL REFERENCES discount_codes (code),
    email      TEXT NOT NULL,  -- lower case, for max_per_email
    created_at BIGINT NOT NULL
);

CREATE INDEX discount_redemptions_code_email ON discount_redemptions (code, email);

ALTER TABLE payment_intents ADD COLUMN discount_code TEXT;
ALTER TABLE payment_intents ADD COLUMN discount_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN discount_code TEXT;
ALTER TABLE orders ADD COLUMN discount_minor BIGINT NOT NULL DEFAULT 0;
