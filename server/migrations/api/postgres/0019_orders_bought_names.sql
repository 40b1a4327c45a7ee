-- What an order bought as the catalog named it then: the product's title and delivery note and
-- the option's label, written with the order when it is placed, so an order, its receipt and the
-- seller's list keep what the buyer bought whatever a later import renames. Orders placed before
-- these columns have none: a catalog import that changes or removes those names first writes the
-- old ones into them. `bought_title` NULL: the product's title and delivery note are read from
-- the catalog (`bought_delivery` is read only beside a `bought_title`, as a note may be NULL);
-- `bought_label` NULL: the option's label is.
ALTER TABLE orders ADD COLUMN bought_title TEXT;
ALTER TABLE orders ADD COLUMN bought_delivery TEXT;
ALTER TABLE orders ADD COLUMN bought_label TEXT;
