-- Signed webhooks for sellers: endpoints, the events they are told about, one delivery per
-- event and endpoint, and a log of every attempt. The same SQL on SQLite and PostgreSQL.

-- Where events are sent. secret signs every delivery; during a rotation previous_secret
-- signs too, until previous_expires_at. disabled_at is set when the seller disables the
-- endpoint or it answers 410 Gone (disabled_reason says which).
CREATE TABLE webhook_endpoints (
    id                  TEXT PRIMARY KEY,
    url                 TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    events              TEXT NOT NULL,          -- ',order.paid,product.sold_out,' or '*'
    secret              TEXT NOT NULL,
    previous_secret     TEXT,
    previous_expires_at BIGINT,
    created_at          BIGINT NOT NULL,
    disabled_at         BIGINT,
    disabled_reason     TEXT
);

-- One row per event, written in the transaction of the change it reports; payload is the
-- exact body every endpoint receives. once_key keeps an event that must happen once per
-- thing (an order paid) from being written twice.
CREATE TABLE webhook_events (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    once_key   TEXT UNIQUE,
    payload    TEXT NOT NULL
);

-- The outbox: one row per event and endpoint (and per manual re-send). A worker claims due
-- rows with a conditional UPDATE of locked_until_ms, so replicas never send one twice at once.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES webhook_events (id),
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id),
    created_at      BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,            -- Unix milliseconds
    locked_until_ms BIGINT,                     -- a worker is sending it until then
    delivered_at    BIGINT,
    last_status     BIGINT,                     -- the HTTP status of the last attempt
    last_error      TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_ms);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

-- Every attempt of every delivery: the delivery log the seller reads.
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt     BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    status_code BIGINT,                         -- NULL: no HTTP answer
    error       TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
