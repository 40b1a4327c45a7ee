// The offer lookup the loader (embed.js) sends while the button module is still
// downloading, so that the lookup's round trip and the download overlap. The build puts this
// file into embed.js (its `{{LOOKUP_RULES}}`, scripts/loader-template.mjs): one file for the
// browser, no extra request.
//
// These rules repeat tweetbuy-core's (`TweetId`) and the button module's do-not-track rule
// (src/button/config.rs): both sides run the one table core/tests/lookup_vectors.json
// (core/tests/lookup_vectors.rs, the widget's unit tests and tests/e2e/lookup_rules.test.mjs).
// The button module reads every embed's tweet id with `tweetIdOf` and writes its lookup's
// paths with `lookupPaths` (the loader hands them to the module's kit, src/button/kit.js),
// and takes the loader's script tag, the api's base URL and the visitor id as the loader
// found them (`isLoaderSrc`, `apiBase`, `visitorId`; embed.js): all of them only here, so
// the wasm every page loads carries no URL parsing, path building or id making. A
// disagreement of the rest is never wrong, only slower: the button module uses a lookup
// sent here only when it would have asked for exactly the same path, and otherwise sends
// its own.

/// Every embed form the button module recognises (src/button/discover.rs).
export const EMBED_SELECTOR = "blockquote.twitter-tweet, .twitter-tweet-rendered, [data-tweetbuy-tweet]";

/// The most ids one lookup asks for (tweetbuy-core's `MAX_LOOKUP_IDS`).
export const MAX_LOOKUP_IDS = 100;

/// The localStorage key of the visitor id.
export const VISITOR_KEY = "tweetbuy.visitor";

/// Whether a script `src` is the loader's, whatever its origin or query string
/// (the button module takes the script tag found with it).
export function isLoaderSrc(src) {
  return String(src).split(/[?#]/)[0].endsWith("/tweetbuy/embed.js");
}

/// The api's base URL, for the loader and the button module: the script's `data-api` without trailing
/// slashes, or else the origin of the script's `src` (scheme and host, lower-cased); null
/// when neither gives one.
export function apiBase(scriptSrc, dataApi) {
  const explicit = dataApi == null ? "" : String(dataApi).trim();
  if (explicit !== "") return explicit.replace(/\/+$/, "");
  const colon = String(scriptSrc).indexOf(":");
  if (colon < 0) return null;
  const scheme = scriptSrc.slice(0, colon);
  const rest = scriptSrc.slice(colon + 1);
  if (!/^[A-Za-z]+$/.test(scheme) || !rest.startsWith("//")) return null;
  const host = rest.slice(2).split(/[/?#]/)[0];
  const lower = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return host === "" ? null : `${lower(scheme)}://${lower(host)}`;
}

/// A tweet id: 1 to 19 digits, no leading zero, at most u64's maximum; spaces around forgiven.
export function parseTweetId(raw) {
  const id = String(raw).trim();
  if (!/^[1-9][0-9]{0,18}$/.test(id)) return null;
  return BigInt(id) <= 18446744073709551615n ? id : null;
}

/// The id of a tweet's status link (twitter.com or x.com, www. or mobile., /status/ or
/// /statuses/), or null.
export function tweetIdFromStatusUrl(url) {
  const trimmed = String(url).trim();
  const scheme = /^(https?:)?\/\//i.exec(trimmed);
  if (!scheme || (!scheme[1] && !trimmed.startsWith("//"))) return null;
  const rest = trimmed.slice(scheme[0].length);
  const slash = rest.indexOf("/");
  if (slash < 0) return null;
  let host = rest.slice(0, slash).toLowerCase();
  if (host.startsWith("www.")) host = host.slice(4);
  else if (host.startsWith("mobile.")) host = host.slice(7);
  if (host !== "twitter.com" && host !== "x.com") return null;
  const path = rest.slice(slash + 1).split(/[?#]/)[0];
  const segments = path.split("/").filter((s) => s !== "");
  const at = segments.findIndex((s) => /^(status|statuses)$/i.test(s));
  return at < 0 || at + 1 >= segments.length ? null : parseTweetId(segments[at + 1]);
}

/// The `id=` query parameter of a rendered embed's iframe `src`, or null.
export function tweetIdFromIframeSrc(src) {
  const id = queryParam(src, "id");
  return id === null ? null : parseTweetId(id);
}

/// The first value of the query parameter `name` in a URL, as written (not decoded), or null.
function queryParam(url, name) {
  const q = String(url).indexOf("?");
  if (q < 0) return null;
  const query = String(url).slice(q + 1).split("#")[0];
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    if (eq >= 0 && pair.slice(0, eq) === name) return pair.slice(eq + 1);
  }
  return null;
}

/// `data-dnt` and the like: true, 1, yes or on, in any case.
export function isTrue(value) {
  return value != null && ["true", "1", "yes", "on"].includes(String(value).trim().toLowerCase());
}

/// Whether an embed asks not to be tracked: its own `data-dnt`, or, once widgets.js has
/// rendered it (and dropped the blockquote with its attributes), its iframe's `dnt=` query
/// parameter, where widgets.js carries the same wish.
export function dntOf(element) {
  if (isTrue(element.getAttribute("data-dnt"))) return true;
  if (element.tagName.toLowerCase() === "blockquote") return false;
  const src = element.querySelector("iframe")?.getAttribute("src");
  return src != null && isTrue(queryParam(src, "dnt"));
}

/// What the server accepts as a visitor id: 8 to 64 characters of [A-Za-z0-9-].
export function validVisitorId(id) {
  return typeof id === "string" && /^[A-Za-z0-9-]{8,64}$/.test(id);
}

/// The lookup paths for a set of ids: sorted (as Rust sorts strings: by UTF-16 code unit is
/// the same for digits), each once, at most MAX_LOOKUP_IDS per path.
export function lookupPaths(ids, visitor) {
  const sorted = [...new Set(ids)].sort();
  const paths = [];
  for (let i = 0; i < sorted.length; i += MAX_LOOKUP_IDS) {
    let path = `/api/v1/offers?tweet_ids=${sorted.slice(i, i + MAX_LOOKUP_IDS).join(",")}`;
    if (visitor) path += `&visitor=${visitor}`;
    paths.push(path);
  }
  return paths;
}

/// The tweet id of one embed element (src/button/discover.rs), or null.
export function tweetIdOf(element) {
  const explicit = element.getAttribute("data-tweetbuy-tweet");
  if (explicit !== null) return parseTweetId(explicit);
  if (element.tagName.toLowerCase() === "blockquote") {
    for (let child = element.lastElementChild; child; child = child.previousElementSibling) {
      if (child.tagName.toLowerCase() !== "a") continue;
      const href = child.getAttribute("href");
      const id = href === null ? null : tweetIdFromStatusUrl(href);
      if (id) return id;
    }
    return null;
  }
  const iframe = element.querySelector("iframe");
  if (!iframe) return null;
  const data = iframe.getAttribute("data-tweet-id");
  const fromData = data === null ? null : parseTweetId(data);
  if (fromData) return fromData;
  const src = iframe.getAttribute("src");
  return src === null ? null : tweetIdFromIframeSrc(src);
}

/// The page's visitor id, kept in `storage` (the page's localStorage) under VISITOR_KEY, or
/// else made with `randomId` and kept there; for the loader's lookup and the button
/// module's (src/button/config.rs). Throws when the storage cannot be used.
export function visitorId(storage, randomId) {
  const kept = storage.getItem(VISITOR_KEY);
  if (validVisitorId(kept)) return kept;
  const id = randomId();
  storage.setItem(VISITOR_KEY, id);
  return id;
}

/// The lookup paths the button module's first scan will ask for, on the page as it is now:
/// every embed form, and a visitor id unless the script or an embed asks for do-not-track
/// (`dntOf`).
/// `script` is the loader's script element (null when unknown), `visitor()` gives the page's
/// visitor id (or null); `visitor` null: none is kept.
export function firstLookupPaths(document, script, visitor) {
  const embeds = [...document.querySelectorAll(EMBED_SELECTOR)];
  const ids = embeds.map(tweetIdOf).filter((id) => id !== null);
  if (ids.length === 0) return [];
  const dnt = isTrue(script?.getAttribute("data-dnt")) || embeds.some(dntOf);
  return lookupPaths(ids, dnt || !visitor ? null : visitor());
}
