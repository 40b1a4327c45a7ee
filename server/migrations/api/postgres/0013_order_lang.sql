-- The language the buyer paid in (a BCP 47 tag, from the card frame), so the receipt and any
-- refund notice are written in it. NULL: not said, or not a tag; they are written in English.
ALTER TABLE orders ADD COLUMN lang TEXT;
