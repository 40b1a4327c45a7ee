//! What the widget learns about an offer: everything the button and the product sheet show,
//! fetched in one batched lookup so opening the sheet needs no further request.

use crate::address::Country;
use crate::money::{Currency, Money};
use crate::prelude::*;
use crate::tweet::TweetId;
use serde::{Deserialize, Serialize};

/// What kind of seller offers a product: a badge beside the seller's name on the sheet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SellerKind {
    /// A charity or other nonprofit organisation.
    Nonprofit,
    /// A company selling its own goods.
    Brand,
    /// A musician or other artist selling to their fans (merchandise, tickets).
    Artist,
}

/// Who sells an offer, as the product sheet names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Seller {
    /// The name the buyer reads ("Sold by …", and beside Pay); one line of at most 200
    /// characters, checked when the seller's catalog is imported.
    pub name: String,
    /// The badge shown beside the name.
    pub kind: SellerKind,
}

/// How the goods reach the buyer. Only physical goods need a shipping address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    /// Goods that ship: the buyer gives a [`ShippingAddress`](crate::ShippingAddress), and the
    /// order pays shipping and tax.
    Physical,
    /// A ticket to an event, delivered as [`Offer::delivery`] says; nothing ships.
    Ticket,
    /// A download or other digital good, delivered as [`Offer::delivery`] says; nothing ships.
    Digital,
}

impl ProductKind {
    /// Whether an order needs a shipping address: only [`ProductKind::Physical`] goods do.
    pub fn needs_shipping(self) -> bool {
        self == ProductKind::Physical
    }

    /// The kind for its wire name, exactly as serde reads it (`"physical"`, `"ticket"`,
    /// `"digital"`): for readers that link no serde deserializer (the button module).
    pub fn from_name(name: &str) -> Option<ProductKind> {
        match name {
            "physical" => Some(ProductKind::Physical),
            "ticket" => Some(ProductKind::Ticket),
            "digital" => Some(ProductKind::Digital),
            _ => None,
        }
    }
}

/// Whether the offer can be bought right now, decided by the server's clock and stock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// On sale, with stock left (or stock not counted).
    Available,
    /// Every variant counts stock and has none left; the buyer may join the waitlist for a
    /// restock.
    SoldOut,
    /// The sale window has closed ([`Offer::sale_ends_at`] has passed) and will not reopen. A
    /// closed window outranks stock: an ended sale is this even when sold out.
    SaleEnded,
    /// The sale window has not opened yet; the buyer may join the waitlist for its start.
    NotStarted,
}

impl Availability {
    /// The availability for its wire name, exactly as serde reads it (`"available"`,
    /// `"sold_out"`, `"sale_ended"`, `"not_started"`): for the button module, which links no
    /// serde deserializer.
    pub fn from_name(name: &str) -> Option<Availability> {
        match name {
            "available" => Some(Availability::Available),
            "sold_out" => Some(Availability::SoldOut),
            "sale_ended" => Some(Availability::SaleEnded),
            "not_started" => Some(Availability::NotStarted),
            _ => None,
        }
    }
}

/// A size, a ticket tier, or the single default variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Variant {
    /// Unique within the offer: 1 to 64 of `a-z`, `0-9` and `-`, checked when the catalog is
    /// imported. Requests name the buyer's choice by it (`variant_id`).
    pub id: String,
    /// What the buyer picks ("M", "VIP"): one line of at most 200 characters.
    pub label: String,
    /// The price of one unit, in the offer's [`Offer::currency`]; always above zero.
    pub price: Money,
    /// Units left; `None` when the seller does not count stock.
    pub stock: Option<u32>,
}

/// A picture of the product, for the product sheet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Image {
    /// The image's absolute URL (on the api's own origin, for the images the api generates).
    pub url: String,
    /// The text that stands for the image for screen readers; empty when the seller gave none,
    /// which marks the image as decorative.
    pub alt: String,
}

/// One product offered from one tweet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Offer {
    /// The tweet this offer was found by. A product offered from several tweets comes once for
    /// each tweet asked about.
    pub tweet_id: TweetId,
    /// The seller's id for the product, 1 to 64 of `a-z`, `0-9` and `-` (checked when the catalog
    /// is imported); quotes, intents and the waitlist name the product by it.
    pub product_id: String,
    /// The product's name on the sheet and the receipt: one line of at most 200 characters.
    pub title: String,
    /// The seller's description; it may span several lines (at most 5,000 characters).
    pub description: String,
    /// Who sells the product.
    pub seller: Seller,
    /// Physical, ticket or digital: decides whether the buyer gives an address.
    pub kind: ProductKind,
    /// The currency of every variant's price, and so of every amount of an order for it.
    pub currency: Currency,
    /// The buyer's choices (sizes, tiers), in the seller's order; at least one.
    pub variants: Vec<Variant>,
    /// Pictures for the sheet; may be empty, or absent on the wire.
    #[serde(default)]
    pub images: Vec<Image>,
    /// Whether the sheet marks the product a limited edition: a badge, and the units left.
    pub limited_edition: bool,
    /// Whether it can be bought, as of the server's answer; [`AvailabilityResponse`] brings it up
    /// to date.
    pub availability: Availability,
    /// End of the sale window, Unix seconds.
    pub sale_ends_at: Option<i64>,
    /// Countries a physical product ships to.
    #[serde(default)]
    pub ships_to: Vec<Country>,
    /// The most units one order may take, 1 to 100 (checked when the catalog is imported);
    /// [`Offer::max_quantity`] also bounds it by a variant's stock.
    pub max_per_order: u32,
    /// How tickets and digital goods are delivered ("Tickets are emailed to you").
    #[serde(default)]
    pub delivery: Option<String>,
    /// The language the seller wrote this product's texts in (title, description, variant
    /// labels, delivery, image text), a tag [`crate::text::is_language_tag`] accepts; absent:
    /// not said, and the texts are taken to be in the sheet's language.
    #[serde(default)]
    pub lang: Option<String>,
}

impl Offer {
    /// The lowest variant price, for the button label.
    pub fn price_from(&self) -> Option<Money> {
        lowest_price(self.variants.iter().map(|v| v.price))
    }

    /// The variant whose [`Variant::id`] is `id`, if the offer has one.
    pub fn variant(&self, id: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.id == id)
    }

    /// Total units left across variants, when every variant counts stock.
    pub fn stock_left(&self) -> Option<u32> {
        self.variants.iter().map(|v| v.stock).sum()
    }

    /// How many of `variant` one order may take: bounded by stock and the per-order limit.
    pub fn max_quantity(&self, variant: &Variant) -> u32 {
        variant.stock.map_or(self.max_per_order, |s| s.min(self.max_per_order))
    }
}

/// The lowest of some prices: the "from" price a button shows.
fn lowest_price(prices: impl Iterator<Item = Money>) -> Option<Money> {
    prices.min_by_key(|m| m.minor)
}

/// The part of an [`Offer`] the Buy button needs, read from the same JSON. The module that
/// loads before the first click decodes only this and hands the offer's JSON on unread to
/// the checkout module, which decodes the whole [`Offer`]; unknown fields are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OfferHead {
    /// The tweet the offer was found by ([`Offer::tweet_id`]).
    pub tweet_id: TweetId,
    /// The product's id ([`Offer::product_id`]).
    pub product_id: String,
    /// Physical, ticket or digital ([`Offer::kind`]).
    pub kind: ProductKind,
    /// Whether it can be bought now ([`Offer::availability`]): the button says so when not.
    pub availability: Availability,
    /// Each variant's price and nothing else, for the button's "from" price.
    pub variants: Vec<VariantPrice>,
}

/// A variant's price, as the button reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct VariantPrice {
    /// The price of one unit ([`Variant::price`]).
    pub price: Money,
}

impl OfferHead {
    /// The lowest variant price, for the button label (the same rule as [`Offer::price_from`]).
    pub fn price_from(&self) -> Option<Money> {
        lowest_price(self.variants.iter().map(|v| v.price))
    }
}

/// The answer to one batched lookup: the offers for the tweet ids asked about (tweets
/// without an offer are simply absent) and where the card vault lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OffersResponse {
    /// The card vault's origin (scheme, host and port): the checkout loads the payment frame
    /// from it and accepts frame messages from it alone.
    pub vault_origin: String,
    /// The offers found, in the order of the tweet ids asked about.
    pub offers: Vec<Offer>,
}

/// One variant's units left, in a fresh availability read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VariantStock {
    /// The variant's id ([`Variant::id`]).
    pub id: String,
    /// Units left; `None` when the seller does not count stock.
    pub stock: Option<u32>,
}

/// `GET /api/v1/products/{product_id}/availability`: the live state of one offer, read
/// when the product sheet opens and while it stays open (never cached).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AvailabilityResponse {
    /// Whether the offer can be bought, by the server's clock and stock at this request.
    pub availability: Availability,
    /// Each variant's units left; [`AvailabilityResponse::apply_to`] puts them into the offer.
    pub variants: Vec<VariantStock>,
}

impl AvailabilityResponse {
    /// The live figures of an offer, as the server sends them.
    pub fn of(offer: &Offer) -> AvailabilityResponse {
        AvailabilityResponse {
            availability: offer.availability,
            variants: offer.variants.iter().map(|v| VariantStock { id: v.id.clone(), stock: v.stock }).collect(),
        }
    }

    /// The offer with these live figures applied: availability, and each known variant's
    /// stock. Variants the answer does not mention keep what they had.
    pub fn apply_to(&self, offer: &Offer) -> Offer {
        let mut fresh = offer.clone();
        fresh.availability = self.availability;
        for variant in &mut fresh.variants {
            if let Some(live) = self.variants.iter().find(|v| v.id == variant.id) {
                variant.stock = live.stock;
            }
        }
        fresh
    }
}

/// The most tweet ids one lookup may ask about.
pub const MAX_LOOKUP_IDS: usize = 100;

/// The largest price of one unit, or shipping fee, a catalog may set, in minor units
/// (100 million dollars). An order's total (a hundred units, shipping and tax) then stays
/// far below 2^53, so a browser's numbers hold every amount exactly, and no sum overflows.
pub const MAX_PRICE_MINOR: i64 = 10_000_000_000;

/// The latest time a seller may give (a sale's or a code's window), in Unix seconds: the end
/// of the year 9999. Any later number is a mistake (milliseconds, most often), and a browser
/// holds every number up to it exactly.
pub const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

/// Why `seconds` cannot be a time a seller gives, if it cannot: before 1970, or after
/// [`MAX_UNIX_SECONDS`] (with a hint when it looks like milliseconds).
pub fn unix_seconds_problem(seconds: i64) -> Option<String> {
    match seconds {
        0..=MAX_UNIX_SECONDS => None,
        s if s > MAX_UNIX_SECONDS && s / 1000 <= MAX_UNIX_SECONDS => Some(format!(
            "{s} is not a time in Unix seconds: it looks like milliseconds (seconds would be {})",
            s / 1000
        )),
        s => Some(format!("{s} is not a time in Unix seconds (0 to {MAX_UNIX_SECONDS}, the end of the year 9999)")),
    }
}

/// The most units a catalog may put on sale of one variant: within [`VariantStock::stock`]'s
/// `u32`, so no count is cut short on the wire.
pub const MAX_STOCK: i64 = 1_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_the_wire_names() {
        for kind in [ProductKind::Physical, ProductKind::Ticket, ProductKind::Digital] {
            let name = serde_json::to_value(kind).unwrap();
            assert_eq!(ProductKind::from_name(name.as_str().unwrap()), Some(kind), "{name}");
        }
        assert_eq!(ProductKind::from_name("Ticket"), None, "as strict as serde");
        assert_eq!(ProductKind::from_name("boat"), None);
        for availability in
            [Availability::Available, Availability::SoldOut, Availability::SaleEnded, Availability::NotStarted]
        {
            let name = serde_json::to_value(availability).unwrap();
            assert_eq!(Availability::from_name(name.as_str().unwrap()), Some(availability), "{name}");
        }
        assert_eq!(Availability::from_name("SoldOut"), None, "as strict as serde");
    }

    fn offer() -> Offer {
        crate::testing::ticket()
    }

    #[test]
    fn derived_figures() {
        let o = offer();
        assert_eq!(o.price_from().unwrap().minor, 8950);
        assert_eq!(o.stock_left(), Some(13));
        assert_eq!(o.max_quantity(o.variant("ga").unwrap()), 3, "stock bounds");
        assert_eq!(o.max_quantity(o.variant("vip").unwrap()), 4, "per-order limit bounds");
        assert!(!o.kind.needs_shipping());
        let back: Offer = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn the_head_reads_the_same_json_as_the_offer() {
        let o = offer();
        let head: OfferHead = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
        assert_eq!((&head.tweet_id, head.product_id.as_str(), head.kind), (&o.tweet_id, "tour", o.kind));
        assert_eq!(head.price_from(), o.price_from());
        assert_eq!(head.variants.len(), o.variants.len());
        let bad = serde_json::to_string(&o).unwrap().replace("\"ticket\"", "\"boat\"");
        assert!(serde_json::from_str::<OfferHead>(&bad).is_err(), "an unknown kind is refused, as for Offer");
    }

    #[test]
    fn live_availability_round_trips_and_applies() {
        let o = offer();
        let mut live = AvailabilityResponse::of(&o);
        assert_eq!(live.variants.len(), 2);
        live.availability = Availability::SoldOut;
        live.variants[0].stock = Some(0);
        live.variants.pop();
        let fresh = live.apply_to(&o);
        assert_eq!(fresh.availability, Availability::SoldOut);
        assert_eq!(fresh.variant("ga").unwrap().stock, Some(0));
        assert_eq!(fresh.variant("vip").unwrap().stock, Some(10), "unmentioned variants keep their stock");
        let json = serde_json::to_value(&live).unwrap();
        assert_eq!(json, serde_json::json!({"availability": "sold_out", "variants": [{"id": "ga", "stock": 0}]}));
    }
}
