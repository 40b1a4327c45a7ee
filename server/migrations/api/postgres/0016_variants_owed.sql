-- Units a catalog import took off an option beyond what it had left: orders still pending
-- held them. When such an order fails or is cancelled, its units pay this back before any
-- goes on sale again, so the option never sells more than the seller's file allowed.
ALTER TABLE variants ADD COLUMN owed BIGINT NOT NULL DEFAULT 0;
