//! Signed webhooks: the seller's own servers are told when an order is paid, when an option
//! sells out or comes back, and the like, without polling the admin api.
//!
//! Delivery goes through an outbox so that an event is never lost and never invented: the
//! event row (and one delivery row per subscribed endpoint) is written by [`emit`] inside the
//! write transaction of the change it reports, so it exists exactly when the change committed.
//! A background [`delivery::Worker`] sends the rows afterwards, at least once, claiming each
//! with a conditional UPDATE so replicas on one PostgreSQL never send one concurrently, and
//! retries failures with exponential backoff and jitter for up to 24 hours. Receivers
//! deduplicate by the event's `id`.
//!
//! Every request carries `Tweetbuy-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`, an
//! HMAC-SHA256 over `"{t}.{body}"` with the endpoint's secret ([`signing`]); while a secret
//! is being rotated both the new and the old one sign. docs/sellers.md shows how a receiver
//! checks it, with `docs/examples/verify-webhook.mjs`.
//!
//! Personal data follows the seller view's rule (`seller_orders`): an order's buyer email
//! is in an event only when the buyer agreed to share it.

pub mod delivery;
pub mod endpoints;
pub mod objects;
pub mod signing;

use crate::db::WriteTx;
use crate::error::AppError;
use serde::{Deserialize, Serialize};

/// What happened. The wire name (`order.paid`) is what endpoints subscribe to and what the
/// payload's `type` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum EventType {
    /// An order's payment went through; the object is the seller's view of the order.
    #[serde(rename = "order.paid")]
    OrderPaid,
    /// An order's payment was refunded; the object is the seller's view of the order.
    #[serde(rename = "order.refunded")]
    OrderRefunded,
    /// An order was cancelled; the object is the seller's view of the order.
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    /// A paid order took the last unit of an option; the object is [`objects::StockObject`].
    #[serde(rename = "product.sold_out")]
    ProductSoldOut,
    /// An option's stock rose from zero; the object is [`objects::StockObject`].
    #[serde(rename = "product.restocked")]
    ProductRestocked,
    /// A buyer joined a product's waitlist.
    #[serde(rename = "waitlist.joined")]
    WaitlistJoined,
}

impl EventType {
    /// Every event type, in the order the docs list them.
    pub const ALL: [EventType; 6] = [
        EventType::OrderPaid,
        EventType::OrderRefunded,
        EventType::OrderCancelled,
        EventType::ProductSoldOut,
        EventType::ProductRestocked,
        EventType::WaitlistJoined,
    ];

    /// The wire name, e.g. `order.paid`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::OrderPaid => "order.paid",
            EventType::OrderRefunded => "order.refunded",
            EventType::OrderCancelled => "order.cancelled",
            EventType::ProductSoldOut => "product.sold_out",
            EventType::ProductRestocked => "product.restocked",
            EventType::WaitlistJoined => "waitlist.joined",
        }
    }

    /// The type with this wire name.
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// The body every endpoint receives for one event.
#[derive(Debug, Serialize, Deserialize)]
pub struct Event<T> {
    /// `evt_…`, unique per event: receivers deduplicate by it (a delivery may come twice).
    pub id: String,
    /// What happened, e.g. `order.paid`: the body's `type`.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Unix seconds, when the change committed.
    pub created_at: i64,
    /// What the event is about: an order (the seller view) or an option's stock.
    pub object: T,
}

/// Records an event in the open write transaction `tx` of the change it reports, with one
/// delivery per enabled endpoint subscribed to `event_type`; the worker sends them after
/// the commit. Nothing is written when no endpoint wants the event. Returns the event's id
/// when one was written.
///
/// Call it before `tx.commit()`: a rolled-back change then leaves no event, a committed one
/// always has its event. `object` must hold personal data only where the buyer consented
/// (see [`objects::order`]).
pub async fn emit<T: Serialize>(
    tx: &mut WriteTx,
    event_type: EventType,
    object: &T,
) -> Result<Option<String>, AppError> {
    delivery::record(tx, event_type, None, object).await
}

/// [`emit`], at most once per `once_key` (e.g. the order's id for `order.paid`): a second
/// call with the same key, in this or a later transaction, writes nothing.
pub async fn emit_once<T: Serialize>(
    tx: &mut WriteTx,
    event_type: EventType,
    once_key: &str,
    object: &T,
) -> Result<Option<String>, AppError> {
    delivery::record(tx, event_type, Some(once_key), object).await
}

/// The events a paid order may make (see [`order_paid_for`]).
pub(crate) const ORDER_PAID_EVENTS: [EventType; 2] = [EventType::OrderPaid, EventType::ProductSoldOut];

/// The events of a paid order, in the transaction that marks it paid: `order.paid`, and
/// `product.sold_out` when this order took the last unit of its option (its stock is 0 and
/// no other unpaid order still holds units of it). `wanted` says, for each of
/// [`ORDER_PAID_EVENTS`], whether any endpoint subscribes to it: the caller asks
/// ([`delivery::SubscribedEach`]) in a batch of the same transaction.
pub(crate) async fn order_paid_for(tx: &mut WriteTx, order_id: &str, wanted: [bool; 2]) -> Result<(), AppError> {
    let [paid_wanted, sold_out_wanted] = wanted;
    if paid_wanted {
        let order = objects::order(tx, order_id).await?;
        emit_once(tx, EventType::OrderPaid, order_id, &order).await?;
    }
    if sold_out_wanted {
        if let Some(stock) = objects::sold_out_by(tx, order_id).await? {
            emit_once(tx, EventType::ProductSoldOut, &format!("sold_out:{order_id}"), &stock).await?;
        }
    }
    Ok(())
}

/// An order event (`order.paid`, `order.refunded`, `order.cancelled`): the seller's view of
/// the order as this transaction leaves it, once per `once_key` (the order's id for a payment,
/// the refund's for a refund or cancellation).
pub(crate) async fn order_event(
    tx: &mut WriteTx,
    event_type: EventType,
    order_id: &str,
    once_key: &str,
) -> Result<(), AppError> {
    if delivery::has_subscribers(tx, event_type).await? {
        let order = objects::order(tx, order_id).await?;
        emit_once(tx, event_type, once_key, &order).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_by_wire_name() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!(EventType::parse("order.*"), None);
    }
}
