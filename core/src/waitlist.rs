//! "Email me when it's back": joining the waitlist of an item that is sold out or not on sale
//! yet. The buyer's email is used for that one notice (and its unsubscribe link) only; the
//! publisher's page learns that someone joined, never who.

use crate::address::validate_email;
use crate::error::FieldError;
use crate::prelude::*;
use crate::tweet::TweetId;
use serde::{Deserialize, Serialize};

/// `POST /api/v1/waitlist`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WaitlistRequest {
    /// The sold-out or not-yet-on-sale product, by its
    /// [`Offer::product_id`](crate::Offer::product_id).
    pub product_id: String,
    /// Where the one notice is sent; checked by [`validate_waitlist`].
    pub email: String,
    /// The buyer ticked "Email me about this item"; unticked by default, and required.
    pub consent: bool,
    /// The tweet whose Buy button the buyer joined from, when the widget knows it.
    #[serde(default)]
    pub tweet_id: Option<TweetId>,
    /// The language the buyer read the sheet in (a BCP 47 tag): the notice is written in it
    /// when we have it (`es`), else in English.
    #[serde(default)]
    pub lang: Option<String>,
}

/// The languages a notice is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeLang {
    /// English: for any language without a notice of its own.
    En,
    /// Spanish, for any `es` tag (`es`, `es-MX`).
    Es,
}

impl NoticeLang {
    /// Spanish for any `es` tag (`es`, `es-MX`), English for anything else or nothing.
    pub fn for_tag(tag: Option<&str>) -> NoticeLang {
        let primary = tag.unwrap_or_default().trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("es") {
            NoticeLang::Es
        } else {
            NoticeLang::En
        }
    }
}

/// Why the item cannot be bought now, and so what the notice will say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WaitFor {
    /// Sold out: "it's back".
    Restock,
    /// Not on sale yet: "it's on sale".
    SaleStart,
}

/// The answer to joining (the same for a second join with the same email).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistJoined {
    /// What the notice will be about: a restock or the sale's start.
    pub wait_for: WaitFor,
}

/// The email (normalized) when the request may join, else every field error at once.
pub fn validate_waitlist(request: &WaitlistRequest) -> Result<String, Vec<FieldError>> {
    let mut errors = Vec::new();
    let email = validate_email(&request.email).map_err(|e| errors.push(e)).ok();
    if !request.consent {
        errors.push(FieldError::new("consent", "required", "Tick the box to be emailed about this item."));
    }
    match email {
        Some(email) if errors.is_empty() => Ok(email),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(email: &str, consent: bool) -> WaitlistRequest {
        WaitlistRequest { product_id: "p".into(), email: email.into(), consent, tweet_id: None, lang: None }
    }

    #[test]
    fn joining_needs_a_valid_email_and_the_ticked_box() {
        assert_eq!(validate_waitlist(&request(" fan@example.com ", true)).as_deref(), Ok("fan@example.com"));
        let fields = |r| validate_waitlist(&r).unwrap_err().into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(fields(request("fan@example.com", false)), ["consent"]);
        assert_eq!(fields(request("nope", false)), ["email", "consent"]);
    }

    #[test]
    fn notices_are_in_spanish_for_any_spanish_tag_else_english() {
        assert_eq!(NoticeLang::for_tag(Some("es-MX")), NoticeLang::Es);
        assert_eq!(NoticeLang::for_tag(Some("ES")), NoticeLang::Es);
        assert_eq!(NoticeLang::for_tag(Some("en-GB")), NoticeLang::En);
        assert_eq!(NoticeLang::for_tag(Some("<script>")), NoticeLang::En);
        assert_eq!(NoticeLang::for_tag(None), NoticeLang::En);
    }
}
