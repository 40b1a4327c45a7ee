-- The seller's view of an order (the admin api, and every order event a webhook carries,
-- read in the payment's own transaction) looks up its stray charge by the order.
CREATE INDEX stray_charges_by_order ON stray_charges (order_id);
