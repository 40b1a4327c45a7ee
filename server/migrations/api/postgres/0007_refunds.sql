-- Refunds and cancellations. An order's status keeps saying how its payment went; what was
-- given back is in `refunds`, one row per refund or cancellation, and on the order:
-- `refund_reserved_minor` is the sum of its refunds that are under way or done, raised in the
-- transaction that writes the refund row (before the vault is asked), so concurrent refunds
-- can never reserve more than the total. `shipped_at` is set when the seller ships the order
-- (a shipped order is no longer cancelled), `cancelled_at` when it is cancelled.
-- The same SQL on both engines.
ALTER TABLE orders ADD COLUMN refund_reserved_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN shipped_at BIGINT;
ALTER TABLE orders ADD COLUMN cancelled_at BIGINT;

-- `idem_key` is the seller's Idempotency-Key (`refund:KEY`), or `cancel` for the order's one
-- cancellation; the same key on the same order answers the first refund. `number` counts an
-- order's refunds from 1 and names the refund receipt's file. `pending` refunds reserved
-- their amount but have no answer from the vault yet: a retry with the same key asks the
-- vault again under the same reference (the refund id), which never refunds twice.
CREATE TABLE refunds (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders (id),
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    number          BIGINT NOT NULL CHECK (number > 0),
    kind            TEXT NOT NULL CHECK (kind IN ('refund', 'cancellation')),
    amount_minor    BIGINT NOT NULL CHECK (amount_minor >= 0),
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded')),
    vault_refund_id TEXT,
    created_at      BIGINT NOT NULL,
    completed_at    BIGINT,
    UNIQUE (order_id, idem_key),
    UNIQUE (order_id, number)
);

-- One row per succeeded refund, written in the transaction that records it; the receipt
-- worker sends the buyer a refund receipt from here, as it does from receipt_outbox.
CREATE TABLE refund_receipt_outbox (
    refund_id    TEXT PRIMARY KEY REFERENCES refunds (id),
    created_at   BIGINT NOT NULL,
    locked_until BIGINT,
    attempts     BIGINT NOT NULL DEFAULT 0,
    sent_at      BIGINT,
    last_error   TEXT
);
CREATE INDEX refund_receipt_outbox_pending ON refund_receipt_outbox (sent_at, created_at);
