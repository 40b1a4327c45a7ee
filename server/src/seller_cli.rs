//! The seller's command-line tools: `catalog import FILE`, `orders list`, `orders export --csv`,
//! `orders refund|cancel|ship ORDER_NUMBER`, `discounts create|list|disable` and
//! `webhooks add|list|update|rotate|remove|deliveries|resend`.
//!
//! Every tool works on the database directly, as the admin api does, so it runs whether the
//! server is up or not. A refund or a cancellation also needs the vault, which gives the money
//! back: the tool calls the vault's internal listener itself, with the api's bearer key
//! (`TWEETBUY_VAULT_INTERNAL_URL`, `TWEETBUY_VAULT_API_KEY`, the same settings as `serve`).

use crate::api::discounts::{self, DiscountCode};
use crate::api::vault_client::VaultClient;
use crate::api::webhooks::endpoints::{self as hooks, Endpoint, EndpointChange, NewEndpoint};
use crate::api::{catalog_import, refunds, seller_orders};
use crate::cli_out::{emit, say};
use crate::config::{CatalogCommand, DbArgs, DiscountsCommand, OrdersCommand, VaultArgs, WebhooksCommand};
use crate::{clock, db};
use std::fmt::Write as _;
use tweetbuy_core::DiscountValue;

/// The api's database, which the server must have made: a tool never starts a new shop.
async fn open(args: &DbArgs) -> Result<db::Db, String> {
    let (api, _) = args.locations()?;
    db::require_made(&api).await?;
    db::open_api(&api).await.map_err(|e| format!("opening the api's database: {e}"))
}

/// `catalog import FILE`: checks the whole file, then applies it in one transaction.
pub async fn catalog(command: CatalogCommand) -> Result<(), String> {
    match command {
        CatalogCommand::Import { file, dry_run, db } => {
            let format = catalog_import::format_of(&file)
                .ok_or_else(|| format!("{}: name the file .toml or .json", file.display()))?;
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let products = catalog_import::parse(&text, format)
                .map_err(|e| format!("{} was not imported:\n{e}", file.display()))?;
            let pool = open(&db).await?;
            let applied = match dry_run {
                true => catalog_import::try_apply(&pool, &products, clock::now()).await,
                false => catalog_import::apply(&pool, &products, clock::now()).await,
            };
            let count = applied.map_err(|e| {
                let body = e.into_parts().1;
                let problems: Vec<String> = body.fields.into_iter().map(|f| f.message).collect();
                let why = if problems.is_empty() { body.message } else { problems.join("\n") };
                format!("{} was not imported:\n{why}", file.display())
            })?;
            match dry_run {
                true => emit(
                    &format!("{} is good: it would import {count} product(s); nothing was written\n", file.display()),
                    None,
                ),
                false => emit(
                    &format!("imported {count} product(s) from {}\n", file.display()),
                    Some(format!("imported {count} product(s) from {}", file.display())),
                ),
            }
        }
    }
}

fn vault_client(args: &VaultArgs) -> Result<VaultClient, String> {
    let (url, key) = args.resolved()?;
    Ok(VaultClient::new(&url, key.expose()))
}

/// Writes what a refund or a cancellation did; `key`: the refund's key, for a retry.
fn emit_refund(what: &str, answered: &refunds::Answered, key: Option<&str>) -> Result<(), String> {
    let r = &answered.refund;
    let again = if answered.replayed { " (already done: nothing new was refunded)" } else { "" };
    let done = match key {
        Some(key) => format!("{what} {} (refund {}, --key {key})", r.order_number, r.refund_id),
        None => format!("{what} {} (refund {})", r.order_number, r.refund_id),
    };
    let mut out = String::new();
    say!(
        out,
        "{what} {}: refund {} of {} {} ({}){again}; refunded in all {}, left {}",
        r.order_number,
        r.number,
        r.amount_minor,
        r.currency,
        r.refund_id,
        r.order_refunded_minor,
        r.order_remaining_minor
    );
    emit(&out, Some(done))
}

/// `orders list` (one line per order), `orders export --csv`, and `orders refund|cancel|ship`.
pub async fn orders(command: OrdersCommand) -> Result<(), String> {
    let (db, csv) = match command {
        OrdersCommand::List { db } => (db, false),
        OrdersCommand::Export { db, .. } => (db, true),
        OrdersCommand::Refund { order_number, amount_minor, key, db, vault } => {
            let vault = vault_client(&vault)?;
            let key = key.unwrap_or_else(|| crate::ids::random_id("cli_"));
            let pool = open(&db).await?;
            let answered = refunds::refund(&pool, &vault, &order_number, amount_minor, &key).await.map_err(|e| {
                let retry = may_have_refunded(&e);
                let message = refusal(e);
                if retry {
                    format!("{message} (retry with --key {key}: it never refunds twice)")
                } else {
                    message
                }
            })?;
            return emit_refund("refunded", &answered, Some(&key));
        }
        OrdersCommand::Cancel { order_number, db, vault } => {
            let vault = vault_client(&vault)?;
            let pool = open(&db).await?;
            let answered = refunds::cancel(&pool, &vault, &order_number).await.map_err(refusal)?;
            return emit_refund("cancelled", &answered, None);
        }
        OrdersCommand::Ship { order_number, db } => {
            let shipment = refunds::ship(&open(&db).await?, &order_number).await.map_err(refusal)?;
            let shipped = format!("shipped {} at {}", shipment.order_number, shipment.shipped_at);
            return emit(&format!("{shipped}\n"), Some(shipped));
        }
    };
    let pool = open(&db).await?;
    let orders = seller_orders::list(&pool).await.map_err(|e| e.to_string())?;
    if csv {
        return emit(&seller_orders::to_csv(&orders), None);
    }
    let mut out = String::new();
    for o in &orders {
        say!(
            out,
            "{}  {:<8} {} x{} ({})  {} {}  {} {}  {}",
            o.order_number,
            o.status,
            o.product_title,
            o.quantity,
            o.variant_label,
            o.total_minor,
            o.currency,
            o.card_brand.as_deref().unwrap_or("-"),
            o.card_last4.as_deref().unwrap_or("-"),
            o.email.as_deref().unwrap_or("(email not shared)"),
        );
        if o.refunded_minor > 0 {
            say!(out, "    refunded {} {}", o.refunded_minor, o.currency);
        }
        if o.refund_pending_minor > 0 {
            say!(out, "    a refund of {} {} waits for the vault's answer", o.refund_pending_minor, o.currency);
        }
        if let (Some(charge), Some(refund)) = (&o.late_charge_id, &o.late_charge_refund) {
            say!(out, "    a charge approved after the order was settled ({charge}): its refund is {refund}");
        }
    }
    say!(out, "{} order(s)", orders.len());
    emit(&out, None)
}

/// `discounts create`, `discounts list`, `discounts disable CODE`.
pub async fn discounts(command: DiscountsCommand) -> Result<(), String> {
    match command {
        DiscountsCommand::Create { spec, db } => {
            let code = discounts::admin::create(&open(&db).await?, &spec).await.map_err(refusal)?;
            emit(&format!("created {}\n", describe(&code)), Some(format!("created code {}", code.code)))
        }
        DiscountsCommand::List { db } => {
            let codes = discounts::list(&open(&db).await?).await.map_err(|e| e.to_string())?;
            let mut out = String::new();
            for code in &codes {
                say!(out, "{}", describe(code));
            }
            say!(out, "{} code(s)", codes.len());
            emit(&out, None)
        }
        DiscountsCommand::Disable { code, db } => {
            let code = discounts::admin::disable(&open(&db).await?, &code)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("there is no code {code}"))?;
            emit(&format!("disabled {}\n", describe(&code)), Some(format!("disabled code {}", code.code)))
        }
    }
}

/// What a refused command prints: the message, and each field's problem.
fn refusal(error: crate::AppError) -> String {
    let (_, body) = error.into_parts();
    let mut text = body.message;
    for field in body.fields {
        text.push_str(&format!("\n  {}: {}", field.field, field.message));
    }
    text
}

fn say_endpoint(out: &mut String, e: &Endpoint) {
    let state = match (&e.disabled_reason, e.enabled) {
        (_, true) => "enabled".to_owned(),
        (Some(reason), false) => format!("disabled ({reason})"),
        (None, false) => "disabled".to_owned(),
    };
    say!(out, "{}  {}  {}  [{}]", e.id, e.url, state, e.events.join(","));
    if !e.description.is_empty() {
        say!(out, "    {}", e.description);
    }
    if let Some(until) = e.previous_secret_expires_at {
        say!(out, "    the previous secret signs too until {until} (Unix seconds)");
    }
}

/// The event types of `--events`: `all` alone is every event (the endpoint's empty list); with
/// other names beside it the list is refused, since either reading could be the wrong one.
fn events_arg(names: Vec<String>) -> Result<Vec<String>, String> {
    match names.iter().any(|name| name.trim() == "all") {
        false => Ok(names),
        true if names.len() == 1 => Ok(Vec::new()),
        true => Err("--events: give all alone, or a list of event types without it".into()),
    }
}

/// `webhooks …`: the same operations as `/admin/v1/webhooks…`, on the database directly.
pub async fn webhooks(command: WebhooksCommand) -> Result<(), String> {
    let mut out = String::new();
    let done = match command {
        WebhooksCommand::Add { url, events, description, db } => {
            let events = events_arg(events)?;
            let pool = open(&db).await?;
            let created = hooks::create(&pool, &NewEndpoint { url, events, description }).await.map_err(refusal)?;
            say_endpoint(&mut out, &created.endpoint);
            say!(out, "secret: {}", created.secret);
            say!(out, "Keep the secret in your receiver's configuration; it is not shown again.");
            Some(secret_lost("added", &created.endpoint.id))
        }
        WebhooksCommand::List { db } => {
            let endpoints = hooks::list(&open(&db).await?).await.map_err(refusal)?;
            for e in &endpoints {
                say_endpoint(&mut out, e);
            }
            say!(out, "{} endpoint(s)", endpoints.len());
            None
        }
        WebhooksCommand::Update { id, url, events, description, disable, enable, drop_previous_secret, db } => {
            let events = events.map(events_arg).transpose()?;
            let enabled = if disable {
                Some(false)
            } else if enable {
                Some(true)
            } else {
                None
            };
            let change = EndpointChange { url, events, description, enabled, drop_previous_secret };
            let endpoint = hooks::update(&open(&db).await?, &id, &change).await.map_err(refusal)?;
            say_endpoint(&mut out, &endpoint);
            Some(format!("updated webhook endpoint {id}"))
        }
        WebhooksCommand::Rotate { id, keep_previous_secs, db } => {
            let rotated = hooks::rotate(&open(&db).await?, &id, Some(keep_previous_secs)).await.map_err(refusal)?;
            say_endpoint(&mut out, &rotated.endpoint);
            say!(out, "secret: {}", rotated.secret);
            Some(secret_lost("rotated", &id))
        }
        WebhooksCommand::Remove { id, db } => {
            hooks::remove(&open(&db).await?, &id).await.map_err(refusal)?;
            say!(out, "removed {id}");
            Some(format!("removed webhook endpoint {id}"))
        }
        WebhooksCommand::Deliveries { id, limit, db } => {
            let deliveries = hooks::deliveries(&open(&db).await?, &id, Some(limit)).await.map_err(refusal)?;
            for d in &deliveries {
                say!(out, "{}  {}  {}  {}  attempts {}", d.id, d.event_type, d.event_id, d.status, d.attempts);
                for a in &d.log {
                    let status = a.status_code.map_or("-".to_owned(), |s| s.to_string());
                    let error = a.error.as_deref().unwrap_or("");
                    say!(out, "    #{} at {}  {}  {} ms  {}", a.attempt, a.at, status, a.duration_ms, error);
                }
            }
            say!(out, "{} deliveries", deliveries.len());
            None
        }
        WebhooksCommand::Resend { id, delivery_id, db } => {
            let delivery = hooks::resend(&open(&db).await?, &id, &delivery_id).await.map_err(refusal)?;
            say!(out, "queued {} ({} {})", delivery.id, delivery.event_type, delivery.event_id);
            Some(format!("queued delivery {}", delivery.id))
        }
    };
    emit(&out, done)
}

/// What a command that made an endpoint's new secret says when the secret could not be shown:
/// it is shown once, so the way to a secret is another rotation.
fn secret_lost(what: &str, id: &str) -> String {
    format!(
        "{what} webhook endpoint {id}; its new secret is not shown again: \
         `tweetbuy-server webhooks rotate {id}` makes another"
    )
}

/// One line per code: what it takes off, for what, and its uses.
fn describe(code: &DiscountCode) -> String {
    let value = match code.value {
        DiscountValue::Percent(p) => format!("{p}% off"),
        DiscountValue::Amount(m) => format!("{} {} off", m.minor, m.currency.code()),
    };
    let scope = code.product_id.as_deref().map_or_else(
        || format!("every product of {}", code.seller.as_deref().unwrap_or("-")),
        |id| format!("product {id}"),
    );
    let uses = code.max_uses.map_or_else(|| format!("{} used", code.used), |max| format!("{}/{max} used", code.used));
    let state = if code.active { "" } else { "  (disabled)" };
    format!("{:<12} {value}, {scope}, {uses}{state}", code.code)
}

/// Whether a refund that failed may have been made, so that it is worth retrying, and only
/// under its own key: the vault did not answer, or refused a retry for the api's key or a
/// rate limit (`unavailable`, 503), or something failed on our side. A new refund the vault
/// refused (`payment_error`, 502) made nothing.
fn may_have_refunded(error: &crate::error::AppError) -> bool {
    error.is_internal()
        || matches!(error, crate::error::AppError::Client { status, .. } if *status == axum::http::StatusCode::SERVICE_UNAVAILABLE)
}

#[cfg(test)]
mod tests {
    use super::{events_arg, may_have_refunded};
    use crate::error::AppError;
    use axum::http::StatusCode;
    use tweetbuy_core::ErrorCode;

    #[test]
    fn only_a_refund_that_may_have_been_made_is_offered_its_key_again() {
        assert!(may_have_refunded(&AppError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable, "x")));
        assert!(may_have_refunded(&AppError::internal("x")));
        assert!(!may_have_refunded(&AppError::new(StatusCode::BAD_GATEWAY, ErrorCode::PaymentError, "x")));
        assert!(!may_have_refunded(&AppError::new(StatusCode::CONFLICT, ErrorCode::OrderNotPaid, "x")));
    }

    #[test]
    fn all_stands_alone_among_the_events() {
        let list = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(events_arg(list(&["all"])).unwrap(), Vec::<String>::new());
        assert_eq!(events_arg(list(&["order.paid", "bogus"])).unwrap(), list(&["order.paid", "bogus"]));
        assert!(events_arg(list(&["all", "order.paid"])).unwrap_err().contains("all alone"));
    }
}
