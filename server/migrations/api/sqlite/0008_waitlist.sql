-- "Email me when it's back": one row per product and email (a second join is the same row).
-- status: waiting (in sign-up order, created_at), notified (told the item can be bought; its
-- email waits in this row's outbox columns until sent), bought (a notified buyer paid since),
-- unsubscribed (by the email's link). Notices go to at most as many waiting rows as there
-- are units to sell, counting the notified ones that have not bought yet; a product that runs
-- out again puts its notified rows back to waiting, so each address gets one notice per
-- restock. The same SQL on both engines.
CREATE TABLE waitlist (
    id                TEXT PRIMARY KEY,
    product_id        TEXT NOT NULL REFERENCES products (id),
    email             TEXT NOT NULL,
    wait_for          TEXT NOT NULL CHECK (wait_for IN ('restock', 'sale_start')),
    lang              TEXT NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'es')),  -- the notice's
    status            TEXT NOT NULL CHECK (status IN ('waiting', 'notified', 'bought', 'unsubscribed')),
    created_at        BIGINT NOT NULL,
    notified_at       BIGINT,
    unsubscribe_token TEXT NOT NULL UNIQUE,
    mail_locked_until BIGINT,
    mail_attempts     BIGINT NOT NULL DEFAULT 0,
    mail_sent_at      BIGINT,
    mail_last_error   TEXT,
    UNIQUE (product_id, email)
);

CREATE INDEX waitlist_by_product ON waitlist (product_id, status, created_at);
