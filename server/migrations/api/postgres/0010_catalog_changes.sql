-- Each server process keeps the products it prices intents with (api::product_cache) and
-- forgets them when told: these triggers tell every process listening on the channel
-- `tweetbuy_catalog` (the payload is the schema) that a product changed, that a variant was
-- added, removed, relabelled or repriced, or that a variant's stock did anything but fall
-- while leaving units: a purchase's decrement tells nobody, a sell-out, a give-back or a
-- restock does. An update that changes nothing (the waitlist's lock on a product row) tells
-- nobody either. PostgreSQL only (SQLite keeps nothing).
CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tweetbuy_catalog', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;

CREATE TRIGGER products_added_or_removed AFTER INSERT OR DELETE OR TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();

CREATE TRIGGER products_changed AFTER UPDATE ON products
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION catalog_changed();

CREATE TRIGGER variants_added_or_removed AFTER INSERT OR DELETE OR TRUNCATE ON variants
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();

CREATE TRIGGER variants_changed AFTER UPDATE OF product_id, id, position, label, price_minor ON variants
    FOR EACH ROW WHEN ((OLD.product_id, OLD.id, OLD.position, OLD.label, OLD.price_minor)
        IS DISTINCT FROM (NEW.product_id, NEW.id, NEW.position, NEW.label, NEW.price_minor))
    EXECUTE FUNCTION catalog_changed();

CREATE TRIGGER variants_stock_changed AFTER UPDATE OF stock ON variants
    FOR EACH ROW WHEN (NEW.stock IS DISTINCT FROM OLD.stock
        AND NOT COALESCE(NEW.stock > 0 AND NEW.stock < OLD.stock, FALSE))
    EXECUTE FUNCTION catalog_changed();
