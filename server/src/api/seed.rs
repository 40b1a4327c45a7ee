//! The demo catalog: seven offers on fixed tweet ids, seeded once when the products table
//! is empty. Sale windows are relative to the moment of seeding.

use crate::db::to_text;
use crate::db::Db;
use crate::error::AppError;
use tweetbuy_core::{Currency, ProductKind, SellerKind};

const DAY: i64 = 24 * 60 * 60;

struct DemoProduct {
    id: &'static str,
    tweet_id: &'static str,
    title: &'static str,
    description: &'static str,
    seller: (&'static str, SellerKind),
    kind: ProductKind,
    currency: Currency,
    limited_edition: bool,
    /// (starts, ends) relative to seeding, in seconds.
    window: (Option<i64>, Option<i64>),
    ships_to: &'static str,
    shipping_minor: i64,
    max_per_order: i64,
    delivery: Option<&'static str>,
    image_alt: &'static str,
    /// The language of the texts above.
    lang: &'static str,
    /// (id, label, price in minor units, stock)
    variants: &'static [(&'static str, &'static str, i64, Option<i64>)],
}

const DEMO: &[DemoProduct] = &[
    DemoProduct {
        id: "red-tee",
        tweet_id: "1528000000000000001",
        title: "(RED) limited-edition tee",
        description: "Organic cotton tee in (RED)'s signature colour. Part of every purchase funds the Global Fund's \
                      work against HIV/AIDS.",
        seller: ("(RED)", SellerKind::Nonprofit),
        kind: ProductKind::Physical,
        currency: Currency::USD,
        limited_edition: true,
        window: (None, None),
        ships_to: "US",
        shipping_minor: 500,
        max_per_order: 5,
        delivery: None,
        image_alt: "A red T-shirt with the (RED) logo printed on the chest.",
        lang: "en",
        variants: &[
            ("s", "S", 3000, Some(10)),
            ("m", "M", 3000, Some(15)),
            ("l", "L", 3000, Some(15)),
            ("xl", "XL", 3000, Some(10)),
        ],
    },
    DemoProduct {
        id: "burberry-heritage-scarf",
        tweet_id: "1528000000000000002",
        title: "Heritage scarf, limited edition",
        description: "Cashmere scarf in the Burberry check, woven in Scotland. Numbered limited edition.",
        seller: ("Burberry", SellerKind::Brand),
        kind: ProductKind::Physical,
        currency: Currency::USD,
        limited_edition: true,
        window: (None, None),
        ships_to: "US,CA,GB,DE,FR",
        shipping_minor: 1500,
        max_per_order: 5,
        delivery: None,
        image_alt: "A folded cashmere scarf in a beige, black and red check.",
        lang: "en",
        variants: &[("one-size", "One size", 45000, Some(25))],
    },
    DemoProduct {
        id: "demi-fall-tour-ticket",
        tweet_id: "1528000000000000003",
        title: "Fall tour ticket",
        description: "One ticket to Demi Lovato's fall tour. General admission is standing; VIP includes early \
                      entry and a merch pack.",
        seller: ("Demi Lovato", SellerKind::Artist),
        kind: ProductKind::Ticket,
        currency: Currency::USD,
        limited_edition: false,
        window: (None, Some(14 * DAY)),
        ships_to: "",
        shipping_minor: 0,
        max_per_order: 4,
        delivery: Some("Your ticket is emailed to you."),
        image_alt: "A concert stage lit in purple with the crowd's hands raised.",
        lang: "en",
        variants: &[("ga", "General admission", 8950, Some(500)), ("vip", "VIP", 25000, Some(50))],
    },
    DemoProduct {
        id: "pharrell-signature-hat",
        tweet_id: "1528000000000000004",
        title: "Signature hat",
        description: "Pharrell's signature felt hat with a wide brim and a grosgrain band.",
        seller: ("Pharrell", SellerKind::Artist),
        kind: ProductKind::Physical,
        currency: Currency::USD,
        limited_edition: false,
        window: (None, None),
        ships_to: "US,CA",
        shipping_minor: 700,
        max_per_order: 5,
        delivery: None,
        image_alt: "A tall brown felt hat with a wide brim.",
        lang: "en",
        variants: &[("one-size", "One size", 4800, Some(200))],
    },
    DemoProduct {
        id: "paramore-tour-tee",
        tweet_id: "1528000000000000005",
        title: "Tour tee",
        description: "Paramore tour tee with the tour dates printed on the back.",
        seller: ("Paramore", SellerKind::Artist),
        kind: ProductKind::Physical,
        currency: Currency::USD,
        limited_edition: false,
        window: (None, None),
        ships_to: "US",
        shipping_minor: 500,
        max_per_order: 5,
        delivery: None,
        image_alt: "A black T-shirt with the Paramore logo in white.",
        lang: "en",
        variants: &[("s", "S", 2500, Some(0)), ("m", "M", 2500, Some(0)), ("l", "L", 2500, Some(0))],
    },
    DemoProduct {
        id: "home-depot-tool-kit",
        tweet_id: "1528000000000000006",
        title: "Tool kit",
        description: "A 65-piece home tool kit in a hard case: hammer, screwdrivers, pliers, tape measure and more.",
        seller: ("The Home Depot", SellerKind::Brand),
        kind: ProductKind::Physical,
        currency: Currency::USD,
        limited_edition: false,
        window: (Some(-30 * DAY), Some(-DAY)),
        ships_to: "US",
        shipping_minor: 900,
        max_per_order: 5,
        delivery: None,
        image_alt: "An open orange tool case holding a hammer, screwdrivers and pliers.",
        lang: "en",
        variants: &[("kit", "65-piece kit", 7900, Some(100))],
    },
    DemoProduct {
        id: "rosalia-concierto",
        tweet_id: "1528000000000000007",
        title: "Concierto: entrada general",
        description: "Una entrada general para el concierto de Rosalía. Acceso de pie a la pista.",
        seller: ("Rosalía", SellerKind::Artist),
        kind: ProductKind::Ticket,
        currency: Currency::EUR,
        limited_edition: false,
        window: (None, Some(30 * DAY)),
        ships_to: "",
        shipping_minor: 0,
        max_per_order: 4,
        delivery: Some("Tu entrada se envía a tu correo electrónico."),
        image_alt: "Rosalía en el escenario bajo una luz roja.",
        lang: "es",
        variants: &[("general", "Entrada general", 4500, Some(1000))],
    },
];

/// Seeds the demo catalog when there are no products yet. Returns whether it seeded.
pub async fn seed_demo_if_empty(db: &Db, now: i64) -> Result<bool, AppError> {
    let mut tx = db.begin().await?;
    // The first statement writes (a no-op update), so the transaction holds SQLite's write
    // lock before it reads the count: two processes cannot both seed. PostgreSQL takes no
    // such lock, so every insert also tolerates a concurrent seeder (ON CONFLICT DO NOTHING).
    sqlx::query("UPDATE products SET id = id WHERE 1 = 0").execute(&mut *tx).await?;
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM products").fetch_one(&mut *tx).await?;
    if count > 0 {
        return Ok(false);
    }
    for product in DEMO {
        sqlx::query(
            "INSERT INTO products (id, tweet_id, title, description, seller_name, seller_kind, kind, currency, \
             limited_edition, sale_starts_at, sale_ends_at, ships_to, shipping_minor, max_per_order, delivery, \
             image_alt, created_at, rollout_share, lang) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 100, $18) \
             ON CONFLICT DO NOTHING",
        )
        .bind(product.id)
        .bind(product.tweet_id)
        .bind(product.title)
        .bind(product.description)
        .bind(product.seller.0)
        .bind(to_text(&product.seller.1))
        .bind(to_text(&product.kind))
        .bind(product.currency.code())
        .bind(product.limited_edition)
        .bind(product.window.0.map(|offset| now + offset))
        .bind(product.window.1.map(|offset| now + offset))
        .bind(product.ships_to)
        .bind(product.shipping_minor)
        .bind(product.max_per_order)
        .bind(product.delivery)
        .bind(product.image_alt)
        .bind(now)
        .bind(product.lang)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO product_tweets (tweet_id, product_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(product.tweet_id)
            .bind(product.id)
            .execute(&mut *tx)
            .await?;
        for (position, (id, label, price, stock)) in product.variants.iter().enumerate() {
            sqlx::query(
                "INSERT INTO variants (product_id, id, position, label, price_minor, stock) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(product.id)
            .bind(*id)
            .bind(position as i64)
            .bind(*label)
            .bind(*price)
            .bind(*stock)
            .execute(&mut *tx)
            .await?;
        }
    }
    // The demo's code: 10 % off the (RED) tee, so a visitor can try "Have a code?".
    let tweet10 =
        super::discounts::DiscountCode::for_product("TWEET10", tweetbuy_core::DiscountValue::Percent(10), "red-tee");
    super::discounts::admin::insert_in(&mut *tx, &tweet10, now).await?;
    tx.commit().await?;
    tracing::info!(products = DEMO.len(), "seeded the demo catalog");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::catalog;
    use tweetbuy_core::{Availability, TweetId};

    #[tokio::test]
    async fn seeds_once_with_the_expected_offers() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::open_api(&dir.path().join("api.db")).await.unwrap();
        let now = 1_800_000_000;
        assert!(seed_demo_if_empty(&db, now).await.unwrap());
        assert!(!seed_demo_if_empty(&db, now).await.unwrap(), "second start does not seed again");
        let ids: Vec<TweetId> = (1..=7).map(|i| TweetId::parse(&format!("152800000000000000{i}")).unwrap()).collect();
        let products = catalog::by_tweet_ids(&db, &ids, now, "http://api.test").await.unwrap();
        let availability: Vec<Availability> = products.iter().map(|p| p.offer.availability).collect();
        use Availability::*;
        assert_eq!(availability, [Available, Available, Available, Available, SoldOut, SaleEnded, Available]);
        let tee = &products[0].offer;
        assert_eq!(tee.stock_left(), Some(50));
        assert_eq!(tee.variants.iter().map(|v| v.label.as_str()).collect::<Vec<_>>(), ["S", "M", "L", "XL"]);
        assert_eq!(tee.images[0].url, "http://api.test/images/red-tee.svg");
        assert_eq!(products[2].offer.sale_ends_at, Some(now + 14 * DAY));
        assert_eq!(products[6].offer.currency, Currency::EUR);
        // After the ticket sale window closes, the server says so.
        let later = catalog::by_tweet_ids(&db, &ids[2..3], now + 14 * DAY, "http://api.test").await.unwrap();
        assert_eq!(later[0].offer.availability, SaleEnded);
    }
}
