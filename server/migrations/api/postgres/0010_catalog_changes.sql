-- Each server process keeps the products it prices intents with (api::product_cache) and
-- forgets them when told: these triggers tell every process listening on the channel
-- `tweetbuy_catalog` (the payload is the schema) that a product changed, that a variant was
-- added, removed, relabelled or repriced, or that a variant sold out or came back. A
-- purchase's stock decrement that leaves units tells nobody: its update names only `stock`,
-- and the stock stays above zero. PostgreSQL only (SQLite keeps nothing).
CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tweetbuy_catalog', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;

CREATE TRIGGER products_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();

CREATE TRIGGER variants_changed
    AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF product_id, id, position, label, price_minor ON variants
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();

CREATE TRIGGER variants_sold_out_or_back AFTER UPDATE OF stock ON variants
    FOR EACH ROW WHEN ((OLD.stock = 0) IS DISTINCT FROM (NEW.stock = 0))
    EXECUTE FUNCTION catalog_changed();
