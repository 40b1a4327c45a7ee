//! Finds tweet embeds in a page and reads each one's tweet id.
//!
//! Three forms: a raw `blockquote.twitter-tweet` (before widgets.js, or without it), an
//! embed widgets.js has rendered (`.twitter-tweet-rendered` holding an iframe), and an
//! explicit `data-tweetbuy-tweet="ID"` on any element.

use crate::prelude::*;
use tweetbuy_core::TweetId;
use wasm_bindgen::JsCast;
use web_sys::Element;

/// Marks an embed that already has a button, so a rescan never attaches a second one.
pub(crate) const ATTACHED_ATTR: &str = "data-tweetbuy-attached";
/// The attribute that names an element's tweet outright, on any element.
pub(crate) const TWEET_ATTR: &str = "data-tweetbuy-tweet";

/// The selector for every embed form we recognise.
pub(crate) const EMBED_SELECTOR: &str = "blockquote.twitter-tweet, .twitter-tweet-rendered, [data-tweetbuy-tweet]";

/// One embed, the tweet it shows, and its attributes that shape its button.
#[derive(Clone, Debug)]
pub struct FoundEmbed {
    pub element: Element,
    pub tweet_id: TweetId,
    pub attrs: EmbedAttrs,
}

/// An embed's own attributes that shape its button, read with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmbedAttrs {
    /// `data-theme`: light, dark or auto.
    pub theme: Option<String>,
    /// `data-button-style`: filled, outline or compact.
    pub style: Option<String>,
    /// `data-label`: the button's text instead of ours.
    pub label: Option<String>,
    /// `data-lang`: the language of its button and sheets.
    pub lang: Option<String>,
    /// Asks not to be tracked (no visitor id in the lookup): its `data-dnt`, or a rendered
    /// embed's iframe's `dnt=` (the loader's `dntOf`).
    pub dnt: bool,
}

/// The attributes of [`EmbedAttrs`], in its order, as the kit reads them.
const EMBED_ATTRS: &str = "data-theme data-button-style data-label data-lang";

impl EmbedAttrs {
    /// Reads them off one element (for a button attached by hand, in the in-browser tests).
    #[cfg(feature = "std")]
    pub fn read(element: &Element) -> EmbedAttrs {
        let mut values = EMBED_ATTRS.split(' ').map(|name| element.get_attribute(name));
        let mut next = || values.next().flatten();
        let attrs = EmbedAttrs { theme: next(), style: next(), label: next(), lang: next(), dnt: false };
        EmbedAttrs {
            dnt: element.get_attribute("data-dnt").is_some_and(|v| crate::button::config::is_true(&v)),
            ..attrs
        }
    }
}

/// Reads one record of the kit's `find` (`kit.js` says how it is written): the element's
/// [`EmbedAttrs`] (the attributes, then its do-not-track after the id) and its tweet's id,
/// `None` when it names none we can read.
///
/// The kit reads the id with the loader's `tweetIdOf` (server/assets/lookup-rules.mjs),
/// which applies the rules of tweetbuy-core's `TweetId` to the element: an explicit
/// `data-tweetbuy-tweet`, a blockquote's own status link (the last direct-child link; links
/// inside the tweet text may quote other tweets), or a rendered embed's iframe. Both copies
/// of the rules run one table of test vectors (core/tests/lookup_vectors.json), and the
/// module carries none of the URL parsing: every page view pays for its bytes.
pub(crate) fn parse_found(record: &str) -> (EmbedAttrs, Option<TweetId>) {
    use crate::button::kit::{ABSENT, FIELD_END};
    let mut fields = record.split(FIELD_END);
    let mut next = || fields.next().filter(|f| *f != ABSENT).map(str::to_owned);
    let (theme, style, label, lang) = (next(), next(), next(), next());
    let id = next().and_then(|id| TweetId::parse(&id));
    (EmbedAttrs { theme, style, label, lang, dnt: next().is_some() }, id)
}

/// The selector for embeds that have no button yet: the query leaves out the attached ones
/// rather than the module asking each element (a page may hold a thousand).
const NEW_EMBED_SELECTOR: &str = "blockquote.twitter-tweet:not([data-tweetbuy-attached]), \
     .twitter-tweet-rendered:not([data-tweetbuy-attached]), \
     [data-tweetbuy-tweet]:not([data-tweetbuy-attached])";

/// Every element at or under `root` that matches `selector`, in document order, with its
/// [`EmbedAttrs`] and its tweet's id: the kit reads them in one call ([`parse_found`]).
// Not inlined into the scan: see `crate::button::mount::sort_out`.
#[inline(never)]
fn found(root: &Element, selector: &str) -> Vec<(Element, EmbedAttrs, Option<TweetId>)> {
    let found = crate::button::kit::with(|kit| kit.find(root, selector, EMBED_ATTRS).ok());
    let Some(found) = found.flatten() else { return Vec::new() };
    let elements = crate::button::kit::elements(&found.get(0).unchecked_into());
    let text = found.get(1).as_string().unwrap_or_default();
    let records = text.split(crate::button::kit::RECORD_END);
    elements
        .into_iter()
        .zip(records)
        .map(|(element, record)| {
            let (attrs, id) = parse_found(record);
            (element, attrs, id)
        })
        .collect()
}

/// The tweet id of one element, if it is an embed form we know (matching `selector`).
pub(crate) fn tweet_id_of(element: &Element, selector: &str) -> Option<TweetId> {
    // The element itself comes first when it matches; embeds inside it do not count.
    let (first, _, id) = found(element, selector).into_iter().next()?;
    (&first == element).then_some(id).flatten()
}

/// Every embed at or under `root` that has no button yet, in document order.
pub fn find_embeds(root: &Element) -> Vec<FoundEmbed> {
    found(root, NEW_EMBED_SELECTOR)
        .into_iter()
        .filter_map(|(element, attrs, tweet_id)| Some(FoundEmbed { element, tweet_id: tweet_id?, attrs }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::button::kit::ABSENT;

    #[test]
    fn the_new_embed_selector_is_every_embed_form_without_a_button() {
        let expected: Vec<String> =
            EMBED_SELECTOR.split(", ").map(|form| format!("{form}:not([{ATTACHED_ATTR}])")).collect();
        assert_eq!(NEW_EMBED_SELECTOR.split(", ").collect::<Vec<_>>(), expected);
    }

    #[test]
    fn a_found_record_gives_the_embeds_attributes_and_its_tweets_id() {
        let record = |fields: &[&str]| fields.join(&crate::button::kit::FIELD_END.to_string());
        let (attrs, id) = parse_found(&record(&["dark", ABSENT, "", "es", "1528000000000000001", "1"]));
        assert_eq!(
            attrs,
            EmbedAttrs {
                theme: Some("dark".into()),
                style: None,
                label: Some(String::new()),
                lang: Some("es".into()),
                dnt: true
            },
            "absent is None, empty is empty"
        );
        assert_eq!(id.unwrap().as_str(), "1528000000000000001");
        let (attrs, _) = parse_found(&record(&["dark", ABSENT, "", "es", "1528000000000000001", ABSENT]));
        assert!(!attrs.dnt, "no do-not-track");
        let bare = [ABSENT; 4];
        let (_, id) = parse_found(&record(&[&bare[..], &[ABSENT]].concat()));
        assert_eq!(id, None, "an embed whose id the kit could not read");
        let (_, id) = parse_found(&record(&[&bare[..], &["not a tweet"]].concat()));
        assert_eq!(id, None, "an id is a tweet id, whatever the kit sends");
        let (_, id) = parse_found(&record(&bare));
        assert_eq!(id, None, "a record cut short");
    }
}
