-- A one-time card's card-testing fingerprint (the keyed HMAC of its number that
-- `card_declines` and `card_blocks` count by), taken when the card is tokenized so that the
-- charge checks the number's block in the statement that claims the token. Erased with the
-- number. The same SQL on both engines.
ALTER TABLE cards ADD COLUMN fingerprint TEXT;
