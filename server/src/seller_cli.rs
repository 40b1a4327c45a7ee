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
use crate::config::{CatalogCommand, DbArgs, DiscountsCommand, OrdersCommand, VaultArgs, WebhooksCommand};
use crate::{clock, db};
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
                true => println!("{} is good: it would import {count} product(s); nothing was written", file.display()),
                false => println!("imported {count} product(s) from {}", file.display()),
            }
            Ok(())
        }
    }
}

fn vault_client(args: &VaultArgs) -> Result<VaultClient, String> {
    let (url, key) = args.resolved()?;
    Ok(VaultClient::new(&url, key.expose()))
}

fn print_refund(what: &str, answered: &refunds::Answered) {
    let r = &answered.refund;
    let again = if answered.replayed { " (already done: nothing new was refunded)" } else { "" };
    println!(
        "{what} {}: refund {} of {} {} ({}){again}; refunded in all {}, left {}",
        r.order_number,
        r.number,
        r.amount_minor,
        r.currency,
        r.refund_id,
        r.order_refunded_minor,
        r.order_remaining_minor
    );
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
                // Only a refund that may have been made (unanswered, or a retry refused for the
                // api's key or a rate limit) is worth retrying, and only under its own key.
                let retry = e.is_internal()
                    || matches!(&e, crate::error::AppError::Client { status, .. } if status.is_server_error());
                let message = refusal(e);
                if retry {
                    format!("{message} (retry with --key {key}: it never refunds twice)")
                } else {
                    message
                }
            })?;
            print_refund("refunded", &answered);
            return Ok(());
        }
        OrdersCommand::Cancel { order_number, db, vault } => {
            let vault = vault_client(&vault)?;
            let pool = open(&db).await?;
            let answered = refunds::cancel(&pool, &vault, &order_number).await.map_err(refusal)?;
            print_refund("cancelled", &answered);
            return Ok(());
        }
        OrdersCommand::Ship { order_number, db } => {
            let shipment = refunds::ship(&open(&db).await?, &order_number).await.map_err(refusal)?;
            println!("shipped {} at {}", shipment.order_number, shipment.shipped_at);
            return Ok(());
        }
    };
    let pool = open(&db).await?;
    let orders = seller_orders::list(&pool).await.map_err(|e| e.to_string())?;
    if csv {
        print!("{}", seller_orders::to_csv(&orders));
        return Ok(());
    }
    for o in &orders {
        println!(
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
            println!("    refunded {} {}", o.refunded_minor, o.currency);
        }
        if let (Some(charge), Some(refund)) = (&o.late_charge_id, &o.late_charge_refund) {
            println!("    a charge approved after the order was settled ({charge}): its refund is {refund}");
        }
    }
    println!("{} order(s)", orders.len());
    Ok(())
}

/// `discounts create`, `discounts list`, `discounts disable CODE`.
pub async fn discounts(command: DiscountsCommand) -> Result<(), String> {
    match command {
        DiscountsCommand::Create { spec, db } => {
            let code = discounts::admin::create(&open(&db).await?, &spec).await.map_err(refusal)?;
            println!("created {}", describe(&code));
        }
        DiscountsCommand::List { db } => {
            let codes = discounts::list(&open(&db).await?).await.map_err(|e| e.to_string())?;
            for code in &codes {
                println!("{}", describe(code));
            }
            println!("{} code(s)", codes.len());
        }
        DiscountsCommand::Disable { code, db } => {
            let code = discounts::admin::disable(&open(&db).await?, &code)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("there is no code {code}"))?;
            println!("disabled {}", describe(&code));
        }
    }
    Ok(())
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

fn print_endpoint(e: &Endpoint) {
    let state = match (&e.disabled_reason, e.enabled) {
        (_, true) => "enabled".to_owned(),
        (Some(reason), false) => format!("disabled ({reason})"),
        (None, false) => "disabled".to_owned(),
    };
    println!("{}  {}  {}  [{}]", e.id, e.url, state, e.events.join(","));
    if !e.description.is_empty() {
        println!("    {}", e.description);
    }
    if let Some(until) = e.previous_secret_expires_at {
        println!("    the previous secret signs too until {until} (Unix seconds)");
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
    match command {
        WebhooksCommand::Add { url, events, description, db } => {
            let events = events_arg(events)?;
            let pool = open(&db).await?;
            let created = hooks::create(&pool, &NewEndpoint { url, events, description }).await.map_err(refusal)?;
            print_endpoint(&created.endpoint);
            println!("secret: {}", created.secret);
            println!("Keep the secret in your receiver's configuration; it is not shown again.");
        }
        WebhooksCommand::List { db } => {
            let endpoints = hooks::list(&open(&db).await?).await.map_err(refusal)?;
            for e in &endpoints {
                print_endpoint(e);
            }
            println!("{} endpoint(s)", endpoints.len());
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
            print_endpoint(&endpoint);
        }
        WebhooksCommand::Rotate { id, keep_previous_secs, db } => {
            let rotated = hooks::rotate(&open(&db).await?, &id, Some(keep_previous_secs)).await.map_err(refusal)?;
            print_endpoint(&rotated.endpoint);
            println!("secret: {}", rotated.secret);
        }
        WebhooksCommand::Remove { id, db } => {
            hooks::remove(&open(&db).await?, &id).await.map_err(refusal)?;
            println!("removed {id}");
        }
        WebhooksCommand::Deliveries { id, limit, db } => {
            let deliveries = hooks::deliveries(&open(&db).await?, &id, Some(limit)).await.map_err(refusal)?;
            for d in &deliveries {
                println!("{}  {}  {}  {}  attempts {}", d.id, d.event_type, d.event_id, d.status, d.attempts);
                for a in &d.log {
                    let status = a.status_code.map_or("-".to_owned(), |s| s.to_string());
                    let error = a.error.as_deref().unwrap_or("");
                    println!("    #{} at {}  {}  {} ms  {}", a.attempt, a.at, status, a.duration_ms, error);
                }
            }
            println!("{} deliveries", deliveries.len());
        }
        WebhooksCommand::Resend { id, delivery_id, db } => {
            let delivery = hooks::resend(&open(&db).await?, &id, &delivery_id).await.map_err(refusal)?;
            println!("queued {} ({} {})", delivery.id, delivery.event_type, delivery.event_id);
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::events_arg;

    #[test]
    fn all_stands_alone_among_the_events() {
        let list = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(events_arg(list(&["all"])).unwrap(), Vec::<String>::new());
        assert_eq!(events_arg(list(&["order.paid", "bogus"])).unwrap(), list(&["order.paid", "bogus"]));
        assert!(events_arg(list(&["all", "order.paid"])).unwrap_err().contains("all alone"));
    }
}
