-- Units a catalog import took off an option beyond what it had left (sold, or held by orders
-- still being paid): a failed or cancelled order's units pay this back before any goes on
-- sale again, so the option never sells more than the seller's last file allows.
ALTER TABLE variants ADD COLUMN owed INTEGER NOT NULL DEFAULT 0;
