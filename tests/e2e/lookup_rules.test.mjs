// The loader's lookup rules (server/assets/lookup-rules.mjs) against the table the Rust side
// runs too (core/tests/lookup_vectors.json): the loader sends the first offer lookup itself,
// and the button module takes it only for exactly the URL it would have asked for, so the
// two copies of each rule must agree. No browser needed: the rules are a plain module.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { apiBase, dntOf, firstLookupPaths, isLoaderSrc, isTrue, lookupPaths, parseTweetId, tweetIdFromIframeSrc, tweetIdFromStatusUrl, validVisitorId, EMBED_SELECTOR, MAX_LOOKUP_IDS } from "../../server/assets/lookup-rules.mjs";

const vectors = JSON.parse(readFileSync(new URL("../../core/tests/lookup_vectors.json", import.meta.url), "utf8"));

test("tweet ids, status links and iframe sources are read as the shared table says", () => {
  assert.ok(vectors.tweet_ids.length > 10 && vectors.status_urls.length > 20 && vectors.iframe_srcs.length > 5);
  assert.deepEqual(vectors.tweet_ids.filter((c) => parseTweetId(c.raw) !== c.id), []);
  assert.deepEqual(vectors.status_urls.filter((c) => tweetIdFromStatusUrl(c.url) !== c.id), []);
  assert.deepEqual(vectors.iframe_srcs.filter((c) => tweetIdFromIframeSrc(c.src) !== c.id), []);
});

test("do-not-track values, visitor ids and lookup paths are as the shared table says", () => {
  assert.deepEqual(vectors.truthy.filter((c) => isTrue(c.value) !== c.ok), []);
  assert.deepEqual(vectors.visitor_ids.filter((c) => validVisitorId(c.id) !== c.ok), []);
  assert.ok(vectors.paths.length >= 5);
  for (const c of vectors.paths) assert.deepEqual(lookupPaths(c.ids, c.visitor), c.paths, JSON.stringify(c.ids.slice(0, 3)));
});

test("the loader's own script tag and the api's base URL are found as the shared table says", () => {
  assert.ok(vectors.loader_srcs.length >= 5 && vectors.api_bases.length >= 10);
  assert.deepEqual(vectors.loader_srcs.filter((c) => isLoaderSrc(c.src) !== c.ok), []);
  assert.deepEqual(vectors.api_bases.filter((c) => apiBase(c.src, c.data_api) !== c.base), []);
});

test("the embed selector and the batch size are the button module's", () => {
  const discover = readFileSync(new URL("../../src/button/discover.rs", import.meta.url), "utf8");
  assert.ok(discover.includes(`EMBED_SELECTOR: &str = "${EMBED_SELECTOR}"`), "src/button/discover.rs names the same embed forms");
  const catalog = readFileSync(new URL("../../core/src/catalog.rs", import.meta.url), "utf8");
  assert.ok(catalog.includes(`MAX_LOOKUP_IDS: usize = ${MAX_LOOKUP_IDS};`), "tweetbuy-core batches as many ids");
});

/** An element as `dntOf` reads it: a tag, attributes and, for a rendered embed, its iframe. */
const element = (tag, attrs = {}, iframeSrc) => ({
  tagName: tag.toUpperCase(),
  getAttribute: (name) => attrs[name] ?? null,
  querySelector: (selector) => (selector === "iframe" && iframeSrc !== undefined ? element("iframe", { src: iframeSrc }) : null),
});
const RENDERED = "https://platform.twitter.com/embed/Tweet.html?embedId=twitter-widget-0&id=1528000000000000004";

test("an embed asks not to be tracked by its data-dnt, or once rendered by its iframe's dnt=", () => {
  const cases = [
    [element("blockquote", { "data-dnt": "true" }), true],
    [element("blockquote", { "data-dnt": "false" }), false],
    [element("blockquote"), false],
    // widgets.js drops the blockquote and carries its data-dnt in the iframe's address.
    [element("div", {}, `https://platform.twitter.com/embed/Tweet.html?dnt=true&embedId=twitter-widget-0&id=1`), true],
    [element("div", {}, `${RENDERED}&dnt=true#x`), true],
    [element("div", {}, `${RENDERED}&dnt=false`), false],
    [element("div", {}, `${RENDERED}#dnt=true`), false],
    [element("div", {}, RENDERED.replace("?", "?xdnt=true&")), false],
    [element("div", {}), false],
    [element("div", { "data-tweetbuy-tweet": "1", "data-dnt": "yes" }), true],
  ];
  for (const [e, dnt] of cases) assert.equal(dntOf(e), dnt, JSON.stringify({ attrs: e.getAttribute("data-dnt"), src: e.querySelector("iframe")?.getAttribute("src") }));
  // The loader's own first lookup goes without a visitor id for a rendered embed that asks.
  const page = (embeds) => ({ querySelectorAll: () => embeds });
  const withId = (e, id) => ({ ...e, getAttribute: (name) => (name === "data-tweetbuy-tweet" ? id : e.getAttribute(name)) });
  const asking = withId(element("div", {}, `${RENDERED}&dnt=true`), "1528000000000000004");
  const plain = withId(element("div", {}, RENDERED), "1528000000000000004");
  assert.deepEqual(firstLookupPaths(page([asking]), null, () => "visitor-1"), ["/api/v1/offers?tweet_ids=1528000000000000004"]);
  assert.deepEqual(firstLookupPaths(page([plain]), null, () => "visitor-1"), ["/api/v1/offers?tweet_ids=1528000000000000004&visitor=visitor-1"]);
  // No visitor id is kept where the loader could not find its tag (embed.js).
  assert.deepEqual(firstLookupPaths(page([plain]), null, null), ["/api/v1/offers?tweet_ids=1528000000000000004"]);
});
