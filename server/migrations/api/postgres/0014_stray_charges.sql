-- Charges the vault approved after their order had been settled without them (declined,
-- failed or taken back meanwhile, its stock back on sale): each is refunded whole. A row is
-- written before the vault is asked, and stays 'pending' until the vault answers, so a
-- refund the vault could not be asked for (out of reach) is asked again by the sweep rather
-- than forgotten with the buyer's money.
CREATE TABLE stray_charges (
    charge_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'refunded', 'refused')),
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    settled_at BIGINT
);
CREATE INDEX stray_charges_pending ON stray_charges (created_at) WHERE status = 'pending';
