//! The seller's command-line tools: `catalog import FILE`, `orders list`, `orders export --csv`,
//! `orders refund|cancel|ship ORDER_NUMBER`, `discounts create|list|disable`.
//!
//! Every tool works on the database directly, as the admin api does, so it runs whether the
//! server is up or not. A refund or a cancellation also needs the vault, which gives the money
//! back: the tool calls the vault's internal listener itself, with the api's bearer key
//! (`TWEETBUY_VAULT_INTERNAL_URL`, `TWEETBUY_VAULT_API_KEY`, the same settings as `serve`).

use crate::api::discounts::{self, DiscountCode};
use crate::api::vault_client::VaultClient;
use crate::api::{catalog_import, refunds, seller_orders};
use crate::config::{CatalogCommand, DbArgs, DiscountsCommand, OrdersCommand, VaultArgs};
use crate::{clock, db};
use tweetbuy_core::DiscountValue;

async fn open(args: &DbArgs) -> Result<db::Db, String> {
    let (api, _) = args.locations()?;
    if let db::Location::Sqlite(path) = &api {
        std::fs::create_dir_all(path.parent().unwrap_or(std::path::Path::new(".")))
            .map_err(|e| format!("data directory: {e}"))?;
    }
    db::open_api(&api).await.map_err(|e| format!("opening the api's database: {e}"))
}

/// `catalog import FILE`: checks the whole file, then applies it in one transaction.
pub async fn catalog(command: CatalogCommand) -> Result<(), String> {
    match command {
        CatalogCommand::Import { file, db } => {
            let format = catalog_import::format_of(&file)
                .ok_or_else(|| format!("{}: name the file .toml or .json", file.display()))?;
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let products = catalog_import::parse(&text, format)
                .map_err(|e| format!("{} was not imported:\n{e}", file.display()))?;
            let pool = open(&db).await?;
            let count = catalog_import::apply(&pool, &products, clock::now())
                .await
                .map_err(|e| format!("{} was not imported: {}", file.display(), e.into_parts().1.message))?;
            println!("imported {count} product(s) from {}", file.display());
            Ok(())
        }
    }
}

/// What the seller reads when a tool is refused: the message and any field problems.
fn refusal(error: crate::error::AppError) -> String {
    let body = error.into_parts().1;
    let fields: Vec<String> = body.fields.iter().map(|f| format!("\n  {}: {}", f.field, f.message)).collect();
    format!("{}{}", body.message, fields.concat())
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
                // Only an unanswered refund is worth retrying, and only under its own key.
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
    }
    println!("{} order(s)", orders.len());
    Ok(())
}

/// `discounts create`, `discounts list`, `discounts disable CODE`.
pub async fn discounts(command: DiscountsCommand) -> Result<(), String> {
    let refused = refusal;
    match command {
        DiscountsCommand::Create { spec, db } => {
            let code = discounts::admin::create(&open(&db).await?, &spec).await.map_err(refused)?;
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
