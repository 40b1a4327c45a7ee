//! The seller's command-line tools: `catalog import FILE`, `orders list`, `orders export --csv`.

use crate::api::{catalog_import, seller_orders};
use crate::config::{CatalogCommand, DbArgs, OrdersCommand};
use crate::{clock, db};

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

/// `orders list` (one line per order) and `orders export --csv`.
pub async fn orders(command: OrdersCommand) -> Result<(), String> {
    let (db, csv) = match command {
        OrdersCommand::List { db } => (db, false),
        OrdersCommand::Export { db, .. } => (db, true),
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
    }
    println!("{} order(s)", orders.len());
    Ok(())
}
