// Fault tolerance from the visitor's side: the network fails at the worst moments and the
// visitor is never charged twice, never loses an order that went through, and always sees
// what state the purchase is in. Pay and its messages live in the vault's payment frame. Faults are injected in the browser with page.route.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { useServerAndBrowser, sql, fillTeeCheckout, fillTeeDetails, pressPay, payFrame, CARDS } from "./harness.mjs";

const TEE = "1528000000000000001";
const SCARF = "1528000000000000002";

const env = useServerAndBrowser();

const charges = () => sql(join(env.server.dataDir, "vault.db"), "SELECT count(*) FROM charges WHERE status = 'approved'")[0][0];
const paidOrders = () => sql(join(env.server.dataDir, "api.db"), "SELECT count(*) FROM orders WHERE status = 'paid'")[0][0];
const inHost = (selector) => `[data-tweetbuy-host="${TEE}"] ${selector}`;

async function checkoutTee(page, card = CARDS.visa) {
  await page.goto(`${env.server.origins.publisher}/`);
  await page.locator(inHost("button[part=button]")).click();
  await fillTeeCheckout(page, card);
}

/** Presses Pay inside the open sheet's payment frame once it shows the amount. */
const payWhenReady = (page) => pressPay(page, TEE);

/** What the payment frame tells the visitor beside Pay. */
const failureText = async (page) => (await payFrame(page).locator("#status").textContent()) || "";

test("the order's answer is lost after the server charged: the retry gets the first outcome, one charge", async () => {
  const page = await env.browser.newPage();
  const [chargesBefore, paidBefore] = [charges(), paidOrders()];
  const keys = [];
  let dropped = false;
  await page.route("**/api/v1/orders", async (route) => {
    keys.push(route.request().headers()["idempotency-key"]);
    if (!dropped) {
      dropped = true;
      // The request reaches the server and is charged; the visitor's connection drops
      // before the answer arrives.
      await route.fetch();
      await route.abort("connectionreset");
      return;
    }
    await route.continue();
  });
  await checkoutTee(page);
  await payWhenReady(page);
  const number = page.locator("[data-order-number]");
  await number.waitFor({ timeout: 30_000 });
  assert.match((await number.textContent()).trim(), /^TB-/);
  assert.ok(keys.length >= 2, `the order was retried (${keys.length} tries)`);
  assert.equal(new Set(keys).size, 1, "every try carries the same Idempotency-Key");
  assert.equal(charges() - chargesBefore, 1, "exactly one charge");
  assert.equal(paidOrders() - paidBefore, 1, "exactly one paid order");
  await page.close();
});

test("a 500 on the quote is shown in place, and no charge is possible from a broken total", async () => {
  const page = await env.browser.newPage();
  const chargesBefore = charges();
  await page.route("**/api/v1/quote", (route) =>
    route.fulfill({ status: 500, contentType: "application/json", body: JSON.stringify({ code: "internal", message: "Something went wrong on our side." }) }));
  await checkoutTee(page);
  await page.waitForFunction((host) => document.querySelector(host)?.shadowRoot?.querySelector(".tb-checkout .tb-error:not(:empty), .tb-summary-error, [data-quote-error]"), `[data-tweetbuy-host="${TEE}"]`, { timeout: 15_000 });
  const shown = await page.evaluate((host) => [...document.querySelector(host).shadowRoot.querySelectorAll(".tb-error")].map((e) => e.textContent).join(" "), `[data-tweetbuy-host="${TEE}"]`);
  assert.ok(shown.trim().length > 0, "the visitor sees a message about the total");
  // What was typed is kept.
  assert.equal(await page.locator("#tb-email").inputValue(), "jane@example.com");
  assert.equal(charges(), chargesBefore, "nothing charged");
  await page.close();
});

test("the total gets no answer: the summary says so, and shows the total once the api answers again, with nothing changed", async () => {
  const page = await env.browser.newPage();
  let down = true;
  await page.route("**/api/v1/quote", (route) => (down ? route.abort("internetdisconnected") : route.continue()));
  await checkoutTee(page);
  const summary = page.locator(inHost(".tb-order-summary"));
  const unreachable = page.locator(inHost(".tb-checkout .tb-error"), { hasText: /could not reach the store to work out the total/ });
  await unreachable.waitFor({ timeout: 20_000 });
  down = false;
  await summary.waitFor({ timeout: 15_000 });
  assert.match(await summary.textContent(), /Total\s*\$37\.66/);
  assert.equal(await unreachable.count(), 0, "the failure is gone");
  await page.close();
});

test("the price check gets no answer: the frame says so, asks again by itself, and Pay works once the api is back", async () => {
  const page = await env.browser.newPage();
  const [chargesBefore, paidBefore] = [charges(), paidOrders()];
  let blocked = true;
  let tries = 0;
  await page.route("**/api/v1/intents", (route) => {
    tries += 1;
    return blocked ? route.abort("internetdisconnected") : route.continue();
  });
  await checkoutTee(page);
  await payFrame(page).locator("#status.error").waitFor({ timeout: 15_000 });
  assert.match(await failureText(page), /connection|reach/i);
  assert.equal(await payFrame(page).locator("#pay").getAttribute("aria-disabled"), "true");
  // Nothing changes in the form: the frame asks again on its own.
  const before = tries;
  blocked = false;
  await payWhenReady(page);
  assert.ok(tries > before, `asked again (${tries} tries)`);
  await page.locator("[data-order-number]").waitFor({ timeout: 30_000 });
  assert.equal(charges() - chargesBefore, 1);
  assert.equal(paidOrders() - paidBefore, 1);
  await page.close();
});

test("the card form cannot load: the sheet says so, loads it again by itself, and the purchase goes through", async () => {
  const page = await env.browser.newPage();
  const [chargesBefore, paidBefore] = [charges(), paidOrders()];
  let blocked = true;
  await page.route(`${env.server.origins.vault}/frame?**`, (route) => (blocked ? route.abort("connectionrefused") : route.continue()));
  await page.goto(`${env.server.origins.publisher}/`);
  await page.locator(inHost("button[part=button]")).click();
  await page.locator(inHost(".tb-variant"), { hasText: /^M/ }).click();
  await page.locator(inHost(".tb-primary")).click();
  // Said under the frame, as an alert.
  await page.locator(inHost(".tb-frame-failed[role=alert]"), { hasText: /card form could not load/ }).waitFor({ timeout: 15_000 });
  blocked = false;
  // Loaded again a few seconds later, with nothing for the buyer to do; the message goes.
  await page.waitForFunction((s) => document.querySelector(s.split(" ")[0]).shadowRoot.querySelector(".tb-frame-failed")?.textContent === "",
    inHost(".tb-frame-failed"), { timeout: 30_000 });
  await fillTeeDetails(page, CARDS.visa);
  await payWhenReady(page);
  await page.locator("[data-order-number]").waitFor({ timeout: 30_000 });
  assert.equal(charges() - chargesBefore, 1);
  assert.equal(paidOrders() - paidBefore, 1);
  await page.close();
});

test("the card form's request hangs: the sheet says so after 30 s, asks for it again, and the form comes", async () => {
  const page = await env.browser.newPage();
  // The first request for the card frame gets no answer at all (no error page loads either);
  // the rest go through, 2 s late, so that the message is up long enough to be seen.
  const held = [];
  let asked = 0;
  let heldAt = 0;
  await page.goto(`${env.server.origins.publisher}/`);
  await page.locator(inHost("button[part=button]")).click();
  await page.locator(inHost(".tb-variant"), { hasText: /^M/ }).click();
  // Both frames are one page at one address: once the product step's saved-info frame has
  // loaded, a request for it is the card frame's.
  const saved = await (await page.waitForSelector("iframe.tb-saved-frame", { state: "attached" })).contentFrame();
  await saved.waitForLoadState("load");
  await page.route((url) => url.pathname === "/frame", (route) => {
    asked += 1;
    if (held.length > 0) return setTimeout(() => route.continue(), 2_000);
    heldAt = Date.now();
    held.push(route);
  });
  await page.locator(inHost(".tb-primary")).click();
  await page.locator(inHost(".tb-frame-failed[role=alert]"), { hasText: /card form could not load/ }).waitFor({ timeout: 45_000 });
  // Only after the long wait: a request that may still answer is not given up on early.
  const waited = Date.now() - heldAt;
  assert.ok(heldAt > 0 && waited >= 25_000, `said after ${waited} ms`);
  await page.waitForFunction((s) => document.querySelector(s.split(" ")[0]).shadowRoot.querySelector(".tb-frame-failed")?.textContent === "",
    inHost(".tb-frame-failed"), { timeout: 30_000 });
  assert.equal(asked, 2, "asked for once more, not again and again");
  await payFrame(page).locator("#number").waitFor();
  await held[0].abort().catch(() => {});
  await page.close();
});

test("the network drops while the card is tokenized: a clear message, no charge, and a retry works once", async () => {
  const page = await env.browser.newPage();
  const [chargesBefore, paidBefore] = [charges(), paidOrders()];
  let blocked = true;
  await page.route("**/v1/tokens", (route) => (blocked ? route.abort("internetdisconnected") : route.continue()));
  await checkoutTee(page);
  await payWhenReady(page);
  await payFrame(page).locator("#status.error").waitFor({ timeout: 30_000 });
  assert.match(await failureText(page), /connection|conexión|reach|again/i);
  assert.equal(charges(), chargesBefore, "no charge while tokenization failed");
  assert.equal(await page.locator("#tb-postal_code").inputValue(), "10001", "what was typed is kept");
  blocked = false;
  await payWhenReady(page);
  await page.locator("[data-order-number]").waitFor({ timeout: 30_000 });
  assert.equal(charges() - chargesBefore, 1);
  assert.equal(paidOrders() - paidBefore, 1);
  await page.close();
});

test("the api says the payment service was out of reach (nothing charged): said at once, not asked again for 15 s, and Pay again works", async () => {
  const page = await env.browser.newPage();
  const [chargesBefore, paidBefore] = [charges(), paidOrders()];
  let outage = true;
  let asked = 0;
  await page.route("**/api/v1/orders", (route) => {
    if (!outage) return route.continue();
    asked += 1;
    return route.fulfill({
      status: 502,
      contentType: "application/json",
      body: JSON.stringify({ code: "payment_error", message: "We could not reach the payment service. You have not been charged. Please try again." }),
    });
  });
  await checkoutTee(page);
  await payWhenReady(page);
  await payFrame(page).locator("#status.error").waitFor({ timeout: 10_000 });
  assert.match(await failureText(page), /could not reach the payment service/);
  await page.waitForTimeout(1500);
  assert.equal(asked, 1, "a final answer is not asked again");
  assert.equal(charges(), chargesBefore);
  outage = false;
  await payWhenReady(page);
  await page.locator("[data-order-number]").waitFor({ timeout: 30_000 });
  assert.equal(charges() - chargesBefore, 1);
  assert.equal(paidOrders() - paidBefore, 1);
  await page.close();
});

test("a longer outage after the charge: 'checking your order…', then the first outcome, one charge", async () => {
  const page = await env.browser.newPage();
  const [chargesBefore, paidBefore] = [charges(), paidOrders()];
  const keys = [];
  let outageUntil = 0;
  await page.route("**/api/v1/orders", async (route) => {
    keys.push(route.request().headers()["idempotency-key"]);
    if (keys.length === 1) {
      await route.fetch(); // charged on the server...
      outageUntil = Date.now() + 6_000; // ...and the connection stays down for 6 s
      await route.abort("internetdisconnected");
      return;
    }
    if (Date.now() < outageUntil) {
      await route.abort("internetdisconnected");
      return;
    }
    await route.continue();
  });
  await checkoutTee(page);
  await payWhenReady(page);
  await payFrame(page).locator("#pay", { hasText: "Checking your order" }).waitFor({ timeout: 15_000 });
  await page.locator("[data-order-number]").waitFor({ timeout: 30_000 });
  assert.ok(keys.length >= 3, `asked again during the outage (${keys.length} tries)`);
  assert.equal(new Set(keys).size, 1, "the same key every time");
  assert.equal(charges() - chargesBefore, 1, "exactly one charge");
  assert.equal(paidOrders() - paidBefore, 1);
  await page.close();
});

/** The first order request is charged on the server and its answer lost; every later try
 *  fails too while `down` is true. Counts the keys sent and the cards tokenized. */
async function loseOrderAnswers(page) {
  const seen = { keys: [], tokenizations: 0, down: true };
  page.on("request", (r) => {
    if (/\/v1\/tokens$/.test(new URL(r.url()).pathname) && r.method() === "POST") seen.tokenizations += 1;
  });
  await page.route("**/api/v1/orders", async (route) => {
    seen.keys.push(route.request().headers()["idempotency-key"]);
    if (seen.keys.length === 1) {
      await route.fetch(); // charged on the server, and then the answer is lost...
      await route.abort("internetdisconnected");
      return;
    }
    if (seen.down) return route.abort("internetdisconnected"); // ...for longer than the widget keeps asking
    await route.continue();
  });
  return seen;
}

/** Waits until the frame gives up asking and tells the visitor the store cannot be reached. */
const waitForFailure = (page) => payFrame(page).locator("#status.error").waitFor({ timeout: 40_000 });

/** An outage longer than the check window; then the connection is back and the visitor
 *  presses Pay again, which must ask about the first order with its key, never pay twice. */
async function payAgainAfterLongOutage(page, inCheckout = async () => {}) {
  const [chargesBefore, paidBefore] = [charges(), paidOrders()];
  const seen = await loseOrderAnswers(page);
  await checkoutTee(page);
  await inCheckout();
  await payWhenReady(page);
  // After the check window the visitor is told the store cannot be reached; what they typed stays.
  await waitForFailure(page);
  const message = await failureText(page);
  assert.match(message, /connect|reach|network|internet/i, message);
  assert.equal(await page.locator("#tb-email").inputValue(), "jane@example.com", "what was typed is kept");
  assert.equal(paidOrders() - paidBefore, 1, "the first order did go through on the server");
  // The connection is back and the visitor presses Pay again.
  seen.down = false;
  await payWhenReady(page);
  await page.locator("[data-order-number]").waitFor({ timeout: 30_000 });
  assert.equal(new Set(seen.keys).size, 1, `one key for every try, the second Pay included (${seen.keys.length} tries)`);
  assert.equal(seen.tokenizations, 1, "the card was not tokenized again");
  assert.equal(charges() - chargesBefore, 1, "exactly one charge");
  assert.equal(paidOrders() - paidBefore, 1, "exactly one order");
}

test("an outage longer than the check window: Pay again asks about the first order with its key, never pays twice", async () => {
  const page = await env.browser.newPage();
  await payAgainAfterLongOutage(page);
  await page.close();
});

test("the same where the browser keeps the payment frame from its storage: the frame remembers the first order itself", async () => {
  const page = await env.browser.newPage();
  await page.addInitScript((vault) => {
    if (location.origin !== vault) return;
    for (const area of ["sessionStorage", "localStorage"]) {
      Object.defineProperty(window, area, { configurable: true, get: () => { throw new DOMException("blocked", "SecurityError"); } });
    }
  }, env.server.origins.vault);
  await payAgainAfterLongOutage(page, async () => {
    const frame = page.frames().find((f) => f.url().startsWith(env.server.origins.vault) && f.name() === "tweetbuy-card");
    const blocked = await frame.evaluate(() => { try { sessionStorage.length; return false; } catch { return true; } });
    assert.ok(blocked, "the frame's storage is blocked");
  });
  await page.close();
});

test("on Save-Data the checkout module loads only when a visitor is about to buy; if it cannot load, the button says so and the next click works", async () => {
  const page = await env.browser.newPage();
  const fetched = [];
  page.on("request", (r) => { if (/tweetbuy-checkout-/.test(r.url())) fetched.push(r.url()); });
  let blocked = true;
  await page.route(/tweetbuy-checkout-/, (route) => (blocked ? route.abort("internetdisconnected") : route.continue()));
  await page.addInitScript(() => {
    window.__errors = [];
    document.addEventListener("tweetbuy:error", (e) => window.__errors.push(e.detail));
    // Save-Data: the widget prefetches nothing (phone.test.mjs covers the prefetch).
    Object.defineProperty(navigator, "connection", { value: { saveData: true } });
  });
  await page.goto(`${env.server.origins.publisher}/`);
  const button = page.locator(inHost("button[part=button]"));
  await button.waitFor();
  await page.waitForTimeout(500);
  assert.equal(fetched.length, 0, "on Save-Data nothing of the checkout loads before a visitor points at a button");

  await button.click();
  const note = page.locator(inHost(".tb-load-error"));
  await note.waitFor();
  assert.match(await note.textContent(), /Checkout could not load\. Check your connection and try again\./);
  assert.equal(await note.getAttribute("role"), "alert");
  assert.equal(await button.getAttribute("aria-expanded"), "false");
  assert.equal(await page.locator("dialog[open]").count(), 0, "no sheet opened");
  const errors = await page.evaluate(() => window.__errors);
  assert.deepEqual(errors.map((e) => [e.code, e.tweetId]), [["checkout_unavailable", TEE]], JSON.stringify(errors));

  blocked = false;
  await button.click();
  await page.locator("dialog[open]:not(.tb-waiting)").waitFor();
  assert.equal(await note.count(), 0, "the note is gone once the sheet opens");
  assert.equal(await button.getAttribute("aria-expanded"), "true");
  await page.close();
});

test("the same tweet embedded twice: an unsettled order from one sheet is settled, not paid again, from the other", async () => {
  const page = await env.browser.newPage();
  const [chargesBefore, paidBefore] = [charges(), paidOrders()];
  const seen = await loseOrderAnswers(page);
  await page.goto(`${env.server.origins.publisher}/`);
  const buttons = page.locator(inHost("button[part=button]"));
  await buttons.first().waitFor();
  await page.evaluate((tee) => {
    const again = document.createElement("blockquote");
    again.className = "twitter-tweet";
    again.innerHTML = `<p>The tee again, further down.</p>&mdash; (RED) <a href="https://twitter.com/RED/status/${tee}">September 8, 2014</a>`;
    document.querySelector("main").append(again);
  }, TEE);
  await page.waitForFunction((tee) => document.querySelectorAll(`[data-tweetbuy-host="${tee}"]`).length === 2, TEE);

  await buttons.nth(0).click();
  await fillTeeCheckout(page, CARDS.visa);
  await payWhenReady(page);
  await waitForFailure(page);
  await page.keyboard.press("Escape");
  await page.locator("dialog[open]:not(.tb-waiting)").waitFor({ state: "detached" });

  seen.down = false;
  await buttons.nth(1).click();
  await fillTeeCheckout(page, CARDS.visa);
  await payWhenReady(page);
  await page.locator("[data-order-number]").waitFor({ timeout: 30_000 });
  assert.equal(new Set(seen.keys).size, 1, `one key across both sheets (${seen.keys.length} tries)`);
  assert.equal(seen.tokenizations, 1, "the second sheet did not tokenize a card for a new order");
  assert.equal(charges() - chargesBefore, 1, "exactly one charge");
  assert.equal(paidOrders() - paidBefore, 1, "exactly one order");
  await page.close();
});

test("another product bought while an order's answer is lost is paid on its own; the first is settled by its own product's next Pay, never paid twice", async () => {
  const page = await env.browser.newPage();
  const [chargesBefore, paidBefore] = [charges(), paidOrders()];
  const seen = await loseOrderAnswers(page);
  await checkoutTee(page);
  await payWhenReady(page);
  await waitForFailure(page);
  await page.keyboard.press("Escape");
  await page.locator("dialog[open]:not(.tb-waiting)").waitFor({ state: "detached" });

  // The connection is back, and the visitor buys the scarf: its Pay pays the scarf, not the tee.
  seen.down = false;
  const scarf = (selector) => page.locator(`[data-tweetbuy-host="${SCARF}"] ${selector}`);
  await scarf("button[part=button]").click();
  await page.locator("dialog[open]:not(.tb-waiting) .tb-primary").click(); // Continue, in the embed's Spanish
  await fillTeeDetails(page, CARDS.visa);
  await pressPay(page, SCARF);
  await scarf("[data-order-number]").waitFor({ timeout: 30_000 });
  assert.match(await scarf(".tb-bought").textContent(), /Heritage scarf/);
  assert.equal(new Set(seen.keys).size, 2, "the scarf is an order of its own, under its own key");
  await page.keyboard.press("Escape");
  await page.locator("dialog[open]:not(.tb-waiting)").waitFor({ state: "detached" });

  // The tee's next Pay asks about the tee's first order with its key, and pays nothing new.
  await page.locator(inHost("button[part=button]")).click();
  await fillTeeCheckout(page, CARDS.visa);
  await payWhenReady(page);
  await page.locator(inHost("[data-order-number]")).waitFor({ timeout: 30_000 });
  assert.equal(new Set(seen.keys).size, 2, `the tee's first key again (${seen.keys.length} tries)`);
  assert.equal(seen.tokenizations, 2, "one card token for the tee, one for the scarf");
  assert.equal(charges() - chargesBefore, 2, "one charge each");
  assert.equal(paidOrders() - paidBefore, 2, "one order each");
  await page.close();
});
