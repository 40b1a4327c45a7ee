-- The language the seller wrote a product's texts in (a BCP 47 tag, checked by the catalog
-- import), so the sheet can mark them for screen readers when they differ from the visitor's
-- language. NULL: not said.
ALTER TABLE products ADD COLUMN lang TEXT;
