//! Finds tweet embeds in a page and reads each one's tweet id.
//!
//! Three forms: a raw `blockquote.twitter-tweet` (before widgets.js, or without it), an
//! embed widgets.js has rendered (`.twitter-tweet-rendered` holding an iframe), and an
//! explicit `data-tweetbuy-tweet="ID"` on any element.

use crate::prelude::*;
use crate::shared::names::attr;
use tweetbuy_core::TweetId;
use wasm_bindgen::JsCast;
use web_sys::Element;

/// Marks an embed that already has a button, so a rescan never attaches a second one.
pub(crate) const ATTACHED_ATTR: &str = "data-tweetbuy-attached";

/// The selector for every embed form we recognise.
pub(crate) const EMBED_SELECTOR: &str = "blockquote.twitter-tweet, .twitter-tweet-rendered, [data-tweetbuy-tweet]";

/// One embed and the tweet it shows.
#[derive(Clone, Debug)]
pub struct FoundEmbed {
    pub element: Element,
    pub tweet_id: TweetId,
}

/// The selector for embeds that have no button yet: the query leaves out the attached ones
/// rather than the module asking each element (a page may hold a thousand).
const NEW_EMBED_SELECTOR: &str = "blockquote.twitter-tweet:not([data-tweetbuy-attached]), \
     .twitter-tweet-rendered:not([data-tweetbuy-attached]), \
     [data-tweetbuy-tweet]:not([data-tweetbuy-attached])";

/// The embed's own status link is the last direct-child link of the blockquote (the date
/// line); links inside the tweet text sit inside its `<p>` and may quote other tweets.
/// `hrefs_last_first` are the direct-child links' `href`s from the last one back; only as
/// many are read as it takes.
pub(crate) fn id_from_blockquote_links(hrefs_last_first: impl IntoIterator<Item = String>) -> Option<TweetId> {
    hrefs_last_first.into_iter().find_map(|href| TweetId::from_status_url(&href))
}

/// The tweet id of one element, if it is an embed form we know.
pub(crate) fn tweet_id_of(element: &Element) -> Option<TweetId> {
    if let Some(explicit) = attr(element, "data-tweetbuy-tweet") {
        return TweetId::parse(&explicit);
    }
    if element.tag_name().eq_ignore_ascii_case("blockquote") {
        // From the last child back: the status link is nearly always the last one.
        let children = core::iter::successors(element.last_element_child(), Element::previous_element_sibling);
        let links = children.filter(|child| child.tag_name().eq_ignore_ascii_case("a"));
        return id_from_blockquote_links(links.filter_map(|link| attr(&link, "href")));
    }
    let iframe = element.query_selector("iframe").ok()??;
    iframe
        .get_attribute("data-tweet-id")
        .and_then(|id| TweetId::parse(&id))
        .or_else(|| TweetId::from_embed_iframe_src(&iframe.get_attribute("src")?))
}

/// Every embed at or under `root` that has no button yet, in document order.
pub fn find_embeds(root: &Element) -> Vec<FoundEmbed> {
    let itself = root.matches(NEW_EMBED_SELECTOR).unwrap_or(false).then(|| root.clone());
    let Ok(nodes) = root.query_selector_all(NEW_EMBED_SELECTOR) else {
        return Vec::new();
    };
    itself
        .into_iter()
        // A selector query matches elements only.
        .chain((0..nodes.length()).filter_map(|i| nodes.item(i).map(JsCast::unchecked_into::<Element>)))
        .filter_map(|element| Some(FoundEmbed { tweet_id: tweet_id_of(&element)?, element }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_embed_selector_is_every_embed_form_without_a_button() {
        let expected: Vec<String> =
            EMBED_SELECTOR.split(", ").map(|form| format!("{form}:not([{ATTACHED_ATTR}])")).collect();
        assert_eq!(NEW_EMBED_SELECTOR.split(", ").collect::<Vec<_>>(), expected);
    }

    #[test]
    fn takes_the_embeds_own_status_link_not_a_quoted_one() {
        let last_first = |hrefs: &[&str]| hrefs.iter().rev().map(|h| h.to_string()).collect::<Vec<_>>();
        let hrefs = [
            "https://twitter.com/jack/status/20",
            "https://twitter.com/RED/status/1528000000000000001?ref_src=twsrc%5Etfw",
        ];
        assert_eq!(id_from_blockquote_links(last_first(&hrefs)).unwrap().as_str(), "1528000000000000001");
        let with_trailing_profile_link =
            ["https://twitter.com/RED/status/1528000000000000001", "https://twitter.com/RED"];
        assert_eq!(
            id_from_blockquote_links(last_first(&with_trailing_profile_link)).unwrap().as_str(),
            "1528000000000000001"
        );
        assert_eq!(id_from_blockquote_links(last_first(&["https://example.com"])), None);
    }
}
