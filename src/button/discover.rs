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

/// The selector for every embed form we recognise.
pub(crate) const EMBED_SELECTOR: &str = "blockquote.twitter-tweet, .twitter-tweet-rendered, [data-tweetbuy-tweet]";

/// One embed and the tweet it shows.
#[derive(Clone, Debug)]
pub struct FoundEmbed {
    pub element: Element,
    pub tweet_id: TweetId,
}

/// The embed's own status link is the last direct-child link of the blockquote (the date
/// line); links inside the tweet text sit inside its `<p>` and may quote other tweets.
pub(crate) fn id_from_blockquote_links<'a>(
    direct_child_hrefs: impl DoubleEndedIterator<Item = &'a str>,
) -> Option<TweetId> {
    direct_child_hrefs.rev().find_map(TweetId::from_status_url)
}

/// The tweet id of one element, if it is an embed form we know.
pub(crate) fn tweet_id_of(element: &Element) -> Option<TweetId> {
    if let Some(explicit) = element.get_attribute("data-tweetbuy-tweet") {
        return TweetId::parse(&explicit);
    }
    if element.tag_name().eq_ignore_ascii_case("blockquote") {
        let links = element.query_selector_all(":scope > a[href]").ok()?;
        let hrefs: Vec<String> = (0..links.length())
            .filter_map(|i| links.item(i)?.dyn_into::<Element>().ok()?.get_attribute("href"))
            .collect();
        return id_from_blockquote_links(hrefs.iter().map(String::as_str));
    }
    let iframe = element.query_selector("iframe").ok()??;
    iframe
        .get_attribute("data-tweet-id")
        .and_then(|id| TweetId::parse(&id))
        .or_else(|| TweetId::from_embed_iframe_src(&iframe.get_attribute("src")?))
}

/// Every embed at or under `root` that has no button yet, in document order.
pub fn find_embeds(root: &Element) -> Vec<FoundEmbed> {
    let itself = root.matches(EMBED_SELECTOR).unwrap_or(false).then(|| root.clone());
    let Ok(nodes) = root.query_selector_all(EMBED_SELECTOR) else {
        return Vec::new();
    };
    itself
        .into_iter()
        .chain((0..nodes.length()).filter_map(|i| nodes.item(i)?.dyn_into::<Element>().ok()))
        .filter(|element| !element.has_attribute(ATTACHED_ATTR))
        .filter_map(|element| Some(FoundEmbed { tweet_id: tweet_id_of(&element)?, element }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_embeds_own_status_link_not_a_quoted_one() {
        let hrefs = [
            "https://twitter.com/jack/status/20",
            "https://twitter.com/RED/status/1528000000000000001?ref_src=twsrc%5Etfw",
        ];
        assert_eq!(id_from_blockquote_links(hrefs.into_iter()).unwrap().as_str(), "1528000000000000001");
        let with_trailing_profile_link =
            ["https://twitter.com/RED/status/1528000000000000001", "https://twitter.com/RED"];
        assert_eq!(
            id_from_blockquote_links(with_trailing_profile_link.into_iter()).unwrap().as_str(),
            "1528000000000000001"
        );
        assert_eq!(id_from_blockquote_links(["https://example.com"].into_iter()), None);
    }
}
