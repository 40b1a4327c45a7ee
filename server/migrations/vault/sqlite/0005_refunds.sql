-- Refunds of approved charges, whole or in parts. `refunded_minor` on the charge is what has
-- been given back so far, raised by one conditional UPDATE per refund so that concurrent
-- refunds can never give back more than was charged. A refund's reference (the api's refund
-- id) is unique: the same reference again answers the first refund, never a second one.
-- The same SQL on both engines.
ALTER TABLE charges ADD COLUMN refunded_minor BIGINT NOT NULL DEFAULT 0;

CREATE TABLE refunds (
    id           TEXT PRIMARY KEY,
    charge_id    TEXT NOT NULL REFERENCES charges (id),
    reference    TEXT NOT NULL UNIQUE,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency     TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX refunds_charge ON refunds (charge_id);
