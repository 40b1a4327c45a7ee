// The size budget: bytes are deterministic for a build, so they can be asserted, unlike
// times. The targets are 25 KB brotli before the first click, 120 KB for the checkout
// module, 150 KB brotli for the two modules together and 150 KB for everything a first
// purchase downloads through the card frame (KB here is KiB: 1,024 bytes). The button module
// is split from the checkout module (index.html) so that the first load carries no Leptos.
// The first target is not met yet (docs/performance.md says by how much and why), so its
// ceiling guards against growth and against the checkout code creeping back into the first
// load; the other three are met and held.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WIDGET_DIR, startServer } from "./harness.mjs";
import { request } from "node:http";
import { buildFiles, checkoutAssets, firstLoadAssets, loaderHoldsGlue, servedLoader, sizeOf, total } from "../bench/sizes.mjs";

// A little above the bytes of the current build (35,172 B; docs/performance.md): a fresh
// machine may get another stable rustc, which moves the bytes a little either way. Fixes for
// publishers' pages have raised it; what each cost is in docs/performance.md and the log.
const CEILING_BEFORE_CLICK = 34 * 1024 + 384;
const TARGET_BEFORE_CLICK = 25 * 1024;
// Met, and held at the target itself: a toolchain that grows the modules past it fails here,
// and the target is then missed, not the ceiling.
const TARGET_WITH_CHECKOUT = 150 * 1024;
const CEILING_WITH_CHECKOUT = TARGET_WITH_CHECKOUT;
// The checkout module's own target is 120 KiB; held a little above what it is now (108,222 B):
// each of the two changes in our reactive_graph (patches/README.md) saves more than the
// margin, so undoing either fails here.
const CEILING_CHECKOUT_MODULE = 105.9 * 1024;

// The loader as the server sends it: a template, filled in and with the lookup rules inlined.
let loader;
let server;
before(async () => {
  server = await startServer();
  loader = await servedLoader(server.origins.api);
});
after(() => server?.stop());

test("the assets loaded before the first click stay under the size ceiling", () => {
  const assets = firstLoadAssets(WIDGET_DIR, loader);
  const brotli = total(assets, "brotli");
  for (const a of assets) console.log(`${a.name}: raw ${a.raw} B, gzip ${a.gzip} B, brotli ${a.brotli} B`);
  console.log(`before first click: ${brotli} B brotli (ceiling ${CEILING_BEFORE_CLICK} B, target ${TARGET_BEFORE_CLICK} B)`);
  assert.ok(brotli <= CEILING_BEFORE_CLICK, `${brotli} B brotli exceeds the ${CEILING_BEFORE_CLICK} B ceiling`);
  assert.ok(loaderHoldsGlue(WIDGET_DIR, loader), "the server wrote the button module's glue into the loader");
  assert.equal(assets.length, 2, "the loader (with the glue) and the wasm: nothing else loads before the first click");
});

// The loader is compressed by the server, not the build: what it sends must be what the
// figures above count (brotli at quality 11), not tower-http's quicker and larger brotli.
test("the loader goes out compressed as tightly as the build's own files", async () => {
  const sent = await new Promise((resolve, reject) => {
    const url = new URL(`${server.origins.api}/tweetbuy/embed.js`);
    request(url, { headers: { "accept-encoding": "br" } }, (response) => {
      const chunks = [];
      response.on("data", (c) => chunks.push(c));
      response.on("end", () => resolve({ encoding: response.headers["content-encoding"], bytes: Buffer.concat(chunks).length }));
    }).on("error", reject).end();
  });
  const counted = sizeOf(Buffer.from(loader)).brotli;
  console.log(`the loader: ${sent.bytes} B brotli sent, ${counted} B counted`);
  assert.equal(sent.encoding, "br");
  assert.ok(sent.bytes <= counted * 1.01 + 16, `${sent.bytes} B sent, where quality 11 gives ${counted} B`);
});

test("the checkout code (Leptos) is not in the button module, and everything stays under its ceiling", () => {
  const { wasm, checkoutGlue, checkoutWasm } = buildFiles(WIDGET_DIR);
  const button = readFileSync(join(WIDGET_DIR, wasm)).toString("latin1");
  for (const marker of ["leptos", "tachys", "reactive_graph", "server_fn"]) {
    assert.ok(!button.includes(marker), `the button module links ${marker}: the checkout crept into the first load`);
  }
  // The catalog lists the button's own messages first (src/shared/i18n.rs), so none of the
  // sheets' texts ride along into every page view.
  for (const text of ["Sold by {seller}", "Limited edition", "Product images"]) {
    assert.ok(!button.includes(text), `the button module holds the sheets' text "${text}"`);
  }
  // Built without std, its own panic handler keeps no panic message or source path: a
  // path of Rust's library in the module means std (or its panic formatting) came back.
  for (const path of ["library/std/", "library/core/", "library/alloc/"]) {
    assert.ok(!button.includes(path), `the button module keeps panic locations (${path}): std's panic machinery came back`);
  }
  // Our own send_wrapper (patches/send_wrapper) keeps std's thread handles out, 2.9 KB brotli.
  // The module keeps std's panic locations, which name the file that makes the handle.
  const checkoutModule = readFileSync(join(WIDGET_DIR, checkoutWasm)).toString("latin1");
  assert.ok(checkoutModule.includes("library/std/src/"), "no panic locations left to tell std's thread handles by: change this check");
  assert.ok(!checkoutModule.includes("library/std/src/thread/current.rs"), "the checkout module links std::thread::current again");
  // Slicing a str by index (`&s[..n]`) links the panic that formats the char at a bad
  // boundary, with char's Debug and its escape tables: 3 KB brotli. Strip or split instead.
  assert.ok(!checkoutModule.includes("is not a char boundary"), "the checkout module slices a str by index again");
  // Its dependencies' panic locations name their files from inside Cargo's registry, not by
  // the builder's home folder (the Makefile's widget build remaps the prefix): 307 B brotli.
  assert.ok(checkoutModule.includes("tachys-"), "no dependency's panic location left to check: change this check");
  assert.ok(!checkoutModule.includes("/registry/src/"), "the checkout module names Cargo's registry folder: the widget was built without the Makefile's path remap");
  // Leptos links server_fn, and server_fn crates.io's wasm-streams, whose JS classes (exported
  // with #[wasm_bindgen]) a module carries whole, used or not: 4 KB brotli of the checkout
  // module. The workspace's own wasm-streams (patches/wasm-streams) has none.
  const glue = readFileSync(join(WIDGET_DIR, checkoutGlue)).toString("latin1");
  // wasm-bindgen's description of any JS value, for a panic's message no one reads, is cut
  // to the value's type by scripts/post-build.sh: 233 B brotli.
  assert.ok(!glue.includes("[object "), "the checkout module's glue describes JS values for panic messages again");
  for (const [text, marker] of [[checkoutModule, "wasm-streams-0."], [glue, "byobRequest"]]) {
    assert.ok(!text.includes(marker), `the checkout module holds crates.io's wasm-streams (${marker}): is patches/wasm-streams still in [patch.crates-io]?`);
  }
  const first = total(firstLoadAssets(WIDGET_DIR, loader), "brotli");
  const checkout = total(checkoutAssets(WIDGET_DIR), "brotli");
  console.log(`with the checkout module: ${first + checkout} B brotli (ceiling ${CEILING_WITH_CHECKOUT} B, target ${TARGET_WITH_CHECKOUT} B)`);
  assert.ok(first + checkout <= CEILING_WITH_CHECKOUT, `${first + checkout} B brotli exceeds the ${CEILING_WITH_CHECKOUT} B ceiling`);
  console.log(`the checkout module: ${checkout} B brotli (ceiling ${CEILING_CHECKOUT_MODULE} B)`);
  assert.ok(checkout <= CEILING_CHECKOUT_MODULE, `the checkout module's ${checkout} B brotli exceed its ${CEILING_CHECKOUT_MODULE} B`);
});

// The purchase path through the card frame: both modules and the card frame's own files (its
// page, which the saved-info frame and then the card frame open at one address, so the
// second finds it in the browser's cache with the frame's other files). The target, 150 KiB,
// counts every response a first purchase gets, as `make bench` does, which adds the api's
// answers and the product's image (423 B in docs/performance.md's run); so the files alone
// are held at 150 KiB less half a KiB for those (151,830 B with the build of
// docs/performance.md's table).
const CEILING_THROUGH_FRAME = 150 * 1024 - 512;
const FRAME_FILES = ["/frame?lang=en", "/frame.js", "/frame-keys.js", "/frame.css", "/frame-words-en.js"];

test("the modules and the card frame's files stay under the purchase path's ceiling", async () => {
  const modules = total(firstLoadAssets(WIDGET_DIR, loader), "brotli") + total(checkoutAssets(WIDGET_DIR), "brotli");
  let frame = 0;
  for (const path of FRAME_FILES) {
    const reply = await fetch(`${server.origins.vault}${path}`);
    assert.equal(reply.status, 200, path);
    const size = sizeOf(Buffer.from(await reply.arrayBuffer())).brotli;
    console.log(`${path}: brotli ${size} B`);
    frame += size;
  }
  console.log(`modules ${modules} B + card frame ${frame} B = ${modules + frame} B brotli (ceiling ${CEILING_THROUGH_FRAME} B)`);
  assert.ok(modules + frame <= CEILING_THROUGH_FRAME, `${modules + frame} B brotli exceed the ${CEILING_THROUGH_FRAME} B ceiling`);
});

// A function of the button module that runs hot (a loop over a page's embeds) is compiled
// again by V8's optimizing compiler, on a background thread, while the page mounts its
// buttons; that compile grows with the function's size (src/button/mount.rs, `sort_out`).
// The scan keeps its loops in functions of their own, which wasm-opt must not inline back
// (index.html): this holds every function small enough that none is a 20 KB compile.
const LARGEST_FUNCTION = 12 * 1024;

test("no function of the button module is large enough to make its optimizing compile a long one", () => {
  const { wasm } = buildFiles(WIDGET_DIR);
  const sizes = functionBodySizes(readFileSync(join(WIDGET_DIR, wasm)));
  const largest = Math.max(...sizes);
  console.log(`the button module's largest function: ${largest} B of ${sizes.length} functions`);
  assert.ok(sizes.length > 100, "the code section was read");
  assert.ok(largest <= LARGEST_FUNCTION, `a function of ${largest} B: the scan's loops were inlined into one function again`);
});

/** The body size of each function in a wasm module's code section. */
function functionBodySizes(bytes) {
  const leb = (at) => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return [value, at];
    }
  };
  for (let at = 8; at < bytes.length; ) {
    const id = bytes[at];
    const [size, start] = leb(at + 1);
    if (id === 10) {
      let [count, next] = leb(start);
      const sizes = [];
      for (; count > 0; count--) {
        const [body, from] = leb(next);
        sizes.push(body);
        next = from + body;
      }
      return sizes;
    }
    at = start + size;
  }
  return [];
}
