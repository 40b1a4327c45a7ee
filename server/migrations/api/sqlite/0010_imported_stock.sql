-- The stock each variant's last catalog import set. A re-import applies the change from it to
-- the stock left (catalog_import.rs), so units sold since the last import stay sold; a file
-- imported again unchanged leaves the stock as it is. NULL: stock not counted, or never set
-- by an import (the next import then sets the count outright).
ALTER TABLE variants ADD COLUMN imported_stock INTEGER;
