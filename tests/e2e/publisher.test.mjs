// Publisher integration: one tag, every embed form, embeds that come and go, hostile CSS,
// a strict CSP, events, one lookup, and a page that survives an unreachable api.
import { test, after } from "node:test";
import { createServer } from "node:http";
import assert from "node:assert/strict";
import { join } from "node:path";
import { useServerAndBrowser, watchConsole, fillTeeCheckout, pressPay, payFrame, ARTIFACTS } from "./harness.mjs";

const OFFERS = ["1528000000000000001", "1528000000000000002", "1528000000000000003", "1528000000000000004",
  "1528000000000000005", "1528000000000000006", "1528000000000000007"];

/** Pages no fixture has, each a publisher's page of its own, served over real HTTP from
 * another loopback origin the api allows (a page the test fulfilled itself would count as
 * public, and Chromium keeps a public page from loopback addresses); `ownPage` adds one,
 * with the loader's tag from the api, and gives its address. */
const ownPages = new Map();
const ownServer = await new Promise((resolve) => {
  const server = createServer(async (req, res) => {
    // A copy of the widget's files on the publisher's own host, as a CDN would serve them.
    if (req.url.startsWith("/js/")) {
      const name = req.url.slice(4) === "tb.min.js" ? "embed.js" : req.url.slice(4);
      const reply = await fetch(`${env.server.origins.api}/tweetbuy/${name}`);
      res.writeHead(reply.status, { "content-type": reply.headers.get("content-type"), "access-control-allow-origin": "*" });
      return res.end(Buffer.from(await reply.arrayBuffer()));
    }
    // A short name of the publisher's own that redirects to the api's loader.
    if (req.url === "/go/tb.js") return res.writeHead(302, { location: `${env.server.origins.api}/tweetbuy/embed.js` }).end();
    const html = ownPages.get(req.url);
    res.writeHead(html ? 200 : 404, { "content-type": "text/html; charset=utf-8" }).end(html ?? "");
  });
  server.listen(0, "127.0.0.1", () => resolve(server));
});
const OWN_ORIGIN = `http://127.0.0.1:${ownServer.address().port}`;
after(() => ownServer.close());
function ownPage(path, body, { lang = "en", dir = "ltr", script = "" } = {}) {
  ownPages.set(path, `<!doctype html><html lang="${lang}" dir="${dir}"><head><meta charset="utf-8"><title>t</title></head><body>${body}` +
    `<script type="module" async src="${env.server.origins.api}/tweetbuy/embed.js" ${script}></script></body></html>`);
  return `${OWN_ORIGIN}${path}`;
}
const env = useServerAndBrowser({ serverEnv: { TWEETBUY_ALLOWED_ORIGINS: `{publisher},${OWN_ORIGIN}` } });

/** A page that records offer lookups and tweetbuy:* events from the moment it loads. */
async function open(path, { viewport = { width: 1024, height: 900 }, beforeLoad = async () => {} } = {}) {
  const page = await env.browser.newPage({ viewport });
  await beforeLoad(page);
  await page.addInitScript(placedInPage);
  const consoleSeen = watchConsole(page);
  const lookups = [];
  const widgetFiles = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/v1/offers")) lookups.push(r.url());
    if (r.url().includes("/tweetbuy/")) widgetFiles.push(new URL(r.url()).pathname.split("/").pop());
  });
  await page.addInitScript(() => {
    window.__events = [];
    for (const name of ["ready", "open", "checkout", "order", "close", "error"]) {
      document.addEventListener(`tweetbuy:${name}`, (e) => {
        window.__events.push({ type: e.type, detail: e.detail, target: e.target.tagName, bubbles: e.bubbles, composed: e.composed });
      });
    }
  });
  await page.goto(path.startsWith("http") ? path : `${env.server.origins.publisher}${path}`);
  return { page, consoleSeen, lookups, widgetFiles };
}

const hosts = (page) => page.evaluate(() => [...document.querySelectorAll("[data-tweetbuy-host]")].map((h) => h.dataset.tweetbuyHost));
// Waits for `n` buttons a visitor can see: a new view stays hidden (`data-unaligned` on its
// root, src/button/placement.rs) until the page's next layout lines its host up, so a box
// read before then is 0 x 0 however the button is styled.
const waitForHosts = (page, n) =>
  page.waitForFunction((n) => [...document.querySelectorAll("[data-tweetbuy-host]")]
    .filter((h) => h.shadowRoot?.querySelector("button[part=button]") && !h.shadowRoot.firstElementChild?.hasAttribute("data-unaligned"))
    .length >= n, n, { timeout: 20_000 });

test("every embed form on the plain page gets exactly one button, from one lookup", async () => {
  const held = {};
  const { page, lookups, consoleSeen, widgetFiles } = await open("/", { beforeLoad: (p) => holdModuleForLookup(p, held) });
  await waitForHosts(page, OFFERS.length);
  await page.waitForTimeout(300);
  assert.deepEqual((await hosts(page)).sort(), [...OFFERS].sort());
  // The button module is two requests: the loader, which holds its glue, and its wasm.
  const button = widgetFiles.filter((f) => !f.startsWith("tweetbuy-checkout-"));
  assert.deepEqual(button.map((f) => f.replace(/^tweetbuy-[0-9a-f]+/, "tweetbuy-HASH")), ["embed.js", "tweetbuy-HASH_bg.wasm"]);
  assert.equal(lookups.length, 1, `one batched lookup, saw ${lookups.join(" ")}`);
  const asked = new URL(lookups[0]).searchParams.get("tweet_ids").split(",");
  assert.deepEqual(asked.sort(), [...OFFERS, "20"].sort());
  // The rendered-iframe form (tweet 4) and each host sit right after their embed.
  const placement = await page.evaluate(() => [...document.querySelectorAll("[data-tweetbuy-host]")].map((h) => {
    const embed = h.previousElementSibling;
    const e = tweetBox(embed);
    const b = h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect();
    return { id: h.dataset.tweetbuyHost, attached: embed.dataset.tweetbuyAttached, ...placed(h, e, b) };
  }));
  for (const p of placement) {
    assert.equal(p.attached, p.id);
    assert.ok(p.placed, `button of ${p.id} sits at its embed's bottom right: ${JSON.stringify(p)}`);
  }
  // The only global is window.tweetbuy, with version and scan.
  const global = await page.evaluate(() => ({ keys: Object.keys(window.tweetbuy).sort(), version: window.tweetbuy.version, scan: typeof window.tweetbuy.scan }));
  assert.deepEqual(global.keys, ["scan", "version"]);
  assert.match(global.version, /^\d+\.\d+\.\d+/);
  // ready events: one per button, on the embed, bubbling out of any shadow root.
  const ready = await page.evaluate(() => window.__events.filter((e) => e.type === "tweetbuy:ready"));
  assert.equal(ready.length, OFFERS.length);
  for (const e of ready) {
    assert.ok(e.bubbles && e.composed);
    assert.deepEqual(Object.keys(e.detail).sort(), ["productId", "tweetId"]);
    assert.ok(OFFERS.includes(e.detail.tweetId));
  }
  // publish.twitter.com embeds carry data-dnt="true": no visitor id is sent or stored.
  assert.equal(new URL(lookups[0]).searchParams.get("visitor"), null);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  // The loader sent that one lookup before the button module had arrived, and the module
  // took it rather than asking again (the one lookup above).
  assert.equal(held.early, true, "the lookup went out before the module had arrived");
  await page.close();
});

/**
 * Holds the button module's wasm back until an offer lookup has gone out (for at most 5 s):
 * only the loader can send one then. `held.early` says whether one did.
 */
async function holdModuleForLookup(page, held) {
  let seen;
  const lookup = new Promise((resolve) => { seen = resolve; });
  page.on("request", (r) => r.url().includes("/api/v1/offers") && seen(true));
  await page.route(/\/tweetbuy-[0-9a-f]+_bg\.wasm$/, async (route) => {
    held.early = await Promise.race([lookup, new Promise((r) => setTimeout(() => r(false), 5_000))]);
    await route.continue();
  });
}

test("without do-not-track the loader's lookup carries the visitor id the module keeps", async () => {
  const held = {};
  const { page, lookups, consoleSeen } = await open("/bench?n=10", { beforeLoad: (p) => holdModuleForLookup(p, held) });
  await waitForHosts(page, 10);
  await page.waitForTimeout(300);
  assert.equal(lookups.length, 1, `one lookup, taken by the module: ${lookups.join(" ")}`);
  assert.equal(held.early, true, "sent by the loader");
  const visitor = new URL(lookups[0]).searchParams.get("visitor");
  assert.match(visitor ?? "", /^[A-Za-z0-9-]{8,64}$/);
  assert.equal(await page.evaluate(() => localStorage.getItem("tweetbuy.visitor")), visitor);
  // The next visit keeps the id.
  await page.reload();
  await waitForHosts(page, 10);
  await page.waitForTimeout(300);
  assert.equal(lookups.length, 2, `one more lookup: ${lookups.join(" ")}`);
  assert.equal(new URL(lookups[1]).searchParams.get("visitor"), visitor);
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  await page.close();
});

const BLOCKQUOTE = (id, attrs = "") =>
  `<blockquote class="twitter-tweet" ${attrs}><p>A tweet.</p>&mdash; (@someone) <a href="https://twitter.com/someone/status/${id}">May 1</a></blockquote>`;

test("do-not-track holds for the whole visit: a rendered embed's dnt= asks too, and later embeds send no visitor id", async () => {
  // widgets.js replaces a blockquote (and its data-dnt) by an iframe whose address says dnt=true.
  const rendered = `<div class="twitter-tweet twitter-tweet-rendered"><iframe title="X Post" width="550" height="220" ` +
    `src="https://platform.twitter.com/embed/Tweet.html?dnt=true&amp;embedId=twitter-widget-0&amp;id=1528000000000000004"></iframe></div>`;
  const { page, lookups, consoleSeen } = await open(ownPage("/dnt-rendered", rendered));
  await waitForHosts(page, 1);
  // An embed added later, without data-dnt, in a batch of its own.
  await page.evaluate((html) => { document.body.insertAdjacentHTML("beforeend", html); window.tweetbuy.scan(); }, BLOCKQUOTE("1528000000000000001"));
  await waitForHosts(page, 2);
  assert.equal(lookups.length, 2, lookups.join(" "));
  assert.deepEqual(lookups.map((l) => new URL(l).searchParams.get("visitor")), [null, null]);
  assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing kept on the device");
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  await page.close();
});

test("a malformed language tag on the page is read for what it means, and the buttons still come", async () => {
  // `es_ES` and the like make Intl throw; the page's typo must not stop its buttons.
  const { page, consoleSeen } = await open(ownPage("/bad-locale", BLOCKQUOTE("1528000000000000001"), { lang: "en_GB", script: `data-locale="es_ES"` }));
  await waitForHosts(page, 1);
  const label = await page.evaluate(() => document.querySelector("[data-tweetbuy-host]").shadowRoot.querySelector("button[part=button]").textContent);
  assert.equal(label, "Comprar · 30,00\u00a0US$");
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror" || m.text.includes("tweetbuy")), []);
  await page.close();
});

/** Runs in the page: where a host's button sits. In its row it is under the embed, flush
 * with its right edge; floating (its row still in sight), it hangs over the embed's bottom
 * right corner, inset by the 8 px space, and stops above whatever follows the embed. */
function placedInPage() {
  // The box the visitor sees as the tweet: a tweet widgets.js rendered is the iframe inside
  // its wrapper, and the button lines up with it.
  window.tweetBox = (embed) => (embed.querySelector(":scope > iframe") || embed).getBoundingClientRect();
  window.placed = (host, e, b) => {
    const floating = host.shadowRoot.querySelector(".tb-root").hasAttribute("data-floating");
    const next = host.nextElementSibling?.getBoundingClientRect();
    const row = host.getBoundingClientRect().height;
    // The widget's own lengths (the 8 px inset, the 44 px row) are drawn larger on a page
    // zoomed by CSS, like everything else in it.
    const z = host.currentCSSZoom || 1;
    const ok = floating
      ? row === 0 && Math.abs(e.right - 8 * z - b.right) <= 1 && b.bottom > e.top && (!next || b.bottom <= next.top)
      : row >= 44 * z && b.top >= e.bottom - 1 && Math.abs(b.right - e.right) <= 1;
    return { floating, row, placed: ok, button: [b.top, b.right, b.bottom], embed: [e.top, e.right, e.bottom], next: next?.top };
  };
}

/** A page recording every layout shift, whose widget starts only when `go()` is called. */
async function shiftWatch() {
  const page = await env.browser.newPage({ viewport: { width: 1024, height: 900 } });
  await page.addInitScript(placedInPage);
  await page.addInitScript(() => {
    window.__shifts = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        window.__shifts.push({ value: e.value, at: Math.round(e.startTime), moved: e.sources.map((s) => s.node?.nodeName ?? "?") });
      }
    }).observe({ type: "layout-shift", buffered: true });
  });
  let go;
  const started = new Promise((resolve) => { go = resolve; });
  await page.route("**/tweetbuy/embed.js", async (route) => { await started; await route.continue(); });
  // "load" waits for the held-back script, so only up to the parsed document.
  await page.goto(`${env.server.origins.publisher}/`, { waitUntil: "domcontentloaded" });
  const where = () => page.evaluate(() => Object.fromEntries([...document.querySelectorAll("[data-tweetbuy-host]")].map((h) => {
    const b = h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect();
    // Rows are taken 16 px out of sight (src/placement.rs), so a button at the edge never moves.
    return [h.dataset.tweetbuyHost, { visible: b.bottom > 0 && b.top < innerHeight, below: b.top >= innerHeight + 16, ...placed(h, tweetBox(h.previousElementSibling), b) }];
  })));
  return { page, go, where, shifts: () => page.evaluate(() => window.__shifts) };
}

test("a page of many buttons makes few calls from the module into the browser, and decodes few strings", async () => {
  // Deterministic, unlike a time. Every call from wasm into the browser goes through one of
  // the functions the glue gives the module as its imports, and costs about a microsecond
  // however little it does: a batch's DOM work is one call of the kit's (src/button/kit.js),
  // not dozens per button. Every string the module hands the browser is decoded by the
  // glue's TextDecoder: names are made once per page (src/shared/names.rs), and per batch
  // the buttons' own values cross as one text.
  const page = await env.browser.newPage({ viewport: { width: 1024, height: 900 } });
  await page.addInitScript(() => {
    window.__decoded = 0;
    window.__calls = 0;
    const decode = TextDecoder.prototype.decode;
    TextDecoder.prototype.decode = function (...args) {
      window.__decoded += 1;
      return decode.apply(this, args);
    };
    const counted = (imports) => {
      for (const functions of Object.values(imports)) {
        for (const [name, f] of Object.entries(functions)) {
          if (typeof f === "function") functions[name] = function (...args) { window.__calls += 1; return f.apply(this, args); };
        }
      }
      return imports;
    };
    const [streaming, plain] = [WebAssembly.instantiateStreaming, WebAssembly.instantiate];
    WebAssembly.instantiateStreaming = (source, imports) => streaming(source, counted(imports));
    WebAssembly.instantiate = (source, imports) => plain(source, counted(imports));
  });
  await page.goto(`${env.server.origins.publisher}/bench?n=200`);
  const aligned = () => ["tweetbuy:attach", "tweetbuy:align"].every((name) => performance.getEntriesByName(name).reduce((c, e) => c + e.detail.count, 0) >= 200);
  await page.waitForFunction(aligned, null, { timeout: 30_000 });
  await page.waitForTimeout(300); // the observers' first reports
  const { calls, decoded } = await page.evaluate(() => ({ calls: window.__calls / 200, decoded: window.__decoded / 200 }));
  console.log(`per button: ${calls} calls into the browser, ${decoded} strings decoded`);
  assert.ok(calls > 1, `the count sees the module's calls (${calls})`);
  assert.ok(calls <= 8, `${calls} calls into the browser per button (DOM work per button outside the kit again?)`);
  assert.ok(decoded <= 2, `${decoded} strings decoded per button (names or values crossing one by one again?)`);
  await page.close();
});

test("buttons appear without moving the page (layout shift 0): in sight they float, below it they take a row", async () => {
  const { page, go, where, shifts } = await shiftWatch();
  await page.waitForTimeout(300); // the page has painted before the widget arrives, as on a real site
  go();
  await waitForHosts(page, OFFERS.length);
  await page.waitForTimeout(500);
  const atLoad = await where();
  for (const [id, p] of Object.entries(atLoad)) assert.ok(p.placed, `${id}: ${JSON.stringify(p)}`);
  const first = atLoad[OFFERS[0]];
  assert.ok(first.visible && first.floating, `the first button floats in sight: ${JSON.stringify(first)}`);
  const below = Object.values(atLoad).filter((p) => p.below);
  assert.ok(below.length >= 3, `some buttons start below the fold: ${JSON.stringify(atLoad)}`);
  for (const p of below) assert.equal(p.floating, false, `below the fold a button has its row at once: ${JSON.stringify(p)}`);
  // Down to the end and back up: nothing moves, and the first buttons keep floating.
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await page.waitForTimeout(400);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(400);
  const after = await where();
  for (const [id, p] of Object.entries(after)) assert.ok(p.placed, `${id}: ${JSON.stringify(p)}`);
  assert.equal(after[OFFERS[0]].floating, true);
  assert.deepEqual(await shifts(), [], "no layout shift at all");
  await page.close();
});

test("a floating button takes its row once the visitor scrolls up past it, and nothing moves", async () => {
  const { page, go, where, shifts } = await shiftWatch();
  // The visitor is already at the end of the page when the widget arrives (once the page's
  // stylesheet has given it its full height).
  await page.waitForFunction(() => {
    window.scrollTo(0, document.documentElement.scrollHeight);
    return window.scrollY > 1000;
  });
  await page.waitForTimeout(300);
  go();
  await waitForHosts(page, OFFERS.length);
  await page.waitForTimeout(500);
  const atLoad = await where();
  const inSight = Object.entries(atLoad).filter(([, p]) => p.visible).map(([id]) => id);
  assert.ok(inSight.length >= 1, JSON.stringify(atLoad));
  for (const [id, p] of Object.entries(atLoad)) {
    assert.ok(p.placed && p.floating, `${id} floats: in sight or above it, a row would move the page: ${JSON.stringify(p)}`);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(500);
  const after = await where();
  for (const id of inSight) {
    assert.ok(after[id].placed && !after[id].floating, `${id} took its row below the viewport: ${JSON.stringify(after[id])}`);
  }
  assert.ok(after[OFFERS[0]].floating, "the first button, in sight again, still floats");
  assert.deepEqual(await shifts(), [], "no layout shift at all");
  await page.close();
});

test("a centred embed's button follows it when the window changes size", async () => {
  const { page } = await open("/");
  await waitForHosts(page, OFFERS.length);
  await page.evaluate(() => {
    const centred = document.createElement("blockquote");
    centred.className = "twitter-tweet";
    centred.style.cssText = "margin: 24px auto; max-width: 360px";
    centred.innerHTML = '<p>Centred, narrower than the column.</p>&mdash; (RED) <a href="https://twitter.com/RED/status/1528000000000000005">September 8, 2014</a>';
    document.querySelector("h1").after(centred);
  });
  await waitForHosts(page, OFFERS.length + 1);
  const where = () => page.evaluate(() => {
    const h = document.querySelector("h1").nextElementSibling.nextElementSibling;
    return placed(h, tweetBox(h.previousElementSibling), h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect());
  });
  const wide = await where();
  assert.ok(wide.placed, `at 1,024 px: ${JSON.stringify(wide)}`);
  await page.setViewportSize({ width: 500, height: 900 }); // narrower than the column: the centring margin shrinks
  await page.waitForTimeout(300);
  const narrow = await where();
  assert.ok(narrow.placed, `at 500 px: ${JSON.stringify(narrow)}`);
  assert.notEqual(narrow.embed[1], wide.embed[1], "the embed moved");
  await page.close();
});

test("on a right-to-left page each button sits at its tweet's bottom right too, floating or in its row", async () => {
  const centred = BLOCKQUOTE("1528000000000000005", `style="margin: 24px auto; max-width: 360px"`);
  const body = `<main style="max-width: 700px">${BLOCKQUOTE("1528000000000000001")}<p>After.</p>` +
    `<div style="height: 1500px"></div>${centred}<p>After.</p></main>`;
  const { page } = await open(ownPage("/rtl", body, { lang: "ar", dir: "rtl" }));
  await waitForHosts(page, 2);
  const where = () => page.evaluate(() => [...document.querySelectorAll("[data-tweetbuy-host]")].map((h) =>
    placed(h, tweetBox(h.previousElementSibling), h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect())));
  const [top, below] = await where();
  assert.ok(top.floating && top.placed, `in sight, floating: ${JSON.stringify(top)}`);
  assert.ok(!below.floating && below.placed, `below the fold, in its row: ${JSON.stringify(below)}`);
  // Scrolled past, the first takes its row: still at the right.
  await page.evaluate(() => scrollTo(0, 1200));
  await page.waitForTimeout(300);
  await page.evaluate(() => scrollTo(0, 0));
  await page.waitForTimeout(300);
  const [again] = await where();
  assert.ok(again.placed, `after scrolling: ${JSON.stringify(again)}`);
  await page.close();
});

test("on a page zoomed by CSS (zoom: 1.5), each button still sits at its tweet's bottom right", async () => {
  const centred = BLOCKQUOTE("1528000000000000005", `style="margin: 24px auto; max-width: 300px"`);
  const body = `<main style="zoom: 1.5; max-width: 600px">${centred}<p>After.</p>` +
    `<div style="height: 1500px"></div>${BLOCKQUOTE("1528000000000000001", `style="margin: 24px auto; max-width: 320px"`)}<p>After.</p></main>`;
  const { page } = await open(ownPage("/zoom", body));
  await waitForHosts(page, 2);
  const where = () => page.evaluate(() => [...document.querySelectorAll("[data-tweetbuy-host]")].map((h) =>
    placed(h, tweetBox(h.previousElementSibling), h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect())));
  const [top, below] = await where();
  assert.ok(top.placed, `in sight, floating: ${JSON.stringify(top)}`);
  assert.ok(below.placed, `below the fold, in its row: ${JSON.stringify(below)}`);
  await page.close();
});

test("on a page zoomed out by CSS (zoom: 0.6), a button in sight floats rather than take a row that would move the page", async () => {
  // 1,000 of the page's pixels at 0.6 put the tweet's bottom at about 720 of the window's 900.
  const body = `<main style="zoom: 0.6"><div style="height: 1000px"></div>${BLOCKQUOTE("1528000000000000001", `id="zoomed"`)}<p id="after">After.</p></main>`;
  const { page, go } = await heldPage("/zoomed-out", body);
  go();
  await waitForHosts(page, 1);
  await page.waitForTimeout(500);
  const host = await page.evaluate(() => {
    const h = document.querySelector("[data-tweetbuy-host]");
    const b = h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect();
    return { top: b.top, bottom: b.bottom, inner: innerHeight };
  });
  assert.ok(host.bottom <= host.inner, `the button is in sight: ${JSON.stringify(host)}`);
  assert.deepEqual(await page.evaluate(() => window.__shifts), [], "nothing on screen moved");
  await page.close();
});

/** A page of our own (`ownPage`) whose widget starts only when `go()` is called, parsed up
 * to its end, recording its layout shifts (`window.__shifts`, with what moved); in it,
 * `tweetOf(embed)` is the box of the tweet the visitor sees. */
async function heldPage(path, body) {
  const page = await env.browser.newPage({ viewport: { width: 1024, height: 900 } });
  await page.addInitScript(() => {
    window.__shifts = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__shifts.push({ value: e.value, moved: e.sources.map((s) => s.node?.id || s.node?.nodeName || "?") });
    }).observe({ type: "layout-shift", buffered: true });
    window.tweetOf = (embed) => (embed.querySelector(":scope > iframe") || embed).getBoundingClientRect();
  });
  let go;
  const started = new Promise((resolve) => { go = resolve; });
  await page.route("**/tweetbuy/embed.js", async (route) => { await started; await route.continue(); });
  await page.goto(ownPage(path, body), { waitUntil: "domcontentloaded" });
  return { page, go };
}

test("a wall of tweets in a CSS grid or a flex line keeps its layout: each button floats at its own tweet's bottom right, and follows it", async () => {
  // A host of its own would be one more grid cell or flex item per button (and one more gap).
  // The last cell a tweet widgets.js rendered: its iframe narrower than its wrapper, and the
  // button at the iframe's corner, the tweet the visitor sees.
  const cell = (id, i) => i === 4
    ? `<div class="twitter-tweet twitter-tweet-rendered" id="t4"><iframe data-tweet-id="${id}" src="about:blank" style="display: block; width: 200px; height: 160px; border: 0"></iframe></div>`
    : BLOCKQUOTE(id, `id="t${i}" style="margin: 0; height: ${150 + 30 * (i % 2)}px; overflow: hidden"`);
  const body = `<header id="head" style="height: 80px">Wall</header>` +
    `<section id="grid" style="display: grid; grid-template-columns: repeat(3, 260px); gap: 16px">${OFFERS.slice(0, 5).map(cell).join("")}</section>` +
    `<div id="strip" style="display: flex; gap: 8px; overflow-x: auto; width: 400px; margin-top: 16px; position: relative">` +
    `${[5, 6].map((i) => BLOCKQUOTE(OFFERS[i], `id="t${i}" style="flex: none; width: 260px; height: 120px; margin: 0"`)).join("")}</div><p id="after">After.</p>`;
  const { page, go } = await heldPage("/wall", body);
  const tweets = () => page.evaluate(() => [...document.querySelectorAll("[id^=t]")].map((t) => {
    const r = t.getBoundingClientRect();
    return [t.id, r.left, r.top, r.width, r.height];
  }));
  const before = await tweets();
  go();
  await waitForHosts(page, 7);
  assert.deepEqual(await tweets(), before, "no tweet moved or changed size");
  assert.deepEqual(await page.evaluate(() => window.__shifts), [], "no layout shift");
  // Where each button is against its own tweet, and whether a tap there reaches it.
  const where = () => page.evaluate(() => [...document.querySelectorAll("[data-tweetbuy-host]")].map((h) => {
    const t = tweetOf(h.previousElementSibling);
    const b = h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect();
    const shown = b.width > 0;
    const at = shown && document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
    const hit = at === h;
    return { id: h.previousElementSibling.id, shown, hit, at: at && (at.id || at.nodeName), b: [b.left, b.top, b.right, b.bottom], right: Math.round(t.right - b.right), bottom: Math.round(t.bottom - b.bottom), floating: h.shadowRoot.firstElementChild.hasAttribute("data-floating") };
  }));
  // The strip's last tweet runs past its edge (it scrolls), and so does its button, cut off.
  const atCorner = (w) => w.shown && w.hit === (w.id !== "t6") && w.floating && w.right === 8 && w.bottom === 4;
  const all = await where();
  assert.equal(all.length, 7);
  for (const w of all) assert.ok(atCorner(w), JSON.stringify(w));
  // The page grows above the wall and a tweet of the first row grows: every button follows
  // its tweet with no resize of the window, and no tweet moves because of a button.
  await page.evaluate(() => {
    document.getElementById("head").style.height = "140px";
    document.getElementById("t1").style.height = "260px";
  });
  const followed = await page.waitForFunction(() => [...document.querySelectorAll("[data-tweetbuy-host]")].every((h) => {
    const t = tweetOf(h.previousElementSibling);
    const b = h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect();
    return Math.round(t.bottom - b.bottom) === 4 && Math.round(t.right - b.right) === 8;
  }), null, { timeout: 5_000 }).then(() => true, () => false);
  assert.ok(followed, JSON.stringify(await where()));
  // The strip scrolled sideways: its buttons go with their tweets, and a button past its
  // edge (its tweet partly scrolled out) is cut off with the tweet, as the strip is
  // positioned (docs/publishers.md).
  const strip = await page.evaluate(() => document.getElementById("strip").getBoundingClientRect().right);
  await page.evaluate(() => { document.getElementById("strip").scrollLeft = 130; });
  await page.waitForFunction((strip) => {
    const t = document.getElementById("t6");
    const b = t.nextElementSibling.shadowRoot.querySelector("button").getBoundingClientRect();
    return Math.round(t.getBoundingClientRect().right - b.right) === 8 && b.right <= strip;
  }, strip, { timeout: 5_000 });
  // A tweet the page hides (a filtered wall) takes its button with it, and brings it back.
  await page.evaluate(() => { document.getElementById("t2").style.display = "none"; });
  await page.waitForFunction(() => document.getElementById("t2").nextElementSibling.shadowRoot.querySelector("button").getBoundingClientRect().width === 0, null, { timeout: 5_000 });
  await page.evaluate(() => { document.getElementById("t2").style.display = ""; });
  const back = await page.waitForFunction(() => {
    const h = document.getElementById("t2").nextElementSibling;
    return h.shadowRoot.querySelector("button").getBoundingClientRect().width > 0;
  }, null, { timeout: 5_000 }).then(() => true, () => false);
  assert.ok(back, JSON.stringify(await where()));
  // Every button, the strip's two included now, at its tweet's corner, there to tap.
  for (const w of await where()) assert.ok(w.shown && w.hit && w.floating && w.right === 8 && w.bottom === 4, JSON.stringify(w));
  await page.screenshot({ path: join(ARTIFACTS, "publisher-wall.png") });
  await page.close();
});

test("a tweet floated beside the text (oEmbed's align=\"right\") gets its button at its own bottom right, and the text around it stays where it was", async () => {
  const text = "<p>" + "Words around the tweet. ".repeat(60) + "</p>";
  const floated = (id, side) => BLOCKQUOTE(id, `id="f-${side}" style="float: ${side}; width: 300px; height: 200px; margin: 0 16px 8px; overflow: hidden"`);
  const body = `<main style="max-width: 800px">${floated(OFFERS[0], "right")}${text}${floated(OFFERS[2], "left")}${text}</main>`;
  const { page, go } = await heldPage("/floated", body);
  const layout = () => page.evaluate(() => [...document.querySelectorAll("main > *:not([data-tweetbuy-host])")].map((e) => {
    const r = e.getBoundingClientRect();
    return [e.id || e.nodeName, r.left, r.top, r.width, r.height];
  }));
  const before = await layout();
  go();
  await waitForHosts(page, 2);
  assert.deepEqual(await layout(), before, "the text and the tweets are where they were");
  assert.deepEqual(await page.evaluate(() => window.__shifts), [], "no layout shift");
  const where = await page.evaluate(() => ["f-right", "f-left"].map((id) => {
    const t = document.getElementById(id).getBoundingClientRect();
    const h = document.getElementById(id).nextElementSibling;
    const b = h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect();
    return { id, right: Math.round(t.right - b.right), bottom: Math.round(t.bottom - b.bottom), hit: document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2) === h };
  }));
  for (const w of where) assert.deepEqual(w, { id: w.id, right: 8, bottom: 4, hit: true });
  await page.screenshot({ path: join(ARTIFACTS, "publisher-floated.png") });
  await page.close();
});

test("embeds the page moves (a list reordered) take their buttons with them", async () => {
  const ids = ["1528000000000000001", "1528000000000000003", "1528000000000000005"];
  const { page } = await open(ownPage("/reorder", `<main id="list" style="max-width: 600px">${ids.map((id) => BLOCKQUOTE(id)).join("")}</main>`));
  await waitForHosts(page, 3);
  await page.evaluate(() => {
    const list = document.getElementById("list");
    for (const embed of [...list.querySelectorAll("blockquote")].reverse()) list.append(embed);
  });
  await page.waitForTimeout(500);
  const after = await page.evaluate(() => [...document.querySelectorAll("[data-tweetbuy-host]")].map((h) => ({
    host: h.dataset.tweetbuyHost,
    follows: h.previousElementSibling?.dataset.tweetbuyAttached,
    ...placed(h, tweetBox(h.previousElementSibling), h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect()),
  })));
  assert.deepEqual(after.map((a) => a.host), [...ids].reverse(), "the buttons follow the new order");
  for (const a of after) {
    assert.equal(a.follows, a.host, "each right after its own embed");
    assert.ok(a.placed, JSON.stringify(a));
  }
  await page.close();
});

test("an element the page puts between a tweet and its button stays there when anything else leaves the page", async () => {
  const { page } = await open(ownPage("/between", `<main style="max-width: 600px">${BLOCKQUOTE("1528000000000000001")}<p id="clock">12:00</p></main>`));
  await waitForHosts(page, 1);
  const order = () => page.evaluate(() => [...document.querySelector("main").children].map((e) => e.id || e.tagName.toLowerCase()));
  await page.evaluate(() => {
    const ad = document.createElement("aside");
    ad.id = "ad";
    ad.textContent = "An ad";
    document.querySelector("blockquote").after(ad);
  });
  assert.deepEqual(await order(), ["blockquote", "ad", "tweetbuy-button", "clock"]);
  // Something unrelated leaves the page (a clock's text replaced), as pages do all the time.
  await page.evaluate(() => { document.getElementById("clock").textContent = "12:01"; });
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.waitForTimeout(200);
  assert.deepEqual(await order(), ["blockquote", "ad", "tweetbuy-button", "clock"], "nothing the visitor sees moved");
  // A tweet (one with no offer: it has no mark) put between them takes the button back to
  // its own tweet at the next change.
  await page.evaluate(() => {
    const other = document.createElement("blockquote");
    other.className = "twitter-tweet";
    other.id = "other";
    other.innerHTML = '<p>Another.</p>&mdash; (@someone) <a href="https://twitter.com/someone/status/20">May 2</a>';
    document.getElementById("ad").after(other);
  });
  // Once its scan is over (found without an offer, so left unmarked).
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.waitForTimeout(300);
  await page.evaluate(() => { document.getElementById("clock").textContent = "12:02"; });
  await page.waitForFunction(() => document.querySelector("blockquote").nextElementSibling?.tagName === "TWEETBUY-BUTTON", null, { timeout: 5_000 });
  assert.deepEqual(await order(), ["blockquote", "tweetbuy-button", "ad", "other", "clock"]);
  await page.close();
});

test("a button the page takes out while keeping its tweet (a framework's hydration) comes back once; taken out again, it stays out", async () => {
  const { page, consoleSeen } = await open(ownPage("/hydrated", `<main style="max-width: 600px">${BLOCKQUOTE("1528000000000000001")}</main>`));
  await waitForHosts(page, 1);
  await page.evaluate(() => document.querySelector("[data-tweetbuy-host]").remove());
  await page.waitForFunction(() => document.querySelector("[data-tweetbuy-host]")?.shadowRoot?.querySelector("button[part=button]"), null, { timeout: 10_000 });
  assert.deepEqual(await hosts(page), ["1528000000000000001"]);
  await page.evaluate(() => document.querySelector("[data-tweetbuy-host]").remove());
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.waitForTimeout(300);
  assert.deepEqual(await hosts(page), [], "the page meant it");
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  await page.close();
});

test("a page saved with the widget's marks and hosts in it (a snapshot, a prerendered page) gets working buttons, one per tweet", async () => {
  const tee = "1528000000000000001";
  const saved = `<blockquote class="twitter-tweet" data-tweetbuy-attached="${tee}" style="anchor-name: --tb-abc123-1"><p>A tweet.</p>&mdash; (@someone) <a href="https://twitter.com/someone/status/${tee}">May 1</a></blockquote>` +
    `<tweetbuy-button data-tweetbuy-host="${tee}" data-tweetbuy-theme="light" style="display: block !important"></tweetbuy-button>`;
  const { page, consoleSeen } = await open(ownPage("/snapshot", `<main style="max-width: 600px">${saved}</main>`));
  await page.waitForFunction(() => document.querySelector("[data-tweetbuy-host]")?.shadowRoot?.querySelector("button[part=button]"), null, { timeout: 10_000 });
  assert.deepEqual(await hosts(page), [tee], "the saved host went; the tweet has one button, ours");
  assert.equal(await page.evaluate(() => document.querySelector("blockquote").style.getPropertyValue("anchor-name")), "", "the saved anchor name went");
  await page.locator("[data-tweetbuy-host] button[part=button]").click();
  await page.locator("[data-tweetbuy-host] dialog[open]").first().waitFor({ timeout: 20_000 });
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  await page.close();
});

test("a tweet shown late (a tab opened) or narrowed by the page gets its button lined up again, with no resize of the window", async () => {
  const centred = BLOCKQUOTE("1528000000000000005", `style="margin: 24px auto; max-width: 360px"`);
  const { page } = await open(ownPage("/tabs", `<main style="max-width: 700px"><div id="tab" hidden>${centred}</div><p>After.</p></main>`));
  await page.waitForFunction(() => document.querySelector("[data-tweetbuy-host]")?.shadowRoot?.querySelector("button[part=button]"));
  const where = () => page.evaluate(() => {
    const h = document.querySelector("[data-tweetbuy-host]");
    return placed(h, tweetBox(h.previousElementSibling), h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect());
  });
  // Waits (never a fixed sleep, which a busy machine outruns) for the button to line up, and
  // says where it is if it never does.
  const lineUp = async (what) => {
    const ok = await page.waitForFunction(() => {
      const h = document.querySelector("[data-tweetbuy-host]");
      return placed(h, tweetBox(h.previousElementSibling), h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect()).placed;
    }, null, { timeout: 5_000 }).then(() => true, () => false);
    const p = await where();
    assert.ok(ok && p.placed, `${what}: ${JSON.stringify(p)}`);
    return p;
  };
  await page.evaluate(() => { document.getElementById("tab").hidden = false; });
  const shown = await lineUp("the tab opened");
  await page.evaluate(() => { document.querySelector("blockquote").style.maxWidth = "300px"; });
  await page.waitForFunction(() => document.querySelector("blockquote").getBoundingClientRect().width <= 300);
  const narrowed = await lineUp("the tweet narrowed");
  assert.notEqual(narrowed.button[1], shown.button[1], "the button moved with it");
  await page.close();
});

test("the button of a tweet shown late floats in sight, and takes its row once the visitor has scrolled up past it", async () => {
  const { page } = await open(ownPage("/late-tab", `<main style="max-width: 700px"><div style="height: 1600px">Above.</div><div id="tab" hidden>${BLOCKQUOTE("1528000000000000005")}</div><p>After.</p><div style="height: 1600px"></div></main>`));
  await page.waitForFunction(() => document.querySelector("[data-tweetbuy-host]")?.shadowRoot?.querySelector("button[part=button]"));
  await page.evaluate(() => {
    document.getElementById("tab").hidden = false;
    document.getElementById("tab").scrollIntoView({ block: "center" });
  });
  const floating = () => page.evaluate(() => document.querySelector("[data-tweetbuy-host]").shadowRoot.querySelector(".tb-root").hasAttribute("data-floating"));
  await page.waitForFunction(() => document.querySelector("[data-tweetbuy-host]").shadowRoot.querySelector("button[part=button]").getBoundingClientRect().width > 0, null, { timeout: 5_000 });
  assert.ok(await floating(), "in sight when it shows: floating, so nothing on screen moves");
  await page.evaluate(() => window.scrollTo(0, 0));
  const settled = await page.waitForFunction(() => !document.querySelector("[data-tweetbuy-host]").shadowRoot.querySelector(".tb-root").hasAttribute("data-floating"), null, { timeout: 5_000 }).then(() => true, () => false);
  assert.ok(settled, "below the viewport: the button takes its row");
  await page.close();
});

test("a tweet the page hides (a filtered list) takes its button with it, and brings it back", async () => {
  const ids = ["1528000000000000001", "1528000000000000003", "1528000000000000005"];
  const { page } = await open(ownPage("/filter", `<main style="max-width: 600px">${ids.map((id, i) => BLOCKQUOTE(id, `id="q${i}"`)).join("<p>Between.</p>")}</main>`));
  await waitForHosts(page, 3);
  const button = (i) => page.evaluate((i) => {
    const h = document.getElementById(`q${i}`).nextElementSibling;
    const b = h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect();
    return { shown: b.width > 0, ...placed(h, tweetBox(h.previousElementSibling), b) };
  }, i);
  assert.ok((await button(1)).placed, JSON.stringify(await button(1)));
  await page.evaluate(() => { document.getElementById("q1").style.display = "none"; });
  const gone = await page.waitForFunction(() => document.getElementById("q1").nextElementSibling.shadowRoot.querySelector("button").getBoundingClientRect().width === 0, null, { timeout: 5_000 }).then(() => true, () => false);
  assert.ok(gone, `the hidden tweet's button still shows: ${JSON.stringify(await button(1))}`);
  assert.ok((await button(0)).placed && (await button(2)).placed, "the others stay where they are");
  await page.evaluate(() => { document.getElementById("q1").style.display = ""; });
  const back = await page.waitForFunction(() => {
    const h = document.getElementById("q1").nextElementSibling;
    return placed(h, tweetBox(h.previousElementSibling), h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect()).placed;
  }, null, { timeout: 5_000 }).then(() => true, () => false);
  assert.ok(back, JSON.stringify(await button(1)));
  await page.close();
});

/** A page of its own (`path`) with one tweet, the tee's (`id="q"`), its Buy button clicked:
 * the page, the button's host and the sheet (which may still be coming). */
async function teeClicked(path, options) {
  const { page } = await open(ownPage(path, `<main style="max-width: 600px">${BLOCKQUOTE("1528000000000000001", `id="q"`)}<p>After.</p></main>`), options);
  await waitForHosts(page, 1);
  const host = page.locator("[data-tweetbuy-host]");
  await host.locator("button[part=button]").click();
  return { page, host, sheet: host.locator("dialog[open]:not(.tb-waiting)") };
}

test("a tweet the page hides while its sheet is open takes its button with it, not the open sheet", async () => {
  const { page, sheet } = await teeClicked("/hidden-open");
  const cont = sheet.getByRole("button", { name: "Continue" });
  await cont.waitFor({ timeout: 15_000 });
  // The page hides the tweet behind the sheet (a layout for another orientation, a filter).
  await page.evaluate(() => { document.getElementById("q").style.display = "none"; });
  const hidden = await page.waitForFunction(() => document.querySelector("[data-tweetbuy-host]").shadowRoot.querySelector(".tb-root").hasAttribute("data-unaligned"), null, { timeout: 5_000 }).then(() => true, () => false);
  assert.ok(hidden, "the hidden tweet's button is hidden with it");
  const shown = await page.evaluate(() => {
    const h = document.querySelector("[data-tweetbuy-host]");
    return { row: h.getBoundingClientRect().height, button: h.shadowRoot.querySelector("button[part=button]").getBoundingClientRect().width };
  });
  assert.deepEqual(shown, { row: 0, button: 0 }, "no button and no row under the hidden tweet");
  // The buyer's sheet stays in sight (a modal sheet hidden with the button would leave an
  // inert page), and the purchase goes on.
  assert.ok(await cont.isVisible(), "the open sheet is still shown");
  await cont.click();
  await sheet.locator("#tb-email").fill("jane@example.com");
  await page.close();
});

test("a tweet the page removes while its sheet is open leaves the sheet to the buyer, and its host goes once the sheet closes", async () => {
  const { page, sheet } = await teeClicked("/removed-open");
  await sheet.getByRole("button", { name: "Continue" }).click();
  await sheet.locator("#tb-email").fill("jane@example.com");
  // A live feed drops the tweet while the visitor is buying from it.
  const heard = await page.evaluate(() => { document.getElementById("q").remove(); return window.__events.length; });
  const hidden = await page.waitForFunction(() => document.querySelector("[data-tweetbuy-host]")?.shadowRoot.querySelector(".tb-root").hasAttribute("data-unaligned"), null, { timeout: 5_000 }).then(() => true, () => false);
  assert.ok(hidden, "its button is hidden, its host kept");
  const state = await page.evaluate(() => {
    const h = document.querySelector("[data-tweetbuy-host]");
    const d = h.shadowRoot.querySelector("dialog[open]:not(.tb-waiting)");
    return { modal: d?.matches(":modal"), email: d?.querySelector("#tb-email")?.value, row: h.getBoundingClientRect().height };
  });
  assert.deepEqual(state, { modal: true, email: "jane@example.com", row: 0 }, "the sheet is still there, modal, with what was typed");
  await sheet.locator(".tb-close").click();
  const gone = await page.waitForFunction(() => !document.querySelector("[data-tweetbuy-host]"), null, { timeout: 5_000 }).then(() => true, () => false);
  assert.ok(gone, "the host goes once the sheet is closed");
  const after = (await page.evaluate(() => window.__events)).slice(heard).map((e) => `${e.type} on ${e.target}`);
  assert.deepEqual(after, ["tweetbuy:close on TWEETBUY-BUTTON"], "the page still hears the sheet, from its host");
  await page.close();
});

test("a tweet the page removes while the checkout is still loading keeps its sheet when it comes, and its host goes once that closes", async () => {
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const beforeLoad = (page) => page.route(/tweetbuy-checkout-/, async (route) => { await held; await route.continue(); });
  const { page, host, sheet } = await teeClicked("/removed-waiting", { beforeLoad });
  await host.locator("dialog.tb-waiting[open]").waitFor({ timeout: 5_000 });
  await page.evaluate(() => document.getElementById("q").remove());
  release();
  await sheet.getByRole("button", { name: "Continue" }).waitFor({ timeout: 15_000 });
  await sheet.locator(".tb-close").click();
  const gone = await page.waitForFunction(() => !document.querySelector("[data-tweetbuy-host]"), null, { timeout: 5_000 }).then(() => true, () => false);
  assert.ok(gone, "the host goes once the sheet that took the stand-in's place is closed");
  await page.close();
});

for (const moveBefore of [true, false]) {
  test(`a list the page reorders while a sheet is open keeps the sheet modal${moveBefore ? " and what the buyer typed in the card frame" : ", in a browser without moveBefore too"}`, async () => {
    const ids = ["1528000000000000001", "1528000000000000003"];
    // Safari has no moveBefore: the host is put back by insertion there.
    const beforeLoad = async (page) => { if (!moveBefore) await page.addInitScript(() => { delete Element.prototype.moveBefore; }); };
    const { page } = await open(ownPage(`/reorder-open-${moveBefore}`, `<main style="max-width: 600px">${ids.map((id, i) => BLOCKQUOTE(id, `id="q${i}"`)).join("")}</main>`), { beforeLoad });
    await waitForHosts(page, 2);
    const host = page.locator(`[data-tweetbuy-host="${ids[0]}"]`);
    await host.locator("button[part=button]").click();
    const sheet = host.locator("dialog[open]:not(.tb-waiting)");
    await sheet.getByRole("button", { name: "Continue" }).click();
    const number = sheet.frameLocator("iframe.tb-card-frame").locator("#number");
    await number.fill("4242 4242 4242 4242");
    // A live list puts the other tweet first: our host goes after its own tweet again.
    await page.evaluate(() => document.querySelector("main").append(document.getElementById("q0")));
    const followed = await page.waitForFunction((id) => document.getElementById("q0").nextElementSibling?.getAttribute("data-tweetbuy-host") === id, ids[0], { timeout: 5_000 }).then(() => true, () => false);
    assert.ok(followed, "the button follows its tweet");
    const modal = await page.evaluate((id) => document.querySelector(`[data-tweetbuy-host="${id}"]`).shadowRoot.querySelector("dialog[open]:not(.tb-waiting)")?.matches(":modal"), ids[0]);
    assert.equal(modal, true, "the sheet is still modal: the page behind stays inert");
    if (moveBefore) assert.equal(await number.inputValue(), "4242 4242 4242 4242", "the card frame was not loaded afresh");
    // Either way the card can be typed (again) and the sheet goes on.
    await number.fill("4242 4242 4242 4242");
    assert.equal(await number.inputValue(), "4242 4242 4242 4242");
    await page.close();
  });
}

test("a blockquote re-rendered by widgets.js keeps exactly one button", async () => {
  const { page } = await open("/");
  await waitForHosts(page, OFFERS.length);
  // What widgets.js does: the blockquote is swapped for a rendered wrapper with an iframe.
  await page.evaluate(() => {
    const quote = document.querySelector('blockquote[data-tweetbuy-attached="1528000000000000001"]');
    const rendered = document.createElement("div");
    rendered.className = "twitter-tweet twitter-tweet-rendered";
    rendered.id = "swapped";
    const iframe = document.createElement("iframe");
    iframe.dataset.tweetId = "1528000000000000001";
    iframe.src = "about:blank";
    rendered.append(iframe);
    quote.replaceWith(rendered);
  });
  await page.waitForTimeout(300);
  const after = await page.evaluate(() => ({
    hosts: document.querySelectorAll('[data-tweetbuy-host="1528000000000000001"]').length,
    attachedTo: document.querySelector("#swapped").dataset.tweetbuyAttached,
    nextIsHost: document.querySelector("#swapped").nextElementSibling.dataset.tweetbuyHost,
  }));
  assert.deepEqual(after, { hosts: 1, attachedTo: "1528000000000000001", nextIsHost: "1528000000000000001" });
  // The page then moves the rendered tweet alone, and a moment later puts a badge right after
  // it: the rendered tweet is no copy, and keeps its one button.
  await page.evaluate(() => new Promise((resolve) => {
    const swapped = document.querySelector("#swapped");
    // In the next frame, before the widget's own work of that frame.
    requestAnimationFrame(() => {
      const badge = document.createElement("p");
      badge.textContent = "Featured";
      swapped.after(badge);
      resolve();
    });
    swapped.parentElement.append(swapped);
  }));
  await page.waitForTimeout(300);
  assert.equal(await page.locator('[data-tweetbuy-host="1528000000000000001"]').count(), 1, "one button for the moved tweet");
  // The other way widgets.js works: a rendered wrapper inserted before the (hidden) blockquote.
  await page.evaluate(() => {
    const quote = document.querySelector('blockquote[data-tweetbuy-attached="1528000000000000003"]');
    const rendered = document.createElement("div");
    rendered.className = "twitter-tweet twitter-tweet-rendered";
    rendered.innerHTML = '<iframe src="about:blank#id=0" data-tweet-id="1528000000000000003"></iframe>';
    quote.before(rendered);
  });
  await page.waitForTimeout(300);
  assert.equal(await page.locator('[data-tweetbuy-host="1528000000000000003"]').count(), 1);
  await page.close();
});

test("a sheet opened before widgets.js renders its tweet tells the page about it on the rendered tweet", async () => {
  const { page } = await open("/");
  await waitForHosts(page, OFFERS.length);
  await page.locator('[data-tweetbuy-host="1528000000000000001"] button[part=button]').click();
  await page.locator('[data-tweetbuy-host="1528000000000000001"] dialog[open]:not(.tb-waiting)').waitFor({ timeout: 20_000 });
  await page.evaluate(() => {
    const quote = document.querySelector('blockquote[data-tweetbuy-attached="1528000000000000001"]');
    const rendered = document.createElement("div");
    rendered.className = "twitter-tweet twitter-tweet-rendered";
    rendered.id = "swapped";
    rendered.innerHTML = '<iframe src="about:blank" data-tweet-id="1528000000000000001"></iframe>';
    quote.replaceWith(rendered);
  });
  await page.waitForTimeout(300);
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => window.__events.some((e) => e.type === "tweetbuy:close"), null, { timeout: 5_000 });
  const events = await page.evaluate(() => window.__events.filter((e) => e.type !== "tweetbuy:ready").map((e) => `${e.type} ${e.target}`));
  assert.deepEqual(events, ["tweetbuy:open BLOCKQUOTE", "tweetbuy:close DIV"], "the page's listener hears the close on the tweet it shows");
  await page.close();
});

test("a Spanish tweet rendered by widgets.js keeps its language: its button, the stand-in and the sheet speak Spanish", async () => {
  const { page } = await open("/");
  await waitForHosts(page, OFFERS.length);
  const host = page.locator('[data-tweetbuy-host="1528000000000000007"]');
  assert.equal(await host.locator("button[part=button]").textContent(), "Comprar entradas");
  // widgets.js's rendered tweet: a wrapper with an iframe, and no data-lang.
  await page.evaluate(() => {
    const quote = document.querySelector('blockquote[data-tweetbuy-attached="1528000000000000007"]');
    const rendered = document.createElement("div");
    rendered.className = "twitter-tweet twitter-tweet-rendered";
    rendered.innerHTML = '<iframe src="about:blank" data-tweet-id="1528000000000000007"></iframe>';
    quote.replaceWith(rendered);
  });
  await page.waitForFunction(() => document.querySelector('[data-tweetbuy-host="1528000000000000007"]').previousElementSibling.matches(".twitter-tweet-rendered[data-tweetbuy-attached]"));
  await host.locator("button[part=button]").click();
  const dialog = host.locator("dialog[open]");
  await dialog.first().waitFor({ timeout: 20_000 });
  assert.equal(await dialog.first().getAttribute("lang"), "es", "the first dialog (the stand-in or the sheet)");
  await host.locator("dialog[open]:not(.tb-waiting)").waitFor({ timeout: 20_000 });
  assert.equal(await host.locator("dialog[open]:not(.tb-waiting)").getAttribute("lang"), "es");
  assert.equal(await host.getByRole("button", { name: "Cerrar" }).count(), 1);
  await page.close();
});

test("embeds added while scrolling get buttons in batches; removed ones release theirs", async () => {
  const { page, lookups } = await open("/infinite");
  await waitForHosts(page, 4);
  for (let i = 0; i < 3; i++) {
    await page.mouse.wheel(0, 4000);
    await page.waitForTimeout(250);
  }
  const pages = Number(await page.evaluate(() => document.body.dataset.pages));
  assert.ok(pages >= 2, `the feed grew (${pages} pages)`);
  await page.waitForFunction((n) => document.querySelectorAll("[data-tweetbuy-host]").length === n, pages * 4, { timeout: 10_000 });
  // Every page repeats the same five tweets: after the first lookup they are all cached.
  assert.equal(lookups.length, 1, `cached after the first lookup: ${lookups.length} lookups`);
  const noOffer = await page.evaluate(() => document.querySelectorAll('blockquote[data-tweetbuy-attached="20"]').length);
  assert.equal(noOffer, 0, "the tweet without an offer stays untouched");
  // Removing embeds removes their buttons and views.
  await page.evaluate(() => {
    for (const item of [...document.querySelectorAll(".feed-item")].slice(0, 5)) item.querySelector("blockquote").remove();
  });
  await page.waitForFunction((n) => document.querySelectorAll("[data-tweetbuy-host]").length === n, (pages - 1) * 4, { timeout: 5_000 });
  await page.close();
});

test("a single-page app's navigation and tweetbuy.scan() attach buttons to the new view", async () => {
  const { page, lookups } = await open("/spa");
  await page.waitForFunction(() => window.tweetbuy);
  await page.click('a[data-route="fashion"]');
  await waitForHosts(page, 2);
  assert.deepEqual((await hosts(page)).sort(), ["1528000000000000002", "1528000000000000004"]);
  await page.click('a[data-route="music"]');
  await page.waitForFunction(() => [...document.querySelectorAll("[data-tweetbuy-host]")].map((h) => h.dataset.tweetbuyHost).join() === "1528000000000000003");
  // No do-not-track here: a random visitor id is kept for stable rollout bucketing.
  const visitor = await page.evaluate(() => localStorage.getItem("tweetbuy.visitor"));
  assert.match(visitor, /^[0-9a-f-]{36}$/);
  assert.ok(lookups.every((u) => new URL(u).searchParams.get("visitor") === visitor));
  // Swapping views twice must not leave buttons behind or attach twice.
  const count = await page.evaluate(() => window.tweetbuy.scan());
  assert.equal(count, 0);
  assert.equal(await page.locator("[data-tweetbuy-host]").count(), 1);
  await page.close();
});

test("an element given another tweet gets that tweet's button; an embed taken out and put back gets its button again; a heading with id=\"tweetbuy\" stops nothing", async () => {
  const [tee, ticket, none] = ["1528000000000000001", "1528000000000000003", "20"];
  const url = ownPage("/kept-alive", `<h2 id="tweetbuy">Tweetbuy</h2><div id="featured" data-tweetbuy-tweet="${tee}">Featured</div><section id="tab">${BLOCKQUOTE(ticket)}</section>`);
  const { page, consoleSeen } = await open(url);
  await waitForHosts(page, 2);
  assert.deepEqual((await hosts(page)).sort(), [tee, ticket]);
  assert.equal(await page.evaluate(() => typeof window.tweetbuy.scan), "function", "the widget's global took the name");
  // A single-page app shows another tweet in the same element: the tee's button goes and
  // the ticket's comes; a tweet with no offer leaves the element without one.
  await page.evaluate((id) => document.getElementById("featured").setAttribute("data-tweetbuy-tweet", id), ticket);
  const featured = () => page.evaluate(() => document.getElementById("featured").nextElementSibling?.dataset?.tweetbuyHost ?? null);
  await page.waitForFunction(() => document.getElementById("featured").nextElementSibling?.dataset?.tweetbuyHost === "1528000000000000003", null, { timeout: 10_000 });
  assert.deepEqual((await hosts(page)).sort(), [ticket, ticket]);
  await page.evaluate((id) => document.getElementById("featured").setAttribute("data-tweetbuy-tweet", id), none);
  await page.waitForFunction(() => document.querySelectorAll("[data-tweetbuy-host]").length === 1, null, { timeout: 10_000 });
  assert.equal(await featured(), null);
  // A kept-alive view: the tab's embed leaves the page, then the same node comes back.
  await page.evaluate(() => { window.keptTab = document.getElementById("tab"); window.keptTab.remove(); });
  await page.waitForFunction(() => document.querySelectorAll("[data-tweetbuy-host]").length === 0, null, { timeout: 5_000 });
  await page.evaluate(() => document.body.append(window.keptTab));
  await waitForHosts(page, 1);
  assert.deepEqual(await hosts(page), [ticket]);
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  await page.close();
});

test("a blockquote the page gives another tweet by its status link gets that tweet's button; one whose link comes later gets its button then", async () => {
  const [tee, ticket] = ["1528000000000000001", "1528000000000000003"];
  const { page, consoleSeen } = await open(ownPage("/relinked", `<section id="one">${BLOCKQUOTE(tee)}</section><section id="two"></section>`));
  await waitForHosts(page, 1);
  // A component that keeps its blockquote and renders another tweet's link into it.
  await page.evaluate((id) => {
    const quote = document.querySelector("#one blockquote");
    quote.querySelector("a").remove();
    const link = document.createElement("a");
    link.href = `https://twitter.com/someone/status/${id}`;
    link.textContent = "May 2";
    quote.append(link);
  }, ticket);
  await page.waitForFunction((id) => document.querySelector("#one blockquote").nextElementSibling?.dataset?.tweetbuyHost === id, ticket, { timeout: 10_000 });
  assert.deepEqual(await hosts(page), [ticket], "the tee's button went with its link");
  // A blockquote found before its link: it gets its button once the link is in.
  await page.evaluate(() => {
    document.getElementById("two").innerHTML = '<blockquote class="twitter-tweet"><p>A tweet.</p></blockquote>';
  });
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.evaluate((id) => {
    const link = document.createElement("a");
    link.href = `https://twitter.com/someone/status/${id}`;
    document.querySelector("#two blockquote").append(link);
  }, tee);
  await page.waitForFunction((id) => document.querySelector("#two blockquote").nextElementSibling?.dataset?.tweetbuyHost === id, tee, { timeout: 10_000 });
  assert.deepEqual((await hosts(page)).sort(), [tee, ticket]);
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  await page.close();
});

const [TEE_ID, TICKET_ID] = ["1528000000000000001", "1528000000000000003"];

/// Opens a page with one element showing the tee whose first lookup (the loader's own) is
/// held until `release()`; every later one goes straight through. Resolves once it is held.
async function openWithFirstLookupHeld(path) {
  const url = ownPage(path, `<div id="featured" data-tweetbuy-tweet="${TEE_ID}">Featured</div>`);
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let heldSeen;
  const seenHeld = new Promise((resolve) => { heldSeen = resolve; });
  let first = true;
  const opened = await open(url, {
    beforeLoad: (page) => page.route("**/api/v1/offers**", async (route) => {
      if (!first) return route.continue();
      first = false;
      heldSeen();
      await held;
      await route.continue();
    }),
  });
  await seenHeld;
  const { page, lookups } = opened;
  const show = (id) => page.evaluate((id) => document.getElementById("featured").setAttribute("data-tweetbuy-tweet", id), id);
  // Waits (up to 5 s, without failing) for the page to have sent `n` lookups.
  const lookedUp = async (n) => {
    for (let waited = 0; lookups.length < n && waited < 5_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  return { ...opened, release, show, lookedUp };
}

test("an element given another tweet while its lookup is on its way gets the new tweet's button, not the old one's", async () => {
  const { page, consoleSeen, lookups, release, show, lookedUp } = await openWithFirstLookupHeld("/in-flight");
  assert.match(lookups[0], new RegExp(TEE_ID), "the held lookup asks for the tee");
  await show(TICKET_ID);
  // The element is looked up again for its new tweet; then the old answer arrives.
  await lookedUp(2);
  await page.waitForTimeout(300);
  release();
  await page.waitForFunction(() => document.querySelectorAll("[data-tweetbuy-host]").length > 0, null, { timeout: 10_000 });
  // Time for a second (wrong) button to come, had both scans built one.
  await page.waitForTimeout(500);
  assert.deepEqual(await hosts(page), [TICKET_ID], "one button, the ticket's");
  assert.equal(await page.evaluate(() => document.getElementById("featured").nextElementSibling?.dataset?.tweetbuyHost), TICKET_ID);
  assert.ok(lookups.some((u) => u.includes(TICKET_ID)), `the ticket was looked up: ${lookups}`);
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  await page.close();
});

test("an element given another tweet and then its first again while that is looked up gets one button, the first tweet's", async () => {
  const { page, consoleSeen, release, show, lookedUp } = await openWithFirstLookupHeld("/in-flight-back");
  await show(TICKET_ID);
  await lookedUp(2);
  await page.waitForFunction(() => document.querySelectorAll("[data-tweetbuy-host]").length > 0, null, { timeout: 10_000 });
  await show(TEE_ID);
  await lookedUp(3);
  await page.waitForTimeout(300);
  release();
  await page.waitForFunction((tee) => document.getElementById("featured").nextElementSibling?.dataset?.tweetbuyHost === tee, TEE_ID, { timeout: 10_000 });
  await page.waitForTimeout(500);
  assert.deepEqual(await hosts(page), [TEE_ID], "one button, the tee's");
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  await page.close();
});

test("a copy the page makes of an embed while its offer is looked up, before its button exists, gets a button of its own", async () => {
  const { page, consoleSeen, release, lookedUp } = await openWithFirstLookupHeld("/copied-early");
  // A carousel starting up: it copies the element the widget has already marked.
  await page.waitForFunction(() => document.getElementById("featured").hasAttribute("data-tweetbuy-attached"), null, { timeout: 10_000 });
  await page.evaluate(() => {
    const copy = document.getElementById("featured").cloneNode(true);
    copy.id = "copy";
    document.body.append(copy);
  });
  await lookedUp(2);
  release();
  await waitForHosts(page, 2);
  await page.waitForTimeout(300);
  const after = await page.evaluate(() => ["featured", "copy"].map((id) => document.getElementById(id).nextElementSibling?.dataset?.tweetbuyHost ?? null));
  assert.deepEqual(after, [TEE_ID, TEE_ID], "a button after the original and after the copy");
  assert.deepEqual(await hosts(page), [TEE_ID, TEE_ID]);
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  await page.close();
});

test("a copy the page makes of an embed with its button (a carousel's cloned slides) gets a working button of its own", async () => {
  const tee = "1528000000000000001";
  const url = ownPage("/carousel", `<div id="track" style="max-width: 600px"><div class="slide">${BLOCKQUOTE(tee)}</div></div>`);
  const { page, consoleSeen } = await open(url);
  await waitForHosts(page, 1);
  // As a carousel does for its endless loop: copies of the slide after and before it.
  await page.evaluate(() => {
    const track = document.getElementById("track");
    const slide = track.querySelector(".slide");
    track.append(slide.cloneNode(true));
    track.prepend(slide.cloneNode(true));
  });
  await waitForHosts(page, 3);
  await page.waitForTimeout(300);
  const perSlide = await page.evaluate(() => [...document.querySelectorAll("#track > .slide")].map((slide) => slide.querySelectorAll("[data-tweetbuy-host]").length));
  assert.deepEqual(perSlide, [1, 1, 1], "one button in each slide");
  const copy = page.locator("#track > .slide").nth(2);
  await copy.locator("button[part=button]").click();
  await copy.locator("dialog[open]").first().waitFor({ timeout: 20_000 });
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  await page.close();
});

test("copies of each child of a flex track (an embed, then its button) get a working button, and the original's stays at the original", async () => {
  const tee = "1528000000000000001";
  const url = ownPage("/flat-track", `<div id="flat" style="display: flex; flex-direction: column; max-width: 600px">${BLOCKQUOTE(tee)}</div>`);
  const { page, consoleSeen } = await open(url);
  await waitForHosts(page, 1);
  // A carousel that copies the track's children one by one, for its endless loop.
  await page.evaluate(() => {
    const flat = document.getElementById("flat");
    for (const child of [...flat.children]) flat.append(child.cloneNode(true));
  });
  await waitForHosts(page, 2);
  await page.waitForTimeout(300);
  const layout = await page.evaluate(() => [...document.getElementById("flat").children].map((el) => ({
    tag: el.localName, top: Math.round(el.getBoundingClientRect().top), bottom: Math.round(el.getBoundingClientRect().bottom),
  })));
  assert.deepEqual(layout.map((el) => el.tag), ["blockquote", "tweetbuy-button", "blockquote", "tweetbuy-button"], "each embed followed by one button");
  // Each button sits right under its own embed (the copy took over no anchor name).
  for (const i of [1, 3]) assert.ok(Math.abs(layout[i].top - layout[i - 1].bottom) <= 2, `button ${i} at ${layout[i].top}, its embed ends at ${layout[i - 1].bottom}`);
  const copy = page.locator("#flat > tweetbuy-button").nth(1);
  await copy.locator("button[part=button]").click();
  await copy.locator("dialog[open]").first().waitFor({ timeout: 20_000 });
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  await page.close();
});

test("a copy of the loader served under another name still reads its tag's options: data-api and do-not-track", async () => {
  ownPages.set("/copied", `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>${BLOCKQUOTE("1528000000000000001")}` +
    `<script type="module" async src="/js/tb.min.js" data-api="${env.server.origins.api}" data-dnt="true"></script></body></html>`);
  const { page, lookups } = await open(`${OWN_ORIGIN}/copied`);
  await waitForHosts(page, 1);
  assert.ok(lookups.length > 0 && lookups.every((u) => u.startsWith(`${env.server.origins.api}/api/v1/offers`)), `looked up at data-api: ${lookups}`);
  assert.ok(lookups.every((u) => !new URL(u).searchParams.has("visitor")), "do-not-track: no visitor id");
  assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing kept in the page's storage");
  await page.close();
});

test("a loader whose tag redirects to it asks the api it came from and keeps no visitor id (the tag's data-dnt unread)", async () => {
  ownPages.set("/redirected", `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>${BLOCKQUOTE("1528000000000000001")}` +
    `<script type="module" async src="/go/tb.js" data-dnt="true"></script></body></html>`);
  const { page, lookups } = await open(`${OWN_ORIGIN}/redirected`);
  await waitForHosts(page, 1);
  assert.ok(lookups.length > 0 && lookups.every((u) => u.startsWith(`${env.server.origins.api}/api/v1/offers`)), `looked up at the api: ${lookups}`);
  assert.ok(lookups.every((u) => !new URL(u).searchParams.has("visitor")), "no visitor id");
  assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing kept in the page's storage");
  await page.close();
});

test("on a page without crypto.randomUUID (plain http), buttons still come and the visitor id is random hex", async () => {
  const page = await env.browser.newPage();
  // Browsers give `randomUUID` to secure contexts only (https, localhost), and the test
  // server is on localhost: take it away, as a publisher page on plain http has it.
  await page.addInitScript(() => {
    delete Crypto.prototype.randomUUID;
  });
  const lookups = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/v1/offers")) lookups.push(r.url());
  });
  await page.goto(`${env.server.origins.publisher}/spa`);
  await page.click('a[data-route="fashion"]');
  await waitForHosts(page, 2);
  const visitor = await page.evaluate(() => localStorage.getItem("tweetbuy.visitor"));
  assert.match(visitor, /^[0-9a-f]{32}$/, "getRandomValues, in hex");
  assert.ok(lookups.length > 0 && lookups.every((u) => new URL(u).searchParams.get("visitor") === visitor));
  await page.close();
});

test("the page's hostile CSS cannot break the button", async () => {
  const { page } = await open("/hostile-css");
  await waitForHosts(page, 1);
  const look = await page.evaluate(() => {
    const button = document.querySelector("[data-tweetbuy-host]").shadowRoot.querySelector("button[part=button]");
    const style = getComputedStyle(button);
    const box = button.getBoundingClientRect();
    // The page's rules for its divs (padding, a border) do not reach the button's own host.
    const host = getComputedStyle(document.querySelector("[data-tweetbuy-host]"));
    return { display: style.display, fontSize: style.fontSize, boxSizing: style.boxSizing, height: box.height, width: box.width, text: button.textContent,
      host: `${host.paddingTop} ${host.borderTopWidth}` };
  });
  assert.equal(look.host, "0px 0px", "the host took the page's div rules");
  assert.notEqual(look.display, "none");
  assert.equal(look.fontSize, "16px");
  assert.equal(look.boxSizing, "border-box");
  assert.ok(look.height >= 44 && look.width >= 44, JSON.stringify(look));
  assert.equal(look.text, "Buy · $30.00");
  await page.screenshot({ path: join(ARTIFACTS, "hostile-css.png") });
  await page.locator("button[part=button]").click();
  await page.getByRole("dialog").waitFor();
  await page.close();
});

test("the strict-CSP page works with no console error or CSP violation", async () => {
  const page = await env.browser.newPage();
  const consoleSeen = watchConsole(page);
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const response = await page.goto(`${env.server.origins.publisher}/strict-csp`);
  assert.match(response.headers()["content-security-policy"], /default-src 'self'/);
  await waitForHosts(page, 2);
  await page.locator('[data-tweetbuy-host="1528000000000000001"] button[part=button]').click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.frameLocator("iframe.tb-card-frame").locator("#number").waitFor();
  await page.waitForTimeout(300);
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(consoleSeen.filter((m) => m.type === "error" || m.type === "pageerror"), []);
  await page.close();
});

test("with the api unreachable the page shows no button, throws nothing, and warns once", async () => {
  const page = await env.browser.newPage();
  const consoleSeen = watchConsole(page);
  await page.route("**/api/v1/offers**", (route) => route.abort("connectionrefused"));
  await page.goto(`${env.server.origins.publisher}/`);
  await page.waitForFunction(() => window.tweetbuy);
  // The lookup is retried a few times (a few seconds in all) before the widget gives up.
  const deadline = Date.now() + 15_000;
  while (!consoleSeen.some((m) => m.type === "warning" && m.text.startsWith("tweetbuy:")) && Date.now() < deadline) {
    await page.waitForTimeout(100);
  }
  await page.waitForTimeout(300);
  assert.equal(await page.locator("[data-tweetbuy-host]").count(), 0);
  assert.equal(await page.locator("[data-tweetbuy-attached]").count(), 0);
  const warnings = consoleSeen.filter((m) => m.type === "warning" && m.text.startsWith("tweetbuy:"));
  assert.equal(warnings.length, 1, JSON.stringify(consoleSeen));
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror"), []);
  await page.close();
});

test("a lookup answered 503 goes again after a short wait, and the buttons come from the second answer", async () => {
  let refused = 0;
  const { page, lookups, consoleSeen } = await open("/", {
    beforeLoad: (p) =>
      p.route("**/api/v1/offers**", (route) => (refused++ === 0 ? route.fulfill({ status: 503, body: "busy" }) : route.continue())),
  });
  await waitForHosts(page, OFFERS.length);
  assert.deepEqual((await hosts(page)).sort(), [...OFFERS].sort());
  assert.equal(lookups.length, 2, `the loader's lookup, then one more: ${lookups.join(" ")}`);
  assert.equal(lookups[1], lookups[0], "the same URL again");
  assert.deepEqual(consoleSeen.filter((m) => m.type === "warning" || m.type === "pageerror"), []);
  await page.close();
});

test("a lookup the api never answers is given up after the module's deadline and asked again", async () => {
  // The loader's lookup goes out before the module exists to give it a deadline; the kit
  // gives it the module's (10 s) once the module asks.
  let seen = 0;
  const held = {};
  const { page, lookups, consoleSeen } = await open("/", {
    beforeLoad: async (p) => {
      await holdModuleForLookup(p, held);
      await p.route("**/api/v1/offers**", (route) => (seen++ === 0 ? undefined : route.continue()));
    },
  });
  await waitForHosts(page, OFFERS.length);
  assert.equal(held.early, true, "the unanswered lookup was the loader's");
  assert.deepEqual((await hosts(page)).sort(), [...OFFERS].sort());
  assert.equal(lookups.length, 2, `the loader's lookup, unanswered, then one more: ${lookups.join(" ")}`);
  assert.equal(lookups[1], lookups[0], "the same URL again");
  assert.deepEqual(consoleSeen.filter((m) => m.type === "warning" || m.type === "pageerror"), []);
  await page.close();
});

test("both modules start when a proxy serves their wasm under another type than application/wasm", async () => {
  const relabelled = [];
  const { page, consoleSeen } = await open("/", {
    beforeLoad: (p) =>
      p.route(/\/tweetbuy\/tweetbuy-[^/]*_bg\.wasm/, async (route) => {
        const response = await route.fetch();
        relabelled.push(new URL(route.request().url()).pathname);
        await route.fulfill({ response, headers: { ...response.headers(), "content-type": "application/octet-stream" } });
      }),
  });
  await waitForHosts(page, OFFERS.length);
  const tee = page.locator('[data-tweetbuy-host="1528000000000000001"] button[part=button]');
  await tee.click();
  await page.locator("dialog[open]:not(.tb-waiting)").getByRole("button", { name: "Continue" }).waitFor();
  assert.equal(relabelled.length, 2, `the button module's wasm and the checkout module's: ${relabelled.join(" ")}`);
  assert.deepEqual(consoleSeen.filter((m) => m.type === "pageerror" || m.text.startsWith("tweetbuy:")), []);
  await page.close();
});

test("events tell the publisher about open, checkout, order, close and errors, with no personal data", async () => {
  const { page } = await open("/");
  const tee = page.locator('[data-tweetbuy-host="1528000000000000001"] button[part=button]');
  await tee.waitFor();
  await tee.click();
  await page.getByRole("dialog").waitFor();
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => window.__events.some((e) => e.type === "tweetbuy:close"));
  await tee.click();
  await fillTeeCheckout(page, "4000 0000 0000 0002");
  const frame = payFrame(page);
  await pressPay(page, "1528000000000000001");
  await page.waitForFunction(() => window.__events.some((e) => e.type === "tweetbuy:error"), null, { timeout: 20_000 });
  await frame.locator("#number").fill("4242 4242 4242 4242");
  await pressPay(page, "1528000000000000001");
  await page.locator("[data-order-number]").waitFor({ timeout: 20_000 });
  const events = await page.evaluate(() => window.__events.filter((e) => e.detail.tweetId === "1528000000000000001"));
  const types = events.map((e) => e.type);
  for (const t of ["tweetbuy:ready", "tweetbuy:open", "tweetbuy:close", "tweetbuy:checkout", "tweetbuy:error", "tweetbuy:order"]) {
    assert.ok(types.includes(t), `${t} in ${types.join(", ")}`);
  }
  // The clicks inside the sheet, in the button's own shadow root, are not the button's.
  assert.equal(types.filter((t) => t === "tweetbuy:open").length, 2, `two opens, one per click on the button: ${types.join(", ")}`);
  for (const e of events) {
    assert.ok(e.bubbles && e.composed, `${e.type} bubbles out of the shadow root`);
    assert.equal(e.target, "BLOCKQUOTE", `${e.type} is dispatched on the embed`);
    assert.equal(e.detail.productId, "red-tee");
    const text = JSON.stringify(e.detail);
    for (const secret of ["jane@example.com", "Jane Doe", "1 Main St", "10001", "4242", "4000"]) {
      assert.ok(!text.includes(secret), `${e.type} carries ${secret}`);
    }
  }
  const error = events.find((e) => e.type === "tweetbuy:error").detail;
  assert.equal(error.code, "payment_declined");
  assert.ok(error.message.length > 0);
  const order = events.find((e) => e.type === "tweetbuy:order").detail;
  assert.match(order.orderId, /\S/);
  assert.equal(order.currency, "USD");
  assert.ok(order.amount > 30 && order.amount < 50, `amount ${order.amount}`);
  await page.close();
});
