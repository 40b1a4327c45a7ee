// The card frame's words (server/assets/frame/words/), one file per language, of which the vault
// sends the buyer's only: each must have every word frame.js reads, with the same arguments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import vm from "node:vm";

const dir = new URL("../../server/assets/frame/", import.meta.url);

/** The words a file sets (`window.tbWords`), run as the frame's page runs it. */
function words(file) {
  const window = {};
  vm.runInNewContext(readFileSync(new URL(`words/${file}`, dir), "utf8"), { window });
  return window.tbWords;
}

/** Each key with what it holds: a text, a function of n arguments, or the shape of a table. */
function shape(words) {
  return Object.keys(words).sort().map((key) => {
    const value = words[key];
    if (typeof value === "function") return [key, `function/${value.length}`];
    return [key, typeof value === "object" ? shape(value) : typeof value];
  });
}

test("every language's words have the same keys, as English has them, and every word frame.js reads", () => {
  const files = readdirSync(new URL("words/", dir)).filter((f) => f.endsWith(".js")).sort();
  assert.deepEqual(files, ["en.js", "es.js"], "the languages server/src/vault/frame.rs lists");
  const english = words("en.js");
  for (const file of files) assert.deepEqual(shape(words(file)), shape(english), file);
  const frame = readFileSync(new URL("frame.js", dir), "utf8");
  const read = new Set([...frame.matchAll(/\bW\.(\w+)/g)].map((m) => m[1]));
  assert.ok(read.size > 30, "frame.js was read");
  for (const key of read) assert.ok(key in english, `frame.js reads W.${key}, which no words file has`);
  for (const key of Object.keys(english)) assert.ok(read.has(key), `W.${key} is never read: drop it`);
});

test("the words of the window the saved-info frame asks in are in every language the frame has", async () => {
  const { WORDS } = await import(new URL("ask.mjs", dir));
  const languages = readdirSync(new URL("words/", dir)).filter((f) => f.endsWith(".js")).map((f) => f.replace(/\.js$/, "")).sort();
  assert.deepEqual(Object.keys(WORDS).sort(), languages);
  for (const lang of languages) assert.deepEqual(shape(WORDS[lang]), shape(WORDS.en), lang);
  // Each is said by ask.mjs itself, or is the title of a kind of question frame.js asks.
  const ask = readFileSync(new URL("ask.mjs", dir), "utf8");
  const frame = readFileSync(new URL("frame.js", dir), "utf8");
  for (const key of Object.keys(WORDS.en)) {
    assert.ok(ask.includes(`words.${key}`) || frame.includes(`consented("${key}"`), `${key} is never said: drop it`);
  }
});
