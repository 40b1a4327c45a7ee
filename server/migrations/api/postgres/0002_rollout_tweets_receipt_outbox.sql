-- Issue 3 and 6: a rollout share per product, several tweets per product, and the receipt
-- outbox. The same SQL on SQLite and PostgreSQL.

-- The share of visitors (0 to 100) who are shown the offer; 100 is everyone.
ALTER TABLE products ADD COLUMN rollout_share BIGINT NOT NULL DEFAULT 100
    CHECK (rollout_share >= 0 AND rollout_share <= 100);

-- Every tweet a product is offered from. products.tweet_id stays the first of them.
CREATE TABLE product_tweets (
    tweet_id   TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id)
);
INSERT INTO product_tweets (tweet_id, product_id) SELECT tweet_id, id FROM products;
CREATE INDEX product_tweets_product ON product_tweets (product_id);

-- One row per paid order, written in the transaction that marks it paid; a worker sends the
-- receipt afterwards, so a crash between the commit and the send loses nothing.
CREATE TABLE receipt_outbox (
    order_id     TEXT PRIMARY KEY REFERENCES orders (id),
    created_at   BIGINT NOT NULL,
    locked_until BIGINT,                     -- a worker is sending it until then
    attempts     BIGINT NOT NULL DEFAULT 0,
    sent_at      BIGINT,
    last_error   TEXT
);
CREATE INDEX receipt_outbox_pending ON receipt_outbox (sent_at, created_at);
