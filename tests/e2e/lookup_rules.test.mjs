// The loader's lookup rules (server/assets/lookup-rules.mjs) against the table the Rust side
// runs too (core/tests/lookup_vectors.json): the loader sends the first offer lookup itself,
// and the button module takes it only for exactly the URL it would have asked for, so the
// two copies of each rule must agree. No browser needed: the rules are a plain module.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { apiBase, isLoaderSrc, isTrue, lookupPaths, parseTweetId, tweetIdFromIframeSrc, tweetIdFromStatusUrl, validVisitorId, EMBED_SELECTOR, MAX_LOOKUP_IDS } from "../../server/assets/lookup-rules.mjs";

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
