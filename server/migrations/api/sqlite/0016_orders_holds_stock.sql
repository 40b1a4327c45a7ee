-- Whether an order's units count against its option's current count: false for every order
-- of an option whose count a catalog import started afresh or stopped (the import forgets
-- them), so an order placed under an earlier count, or while the option counted none, gives
-- no unit back to the new count when it fails or is cancelled.
ALTER TABLE orders ADD COLUMN holds_stock BOOLEAN NOT NULL DEFAULT TRUE;
-- The import's forgetting reads only the orders still holding units.
CREATE INDEX orders_holding ON orders (product_id, variant_id) WHERE holds_stock;
