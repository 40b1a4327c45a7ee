-- The api's database: the catalog, orders and idempotency records.
-- Portable SQL (SQLite now, PostgreSQL later): BIGINT for every integer (money in minor
-- units, Unix-second timestamps, counts), so the Rust side reads i64 on both engines;
-- TEXT for ids and enums; no engine-specific types.

CREATE TABLE products (
    id              TEXT PRIMARY KEY,
    tweet_id        TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    seller_name     TEXT NOT NULL,
    seller_kind     TEXT NOT NULL,               -- nonprofit | brand | artist
    kind            TEXT NOT NULL,               -- physical | ticket | digital
    currency        TEXT NOT NULL,               -- ISO 4217
    limited_edition BOOLEAN NOT NULL DEFAULT FALSE,
    sale_starts_at  BIGINT,                      -- NULL: on sale from the start
    sale_ends_at    BIGINT,                      -- NULL: no end
    ships_to        TEXT NOT NULL DEFAULT '',    -- comma-separated ISO 3166-1 alpha-2 codes
    shipping_minor  BIGINT NOT NULL DEFAULT 0,   -- flat shipping per order, product currency
    max_per_order   BIGINT NOT NULL,
    delivery        TEXT,                        -- how tickets and digital goods arrive
    image_alt       TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE variants (
    product_id  TEXT NOT NULL REFERENCES products (id),
    id          TEXT NOT NULL,
    position    BIGINT NOT NULL,
    label       TEXT NOT NULL,
    price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
    stock       BIGINT CHECK (stock IS NULL OR stock >= 0),   -- NULL: not counted
    PRIMARY KEY (product_id, id)
);

-- Never a card number or a card token: only what the receipt shows.
CREATE TABLE orders (
    id             TEXT PRIMARY KEY,
    order_number   TEXT NOT NULL UNIQUE,
    product_id     TEXT NOT NULL REFERENCES products (id),
    variant_id     TEXT NOT NULL,
    quantity       BIGINT NOT NULL CHECK (quantity > 0),
    email          TEXT NOT NULL,
    share_email    BOOLEAN NOT NULL DEFAULT FALSE,
    shipping_json  TEXT,
    subtotal_minor BIGINT NOT NULL,
    shipping_minor BIGINT NOT NULL,
    tax_minor      BIGINT NOT NULL,
    total_minor    BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'declined', 'failed')),
    card_brand     TEXT,
    card_last4     TEXT,
    charge_id      TEXT,
    decline_code   TEXT,
    tweet_id       TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE INDEX orders_product ON orders (product_id);

-- One row per (scope, key): the request's fingerprint and, once done, the response.
-- response_status IS NULL means the first request is still in flight.
CREATE TABLE idempotency_keys (
    scope           TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status BIGINT,
    response_body   TEXT,
    created_at      BIGINT NOT NULL,
    completed_at    BIGINT,
    PRIMARY KEY (scope, idem_key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
