-- Orders a retry resumed while an earlier attempt might still be charging them. Once no charge
-- of theirs can still be on its way, the vault's record is read again, and an approved charge
-- the order was not paid with is refunded (`stray_charges`): a charge whose answer was lost
-- after another attempt had settled its order, or whose process died before writing it down,
-- leaves no other trace on the api's side.
-- A row goes once its order is checked.
CREATE TABLE charge_checks (
    order_id TEXT PRIMARY KEY,
    due_at BIGINT NOT NULL
);
CREATE INDEX charge_checks_due ON charge_checks (due_at);
