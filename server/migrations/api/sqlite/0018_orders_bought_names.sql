-- What an order bought as the catalog named it then. A catalog import that changes a product's
-- title or delivery note, or an option's label (or removes the option), first writes the old
-- ones into that product's orders that have none yet, so an order, its receipt and the seller's
-- list keep what the buyer bought. `bought_title` NULL: the product's title and delivery note
-- are still the catalog's (`bought_delivery` is read only beside a `bought_title`, as a note
-- may be NULL); `bought_label` NULL: the option's label is still the catalog's.
ALTER TABLE orders ADD COLUMN bought_title TEXT;
ALTER TABLE orders ADD COLUMN bought_delivery TEXT;
ALTER TABLE orders ADD COLUMN bought_label TEXT;
