-- Whether an order's units were taken from its option's count: false for one placed while
-- the option counted no stock, and for every order of an option whose count a catalog import
-- started afresh. Only units an order took go back when it fails or is cancelled, so units
-- never taken cannot go on sale.
ALTER TABLE orders ADD COLUMN holds_stock BOOLEAN NOT NULL DEFAULT TRUE;
