-- Every one-time token, typed or saved, is minted for one payment intent and charges only
-- an order of that intent. The same SQL on both engines.
ALTER TABLE cards ADD COLUMN intent_id TEXT;
ALTER TABLE saved_tokens ADD COLUMN intent_id TEXT;
