//! Fixtures for tests of every crate: one offer of each kind and one receipt, built in code.
//!
//! A test starts from one of these and changes only the fields it is about, so a new field
//! on a wire type is added here once instead of in every test that needs an offer. Behind
//! the `testing` feature (and this crate's own tests); nothing ships it.

use crate::address::{Country, ShippingAddress};
use crate::card::CardBrand;
use crate::catalog::{Availability, Image, Offer, ProductKind, Seller, SellerKind, Variant};
use crate::money::{Currency, Money};
use crate::order::{OrderReceipt, OrderStatus, Quote};
use crate::prelude::*;
use crate::tweet::TweetId;

/// A variant priced `minor` in `currency`, labelled with its id.
pub fn variant(id: &str, minor: i64, currency: Currency, stock: Option<u32>) -> Variant {
    Variant { id: id.into(), label: id.to_uppercase(), price: Money::new(minor, currency), stock }
}

/// The (RED) tee: physical goods in USD that ship to the US, size S sold out and M with 5
/// left, at most 5 per order.
pub fn tee() -> Offer {
    Offer {
        tweet_id: TweetId::parse("1528000000000000001").expect("a valid tweet id"),
        product_id: "red-tee".into(),
        title: "Limited tee".into(),
        description: "A tee.".into(),
        seller: Seller { name: "(RED)".into(), kind: SellerKind::Nonprofit },
        kind: ProductKind::Physical,
        currency: Currency::USD,
        variants: vec![variant("s", 3000, Currency::USD, Some(0)), variant("m", 3000, Currency::USD, Some(5))],
        images: vec![],
        limited_edition: true,
        availability: Availability::Available,
        sale_ends_at: None,
        ships_to: vec![Country::parse("US").expect("a known country")],
        max_per_order: 5,
        delivery: None,
        lang: None,
    }
}

/// A concert ticket in USD, delivered by email: general admission (3 left) and VIP (10
/// left), at most 4 per order.
pub fn ticket() -> Offer {
    Offer {
        tweet_id: TweetId::parse("1528000000000000003").expect("a valid tweet id"),
        product_id: "tour".into(),
        title: "Tour ticket".into(),
        description: "One night only.".into(),
        seller: Seller { name: "Demi".into(), kind: SellerKind::Artist },
        kind: ProductKind::Ticket,
        currency: Currency::USD,
        variants: vec![variant("ga", 8950, Currency::USD, Some(3)), variant("vip", 25000, Currency::USD, Some(10))],
        images: vec![],
        limited_edition: false,
        availability: Availability::Available,
        sale_ends_at: None,
        ships_to: vec![],
        max_per_order: 4,
        delivery: None,
        lang: None,
    }
}

/// Two one-pixel photos of the tee, front and back, for galleries.
pub fn tee_images() -> Vec<Image> {
    let pixel = "data:image/gif;base64,R0lGODlhAQABAAAAACw=";
    ["A red tee.", "The back of the tee."].map(|alt| Image { url: pixel.into(), alt: alt.into() }).into()
}

/// A New York address.
pub fn address() -> ShippingAddress {
    ShippingAddress {
        name: "Jane Doe".into(),
        line1: "1 Main St".into(),
        line2: String::new(),
        city: "New York".into(),
        region: "NY".into(),
        postal_code: "10001".into(),
        country: "US".into(),
    }
}

/// The receipt for one M tee shipped to [`address`], paid with a Visa ending 4242.
pub fn receipt() -> OrderReceipt {
    let usd = |minor| Money::new(minor, Currency::USD);
    OrderReceipt {
        order_id: "ord_1".into(),
        order_number: "TB-7K3Q9X".into(),
        status: OrderStatus::Paid,
        product_title: "Limited tee".into(),
        variant_label: "M".into(),
        quantity: 1,
        quote: Quote { subtotal: usd(3000), discount: None, shipping: usd(500), tax: usd(0), total: usd(3500) },
        email: "a@b.co".into(),
        shipping: Some(address()),
        delivery: None,
        card_brand: CardBrand::Visa,
        card_last4: "4242".into(),
    }
}
