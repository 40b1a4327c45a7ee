//! Property tests: the validators never panic on any input, accept what they should, and the
//! wire types survive a JSON round trip.

use proptest::prelude::*;
use tweetbuy_core::address::{validate_email, validate_postal_code, Country, ShippingAddress};
use tweetbuy_core::card::{luhn_valid, validate_cvc, CardBrand, CardNumber, Expiry};
use tweetbuy_core::frame::{Cart, FromFrame, ToFrame, V1};
use tweetbuy_core::order::IntentRequest;
use tweetbuy_core::TweetId;

/// The Luhn check digit that completes `body`.
fn check_digit(body: &str) -> char {
    (0..10u8).map(|d| char::from(b'0' + d)).find(|&d| luhn_valid(&format!("{body}{d}"))).unwrap()
}

fn brand_prefix() -> impl Strategy<Value = (&'static str, usize, CardBrand)> {
    prop_oneof![
        Just(("4", 16, CardBrand::Visa)),
        Just(("4", 19, CardBrand::Visa)),
        Just(("51", 16, CardBrand::Mastercard)),
        Just(("2221", 16, CardBrand::Mastercard)),
        Just(("34", 15, CardBrand::Amex)),
        Just(("37", 15, CardBrand::Amex)),
        Just(("6011", 16, CardBrand::Discover)),
        Just(("65", 19, CardBrand::Discover)),
        Just(("3530", 17, CardBrand::Jcb)),
        Just(("36", 14, CardBrand::DinersClub)),
    ]
}

proptest! {
    #[test]
    fn validators_never_panic(s in ".{0,64}") {
        let _ = CardNumber::parse(&s);
        let _ = Expiry::parse(&s);
        let _ = validate_email(&s);
        let _ = TweetId::parse(&s);
        let _ = TweetId::from_status_url(&s);
        let _ = TweetId::from_embed_iframe_src(&s);
        let _ = FromFrame::decode(&s);
        let _ = ToFrame::decode(&s);
        let _ = CardBrand::detect(&s);
        for brand in [CardBrand::Visa, CardBrand::Amex] {
            let _ = validate_cvc(brand, &s);
        }
        for country in Country::all() {
            let _ = validate_postal_code(country, &s);
        }
    }

    #[test]
    fn generated_valid_cards_parse_with_their_brand((prefix, len, brand) in brand_prefix(), fill in "[0-9]{20}", spaced in any::<bool>()) {
        let body = format!("{prefix}{}", &fill[..len - prefix.len() - 1]);
        let number = format!("{body}{}", check_digit(&body));
        let typed = if spaced {
            number.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ")
        } else {
            number.clone()
        };
        let card = CardNumber::parse(&typed).unwrap();
        prop_assert_eq!(card.brand(), brand);
        prop_assert_eq!(card.last4(), &number[number.len() - 4..]);
        let shown = format!("{:?} {}", card, card);
        let hidden = &number[..number.len() - 4];
        prop_assert!(!shown.contains(hidden));
    }

    #[test]
    fn one_wrong_digit_fails_luhn((prefix, len, _b) in brand_prefix(), fill in "[0-9]{20}", bump in 1u8..10) {
        let body = format!("{prefix}{}", &fill[..len - prefix.len() - 1]);
        let good = check_digit(&body) as u8 - b'0';
        let bad = (good + bump) % 10;
        let wrong = format!("{}{}", body, bad);
        prop_assert!(!luhn_valid(&wrong));
    }

    #[test]
    fn expiry_round_trips(month in 1u8..=12, year in 2026u16..=2045, four in any::<bool>()) {
        let typed = if four { format!("{month:02}/{year}") } else { format!("{month:02}/{:02}", year % 100) };
        prop_assert_eq!(Expiry::parse(&typed).unwrap(), Expiry { month, year });
    }

    #[test]
    fn status_links_round_trip(id in 1u64..=i64::MAX as u64, host in prop::sample::select(vec!["twitter.com", "x.com", "www.twitter.com", "MOBILE.X.COM"]), legacy in any::<bool>(), query in prop::sample::select(vec!["", "?s=20", "?ref_src=twsrc%5Etfw", "/"])) {
        let path = if legacy { "statuses" } else { "status" };
        let url = format!("https://{host}/someone/{path}/{id}{query}");
        let parsed = TweetId::from_status_url(&url).unwrap();
        prop_assert_eq!(parsed.as_str(), id.to_string());
    }

    #[test]
    fn us_zip_codes_round_trip(zip in 0u32..100_000, plus4 in proptest::option::of(0u32..10_000)) {
        let code = match plus4 { Some(p) => format!("{zip:05}-{p:04}"), None => format!("{zip:05}") };
        prop_assert_eq!(validate_postal_code(Country::parse("US").unwrap(), &code).unwrap(), code);
    }

    #[test]
    fn frame_messages_round_trip(product in "[a-zA-Z0-9-]{1,40}", quantity in 1u32..=1000, email in proptest::option::of(".{0,60}"), name in ".{0,60}", share in any::<bool>(), height in any::<u32>()) {
        let cart = Cart {
            product_id: product,
            variant_id: "m".into(),
            quantity,
            tweet_id: None,
            email,
            shipping: Some(ShippingAddress {
                name, line1: "1 Main".into(), line2: String::new(), city: "NYC".into(),
                region: "NY".into(), postal_code: "10001".into(), country: "US".into(),
            }),
            share_email: share,
            discount_code: None,
        };
        let show = ToFrame::Show { v: V1, cart: Some(cart) };
        prop_assert_eq!(ToFrame::decode(&serde_json::to_string(&show).unwrap()), Some(show));
        let resize = FromFrame::Resize { v: V1, height };
        prop_assert_eq!(FromFrame::decode(&serde_json::to_string(&resize).unwrap()), Some(resize));
    }

    #[test]
    fn intent_requests_round_trip(email in ".{0,40}", name in ".{0,40}", quantity in any::<u32>(), share in any::<bool>()) {
        let request = IntentRequest {
            product_id: "p".into(),
            variant_id: "v".into(),
            quantity,
            email,
            shipping: Some(ShippingAddress {
                name, line1: "1 Main".into(), line2: String::new(), city: "NYC".into(),
                region: "NY".into(), postal_code: "10001".into(), country: "US".into(),
            }),
            share_email: share,
            discount_code: None,
            tweet_id: TweetId::parse("20"),
        };
        let back: IntentRequest = serde_json::from_str(&serde_json::to_string(&request).unwrap()).unwrap();
        prop_assert_eq!(back, request);
    }
}
