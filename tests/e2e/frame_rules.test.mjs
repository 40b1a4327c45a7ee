// The card frame's input rules (server/assets/frame/rules.mjs) against the table that
// tweetbuy-core's tests run too (core/tests/frame_vectors.json): the page messages the frame
// accepts and the theme values it applies must be exactly the ones the Rust side accepts.
// No browser needed: the rules are a plain module.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { decode, validValue } from "../../server/assets/frame/rules.mjs";

const vectors = JSON.parse(readFileSync(new URL("../../core/tests/frame_vectors.json", import.meta.url), "utf8"));

test("theme values are judged as the shared table says", () => {
  assert.ok(vectors.theme_values.length > 100);
  const wrong = vectors.theme_values.filter((c) => validValue(c.kind, c.value) !== c.ok);
  assert.deepEqual(wrong, []);
});

test("page messages are judged as the shared table says", () => {
  const wrong = vectors.to_frame.filter((c) => (decode(c.message) !== null) !== c.ok).map((c) => c.note);
  assert.deepEqual(wrong, []);
});

test("a hostile 200-character colour is refused at once", () => {
  // A check with nested quantifiers takes seconds on such values, doubling with each
  // character; these must be refused in one pass.
  for (const value of [`rgb(${"1".repeat(194)}!)`, `rgb(${"1 ".repeat(96)}1!)`, `hsl(${"1.".repeat(97)}!)`, `rgb(${"1".repeat(195)}!`]) {
    assert.equal(value.length <= 200, true);
    const started = performance.now();
    assert.equal(validValue("colour", value), false, value);
    const took = performance.now() - started;
    assert.ok(took < 10, `${value.slice(0, 12)}… took ${took.toFixed(2)} ms`);
  }
});
