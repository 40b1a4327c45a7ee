-- The mail queues (receipts::MailQueue: receipts, refund receipts, waitlist notices): a
-- worker claims the next batch of unsent rows in the order they go out. Each queue gets an
-- index of its unsent rows alone, in that order, so a claim reads its batch and stops however
-- long the queue has grown in a sale. The indexes they replace began with `sent_at`, and an
-- `IS NULL` on it gives no order to the column after it: PostgreSQL read and sorted every
-- unsent row for each batch. The waitlist's notices had no index at all. The same SQL on
-- both engines.
DROP INDEX receipt_outbox_pending;
CREATE INDEX receipt_outbox_due ON receipt_outbox (created_at) WHERE sent_at IS NULL;
DROP INDEX refund_receipt_outbox_pending;
CREATE INDEX refund_receipt_outbox_due ON refund_receipt_outbox (created_at) WHERE sent_at IS NULL;
CREATE INDEX waitlist_mail_due ON waitlist (notified_at, created_at)
    WHERE mail_sent_at IS NULL AND status = 'notified';
