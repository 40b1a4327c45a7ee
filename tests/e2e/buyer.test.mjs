// The buyer's whole path: product sheet, checkout (the page's fields beside the vault's card
// frame, which holds the card and Pay) and confirmation, by keyboard, by screen reader
// semantics, on a phone, in Spanish, with every server outcome, checked by axe-core, with
// screenshots of each state in light and dark at desktop and phone sizes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { useServerAndBrowser, sql, sqlWrite as writeSql, watchConsole, axe, axeDocument, AXE_TAGS, outboxMails, ARTIFACTS, fillAddress, payFrame, inView, tickInFrame } from "./harness.mjs";


const TEE = "1528000000000000001";
const SCARF = "1528000000000000002";
const TICKET = "1528000000000000003";
const SOLD_OUT = "1528000000000000005";
const ENDED = "1528000000000000006";
const CONCIERTO = "1528000000000000007";

const CARD = {
  visa: "4242 4242 4242 4242",
  declined: "4000 0000 0000 0002",
  insufficient: "4000 0000 0000 9995",
  processing: "4000 0000 0000 0119",
};

const DESKTOP = { width: 1024, height: 900 };
const PHONE = { width: 390, height: 844 };

const env = useServerAndBrowser();

/** Intl puts no-break spaces in "45,00 €"; compare with plain spaces. */
const plain = (s) => (s ?? "").replace(/[\u00a0\u202f]/g, " ").trim();

/** A fresh browser context (own storage) on the demo page, waiting for one embed's button. */
async function openDemo(tweet = TEE, { viewport = DESKTOP, colorScheme = "light", touch = false } = {}) {
  // Touch without mobile emulation's zoom-out: the demo page's 550 px rendered-iframe embed
  // is wider than a phone, which would stretch the layout viewport past the screen.
  const context = await env.browser.newContext({ viewport, colorScheme, hasTouch: touch });
  const page = await context.newPage();
  const consoleSeen = watchConsole(page);
  await page.goto(`${env.server.origins.publisher}/`);
  const host = page.locator(`[data-tweetbuy-host="${tweet}"]`);
  const button = host.locator('button[part="button"]');
  await button.waitFor({ state: "visible", timeout: 20_000 });
  return { context, page, host, button, consoleSeen };
}

/** The open sheet's vault frame (`card` or `saved`) as a Playwright Frame, for waits and evaluation inside it. */
async function vaultFrame(page, kind = "card") {
  const handle = await page.locator(`dialog[open]:not(.tb-waiting) iframe.tb-${kind}-frame`).elementHandle({ timeout: 20_000 });
  return handle.contentFrame();
}

/**
 * Waits until Pay inside the open sheet's frame answers a click (aria-disabled="false") and
 * its text matches `pattern` (by default: the api's total, "Pay $37.66"); returns its locator.
 */
async function payReady(page, pattern = "^Pay \\$\\d+\\.\\d\\d$", kind = "card") {
  const frame = await vaultFrame(page, kind);
  await frame
    .waitForFunction(
      (p) => {
        const b = document.getElementById("pay");
        return b && b.getAttribute("aria-disabled") === "false" && new RegExp(p).test(b.textContent.replace(/[\u00a0\u202f]/g, " ").trim());
      },
      pattern,
      // Polled by timer: a cross-origin frame out of view gets no animation frames.
      { timeout: 20_000, polling: 100 },
    )
    .catch(async (e) => {
      const pay = await frame.evaluate(() => {
        const b = document.getElementById("pay");
        return { ariaDisabled: b?.getAttribute("aria-disabled"), text: b?.textContent, status: document.getElementById("status")?.textContent };
      }).catch((why) => String(why));
      throw new Error(`Pay in the ${kind} frame never answered with ${pattern}: ${JSON.stringify(pay)} (${frame.url()})\n${e.message}`);
    });
  const pay = payFrame(page, kind).locator("#pay");
  await inView(pay);
  return pay;
}

/** Waits for the frame's status line to match `pattern` (declines and other refusals show there), and returns it. */
async function frameStatus(page, pattern, kind = "card") {
  const frame = await vaultFrame(page, kind);
  const seen = await frame
    .waitForFunction(
      (p) => {
        const text = document.getElementById("status").textContent;
        return new RegExp(p).test(text) && text;
      },
      pattern.source,
      { timeout: 45_000, polling: 100 },
    )
    .catch(async (e) => {
      const now = await frame.evaluate(() => [document.getElementById("status").textContent, document.getElementById("pay").textContent]).catch(String);
      throw new Error(`the ${kind} frame's status never matched ${pattern}: status, Pay: ${JSON.stringify(now)}\n${e.message}`);
    });
  return plain(await seen.jsonValue());
}

/** Waits for the failure summary to say something, and returns it. */
async function failureText(page, tweet) {
  await page.waitForFunction(
    (t) => {
      const f = document.querySelector(`[data-tweetbuy-host="${t}"]`)?.shadowRoot?.querySelector(".tb-failure");
      return f && f.textContent.trim().length > 0;
    },
    tweet,
    { timeout: 20_000 },
  );
  return plain(await page.locator(`[data-tweetbuy-host="${tweet}"] .tb-failure`).textContent());
}

function cardFrame(host) {
  return host.frameLocator("iframe.tb-card-frame");
}

async function fillCard(host, number) {
  const frame = cardFrame(host);
  await frame.locator("#number").fill(number);
  await frame.locator("#expiry").fill("12/34");
  await frame.locator("#cvc").fill("123");
}


/** The element that really has focus, through shadow roots; the iframe for the card frame. */
async function focused(page) {
  return page.evaluate(() => {
    let a = document.activeElement;
    while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
    if (!a) return null;
    const dialog = a.getRootNode()?.querySelector?.("dialog[open]:not(.tb-waiting)");
    return {
      tag: a.tagName,
      id: a.id,
      cls: a.className,
      part: a.getAttribute("part"),
      type: a.getAttribute("type"),
      value: a.value ?? null,
      text: (a.textContent || "").trim(),
      inDialog: !!dialog && dialog.contains(a),
      host: a.getRootNode()?.host?.getAttribute("data-tweetbuy-host") ?? null,
    };
  });
}

/** Presses Tab until `match(focused)` holds; fails after `max` presses. */
async function tabTo(page, match, max = 40, key = "Tab") {
  let f = await focused(page);
  for (let i = 0; i < max; i++) {
    if (f && match(f)) return f;
    const before = JSON.stringify(f);
    await page.keyboard.press(key);
    f = await movedFocus(page, before);
  }
  throw new Error(`focus never reached the target: ${JSON.stringify(f)}`);
}

/**
 * What has focus once it has moved on from `before` (`focused`, as JSON), or after half a
 * second if it has not. Focus that goes into the card frame, another site's frame run by a
 * process of its own, reaches it a moment after the key press returns, and meanwhile this
 * page shows its body focused: read then, a second press would move focus on inside the frame
 * (to the expiry, past the card number).
 */
async function movedFocus(page, before) {
  for (let waited = 0; waited < 500; waited += 25) {
    const f = await focused(page);
    if (JSON.stringify(f) !== before && f?.tag !== "BODY") return f;
    await page.waitForTimeout(25);
  }
  return focused(page);
}

/** Runs axe-core inside the vault's card frame (its own document). */
async function axeCardFrame(page, label) {
  const frame = await vaultFrame(page, "card");
  assert.ok(frame, "the card frame is loaded");
  await axeDocument(frame, `the card frame (${label})`, AXE_TAGS.filter((t) => t !== "best-practice"));
}

async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `buyer-${name}.png`) });
}

/**
 * Buys directly through the api and the vault, as the payment frame of another visitor
 * would: an intent priced by the api, a card token minted for that intent, then the order.
 */
async function buyViaApi(productId, variantId, quantity, shipping = true) {
  const post = (url, body, headers = {}) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const intentReply = await post(`${env.server.origins.api}/api/v1/intents`, {
    product_id: productId,
    variant_id: variantId,
    quantity,
    email: "other@example.com",
    shipping: shipping
      ? { name: "Other Buyer", line1: "2 Side St", line2: "", city: "Austin", region: "TX", postal_code: "73301", country: "US" }
      : null,
    share_email: false,
    tweet_id: null,
  });
  assert.ok(intentReply.ok, await intentReply.clone().text());
  const intent = await intentReply.json();
  // The frame's own origin, as a browser sends it: the vault refuses card posts without one.
  const tokenReply = await post(
    `${env.server.origins.vault}/v1/tokens`,
    { number: "4242424242424242", expiry: "12/34", cvc: "123", intent_id: intent.intent_id },
    { "Idempotency-Key": randomUUID(), origin: env.server.origins.vault },
  );
  assert.ok(tokenReply.ok, await tokenReply.clone().text());
  const { token } = await tokenReply.json();
  const reply = await post(
    `${env.server.origins.api}/api/v1/orders`,
    { intent_id: intent.intent_id, client_secret: intent.client_secret, card_token: token },
    { "Idempotency-Key": randomUUID() },
  );
  assert.ok(reply.ok, await reply.clone().text());
  return reply.json();
}

/**
 * Writes to the api's database (committed), for states only time could produce: the SQLite
 * file, or on PostgreSQL this server's api schema (the one the harness's `sql` reads).
 */
function sqlWrite(query, params = []) {
  writeSql(join(env.server.dataDir, "api.db"), query, params);
}

function realErrors(consoleSeen) {
  return consoleSeen
    .filter((m) => m.type === "error" || m.type === "pageerror")
    .filter((e) => !/platform\.twitter\.com|ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|net::/.test(e.text));
}

test("keyboard only: a whole purchase of the tee, with focus managed at every step", async () => {
  const { context, page, consoleSeen } = await openDemo(TEE);
  await page.locator("body").focus();
  await tabTo(page, (f) => f.host === TEE && f.part === "button", 80);
  await page.keyboard.press("Enter");
  await page.locator(`[data-tweetbuy-host="${TEE}"] dialog[open]:not(.tb-waiting)`).waitFor();
  let f = await focused(page);
  assert.ok(f.inDialog, `focus moved into the sheet: ${JSON.stringify(f)}`);

  // The size: arrow keys inside the radio group.
  f = await tabTo(page, (f) => f.type === "radio");
  assert.equal(f.value, "s", "the first size in stock is chosen");
  await page.keyboard.press("ArrowDown");
  f = await focused(page);
  assert.equal(f.value, "m");
  assert.equal(await page.locator(`[data-tweetbuy-host="${TEE}"] #tb-variant-m`).isChecked(), true);
  await tabTo(page, (f) => f.cls.includes("tb-primary"));
  await page.keyboard.press("Enter");

  // The checkout step takes focus on its first field.
  await page.waitForFunction(() => true);
  f = await tabTo(page, (f) => f.id === "tb-email", 1);
  await page.keyboard.type("kb@example.com");
  await page.keyboard.press("Tab");
  await page.keyboard.type("Kay Board");
  await page.keyboard.press("Tab");
  await page.keyboard.type("5 Key St");
  await tabTo(page, (f) => f.id === "tb-city");
  await page.keyboard.type("Boston");
  await tabTo(page, (f) => f.id === "tb-region");
  await page.keyboard.type("MA");
  assert.equal(await page.locator(`[data-tweetbuy-host="${TEE}"] #tb-region`).inputValue(), "MA");
  await tabTo(page, (f) => f.id === "tb-postal_code");
  await page.keyboard.type("02108");
  // Enter in a field of a form with several, and no submit button of its own (Pay is in the
  // frame), checks the details and moves on to the card's label, as a browser's Enter would.
  await page.keyboard.press("Enter");
  await page.waitForFunction((t) => document.querySelector(`[data-tweetbuy-host="${t}"]`).shadowRoot.activeElement?.id === "tb-card-label", TEE);
  // From the page's last field into the vault's frame, by Tab like any other field, once the
  // frame's page is there; its card form comes in it as sent, before the frame's script runs.
  const frame = await vaultFrame(page, "card");
  await frame.locator("#number").waitFor();
  await tabTo(page, (f) => f.tag === "IFRAME");
  const inFrame = () => frame.evaluate(() => document.activeElement.id);
  assert.equal(await inFrame(), "number");
  await page.keyboard.type(CARD.visa);
  await page.keyboard.press("Tab");
  assert.equal(await inFrame(), "expiry");
  await page.keyboard.type("12/34");
  await page.keyboard.press("Tab");
  assert.equal(await inFrame(), "cvc");
  await page.keyboard.type("123");
  // Pay is in the frame: past the save box, still inside it.
  await page.keyboard.press("Tab");
  assert.equal(await inFrame(), "save", "the save box, unticked by default");
  assert.equal(await frame.locator("#save").isChecked(), false);
  await page.keyboard.press("Tab");
  assert.equal(await inFrame(), "pay");
  assert.equal((await focused(page)).tag, "IFRAME", "focus is still in the frame, not back on the page");
  // The page showed the frame its cart; Pay shows the api's total once it answers.
  await payReady(page);
  assert.match(plain(await frame.locator("#pay").textContent()), /^Pay \$\d+\.\d\d$/);
  assert.match(plain(await frame.locator("#ships-to").textContent()), /^Ships to Kay Board, 5 Key St, Boston, MA 02108, US$/);
  // The buyer reads the amount: a key press counts once Pay has had focus for 600 ms.
  await page.waitForTimeout(700);
  await page.keyboard.press("Enter");

  const number = page.locator(`[data-tweetbuy-host="${TEE}"] [data-order-number]`);
  await number.waitFor({ timeout: 20_000 });
  await page.waitForFunction(() => true);
  f = await focused(page);
  assert.ok(f.cls.includes("tb-confirmed"), `focus on the confirmation: ${JSON.stringify(f)}`);
  const orderNumber = (await number.textContent()).trim();
  const rows = sql(join(env.server.dataDir, "api.db"), "SELECT status, variant_id, email FROM orders WHERE order_number = ?", [orderNumber]);
  assert.deepEqual(rows, [["paid", "m", "kb@example.com"]]);

  // Escape closes the sheet and focus returns to the Buy button.
  await page.keyboard.press("Escape");
  await page.locator(`[data-tweetbuy-host="${TEE}"] dialog[open]:not(.tb-waiting)`).waitFor({ state: "detached" });
  f = await focused(page);
  assert.equal(f.part, "button");
  assert.equal(f.host, TEE);
  assert.deepEqual(realErrors(consoleSeen), []);
  await context.close();
});

test("focus stays trapped in the sheet, both ways, and never reaches the page", async () => {
  const { context, page, button, host } = await openDemo(TEE);
  await button.click();
  await host.locator("dialog[open]:not(.tb-waiting)").waitFor();
  for (const key of ["Tab", "Shift+Tab"]) {
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press(key);
      const f = await focused(page);
      assert.ok(f && f.host === TEE && f.inDialog, `${key} #${i} left the sheet: ${JSON.stringify(f)}`);
    }
  }
  await context.close();
});

test("screen reader semantics: roles, names, states and live regions", async () => {
  const { context, page, button, host } = await openDemo(TEE);
  assert.equal(await button.getAttribute("aria-haspopup"), "dialog");
  assert.equal(await button.getAttribute("aria-expanded"), "false");
  await page.getByRole("button", { name: "Buy · $30.00" }).first().click();
  const dialog = page.getByRole("dialog", { name: "(RED) limited-edition tee" });
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute("aria-modal"), "true");
  assert.equal(await button.getAttribute("aria-expanded"), "true");
  assert.equal(await dialog.getByRole("button", { name: "Close" }).count(), 1);
  assert.equal(await dialog.getByRole("img", { name: /red T-shirt/ }).count(), 1, "images have alt text");
  const group = dialog.getByRole("radiogroup", { name: "Option" });
  assert.equal(await group.getByRole("radio").count(), 4);
  const m = group.getByRole("radio", { name: /^M \$30\.00 · \d+ left$/ });
  assert.equal(await m.count(), 1, "each option names its price and stock");
  assert.equal(await dialog.getByRole("spinbutton", { name: "Quantity" }).getAttribute("max"), "5", "per-order limit");
  assert.equal(await dialog.getByRole("button", { name: "Increase quantity" }).count(), 1);
  const stock = host.locator(".tb-stock");
  assert.equal(await stock.getAttribute("aria-live"), "polite");
  assert.match(await stock.textContent(), /^\d+ left$/);
  assert.equal(await dialog.getByRole("status").count(), 3, "the reason region, the saved info's notice and the quantity's are statuses, there while empty");
  // A step of the quantity is said aloud; at its limit the button does nothing, and keeps focus.
  const said = host.locator(".tb-visually-hidden[role=status]");
  await dialog.getByRole("button", { name: "Increase quantity" }).click();
  assert.equal(await said.textContent(), "Quantity 2");
  const decrease = dialog.getByRole("button", { name: "Decrease quantity" });
  await decrease.click();
  assert.equal(await said.textContent(), "Quantity 1");
  assert.equal(await decrease.getAttribute("aria-disabled"), "true");
  await page.keyboard.press("Enter"); // as a keyboard user presses it again, at the limit
  assert.ok(await decrease.evaluate((b) => b.getRootNode().activeElement === b), "focus stays on the button at its limit");
  assert.equal(await dialog.getByRole("spinbutton", { name: "Quantity" }).inputValue(), "1");
  await dialog.getByRole("button", { name: "Continue" }).click();

  for (const name of ["Email", "Full name", "Address", "Apartment, suite (optional)", "City", "Postal code"]) {
    assert.equal(await dialog.getByRole("textbox", { name, exact: true }).count(), 1, `textbox ${name}`);
  }
  assert.equal(await host.locator("#tb-email").getAttribute("autocomplete"), "email");
  assert.equal(await host.locator("#tb-postal_code").getAttribute("autocomplete"), "shipping postal-code");
  assert.equal(await host.locator("#tb-country").getAttribute("autocomplete"), "shipping country");
  const country = dialog.getByRole("combobox", { name: "Country" });
  assert.deepEqual(await country.locator("option").allTextContents(), ["United States"], "only where it ships");
  assert.equal(await dialog.getByRole("combobox", { name: "State" }).count(), 1);
  const consent = dialog.getByRole("checkbox", { name: "Share my email with (RED)" });
  assert.equal(await consent.isChecked(), false, "consent starts unticked");
  const frame = host.locator("iframe.tb-card-frame");
  assert.equal(await frame.getAttribute("aria-labelledby"), "tb-card-label");
  assert.equal(await host.locator("#tb-card-label").textContent(), "Card");
  assert.equal(await dialog.getByRole("alert").count(), 1, "an assertive error summary exists before any error");
  assert.equal(await dialog.getByRole("button", { name: /^Pay/ }).count(), 0, "no Pay on the page: it is in the frame");

  // Pay pressed in the frame with nothing filled in: the frame has no cart and asks the page,
  // which shows inline errors tied to their fields, a summary, and focuses the first.
  const pay = await payReady(page, "^Pay$");
  assert.equal(await cardFrame(host).getByRole("button", { name: "Pay", exact: true }).count(), 1);
  await pay.click();
  const summary = await failureText(page, TEE);
  assert.match(summary, /Some details need fixing/);
  assert.match(summary, /Email: Enter your email address\./);
  assert.equal(await host.locator("#tb-email").getAttribute("aria-invalid"), "true");
  assert.equal(await host.locator("#tb-email").getAttribute("aria-describedby"), "tb-email-error");
  assert.equal(await host.locator("#tb-email-error").textContent(), "Enter your email address.");
  await page.waitForFunction(() => true);
  assert.equal((await focused(page)).id, "tb-email", "focus on the first field to fix");
  // A postal code that breaks the country's rule, from core.
  await host.locator("#tb-postal_code").fill("1234");
  await (await payReady(page, "^Pay$")).click();
  await page.waitForFunction(() => {
    const e = document.querySelector('[data-tweetbuy-host="1528000000000000001"]').shadowRoot.querySelector("#tb-postal_code-error");
    return e && /not a valid postal code for United States/.test(e.textContent);
  });
  await context.close();
});

test("a screen reader is told required only of what the country's rules require: outside the US the region is optional", async () => {
  const { context, page, host, button } = await openDemo(SCARF);
  await button.click();
  const dialog = page.getByRole("dialog", { name: /scarf/i });
  await dialog.getByRole("button", { name: "Continuar" }).click(); // the scarf's embed is in Spanish
  const required = (selector) => host.locator(selector).evaluate((e) => e.required);
  assert.equal(await host.locator("select#tb-region").getAttribute("aria-required"), "true", "a US state is required");
  assert.deepEqual([await required("#tb-postal_code"), await required("#tb-line2")], [true, false]);
  await host.locator("#tb-country").selectOption("GB");
  const region = dialog.getByRole("textbox", { name: "Provincia / región (opcional)" });
  await region.waitFor();
  assert.deepEqual([await region.evaluate((e) => e.required), await required("#tb-postal_code"), await required("#tb-name")], [false, true, true]);
  await context.close();
});

test("live stock: read fresh when the sheet opens and again every 15 s while open, announced politely", async () => {
  const { context, page, button, host } = await openDemo(TEE);
  const left = async () => Number((await host.locator(".tb-stock").textContent()).match(/\d+/)[0]);
  const before = Number(sql(join(env.server.dataDir, "api.db"), "SELECT SUM(stock) FROM variants WHERE product_id = 'red-tee'")[0][0]);
  // Someone else buys after this page looked the offer up.
  await buyViaApi("red-tee", "l", 2);
  await button.click();
  await page.waitForFunction(
    (n) => document.querySelector('[data-tweetbuy-host="1528000000000000001"]').shadowRoot.querySelector(".tb-stock")?.textContent === `${n} left`,
    before - 2,
    { timeout: 10_000 },
  );
  assert.equal(await left(), before - 2, "the open sheet shows the server's figure, not the lookup's");
  await buyViaApi("red-tee", "l", 3);
  const t0 = Date.now();
  await page.waitForFunction(
    (n) => document.querySelector('[data-tweetbuy-host="1528000000000000001"]').shadowRoot.querySelector(".tb-stock")?.textContent === `${n} left`,
    before - 5,
    { timeout: 20_000 },
  );
  assert.ok(Date.now() - t0 < 17_000, "refreshed within one 15 s period");
  const variantL = host.locator("label.tb-variant", { has: page.locator("#tb-variant-l") });
  const inDb = sql(join(env.server.dataDir, "api.db"), "SELECT stock FROM variants WHERE product_id = 'red-tee' AND id = 'l'")[0][0];
  assert.match(plain(await variantL.textContent()), new RegExp(`· ${inDb} left$`));
  assert.equal(await host.locator(".tb-stock").getAttribute("aria-live"), "polite");
  await context.close();
});

test("server outcomes are shown in place and keep what was typed: declines, processing error, network failure, then success", async () => {
  const { context, page, button, host } = await openDemo(TEE);
  const apiDb = join(env.server.dataDir, "api.db");
  const paidXl = () => Number(sql(apiDb, "SELECT count(*) FROM orders WHERE product_id = 'red-tee' AND variant_id = 'xl' AND status = 'paid'")[0][0]);
  const paidBefore = paidXl();
  await button.click();
  await host.locator("#tb-variant-xl").check();
  await host.getByRole("button", { name: "Continue" }).click();
  await fillAddress(host);
  await host.getByRole("checkbox", { name: /Share my email/ }).check();
  // The vault's answers are shown in the frame, beside Pay, where the card was typed.
  const outcomes = [
    [CARD.declined, /Your card was declined\. Check the card details, or try another card\./, "declined"],
    // A typed card's reason stays with the vault (card testing learns nothing from it): the
    // buyer reads the generic decline, which says what to check.
    [CARD.insufficient, /Your card was declined\. Check the card details, or try another card\./, "insufficient-funds"],
    [CARD.processing, /We could not process your card\. Please try again in a moment\./, "processing-error"],
  ];
  for (const [card, message, name] of outcomes) {
    await fillCard(host, card);
    const pay = await payReady(page);
    // The api's answer to this attempt, so the status line read is this attempt's.
    const answered = page.waitForResponse((r) => r.url() === `${env.server.origins.api}/api/v1/orders` && r.request().method() === "POST", { timeout: 20_000 });
    await pay.click();
    await answered;
    const text = await frameStatus(page, message);
    assert.match(text, message, name);
    assert.equal(await host.locator("#tb-email").inputValue(), "jane@example.com", `${name}: email kept`);
    assert.equal(await host.locator("#tb-postal_code").inputValue(), "10001", `${name}: postal code kept`);
    assert.equal(await host.locator("#tb-region").inputValue(), "NY", `${name}: state kept`);
    assert.equal(await host.getByRole("checkbox", { name: /Share my email/ }).isChecked(), true, `${name}: consent kept`);
    assert.equal(await host.locator("fieldset.tb-details").isDisabled(), false, `${name}: the form is editable again`);
    await payReady(page);
    if (name === "declined") await shot(page, "checkout-declined-desktop-light");
  }

  // The network fails: the order request never reaches the api.
  const ordersSent = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url() === `${env.server.origins.api}/api/v1/orders`) ordersSent.push(r.headers()["idempotency-key"]);
  });
  await page.route(`${env.server.origins.api}/api/v1/orders`, async (route) => {
    await new Promise((r) => setTimeout(r, 1_500));
    await route.abort("internetdisconnected");
  });
  await fillCard(host, CARD.visa);
  const pay = await payReady(page);
  await pay.click();
  // While paying: Pay is busy and says so, the page's form is locked and says so, and a
  // second click sends nothing more.
  const frame = await vaultFrame(page);
  await frame.waitForFunction(() => {
    const b = document.getElementById("pay");
    return b.getAttribute("aria-disabled") === "true" && b.getAttribute("aria-busy") === "true" && b.textContent === "Paying…";
  }, null, { timeout: 5_000, polling: 50 });
  await host.locator("fieldset.tb-details[disabled]").waitFor({ timeout: 5_000 }); // the page's fields are locked while paying
  assert.equal(await host.locator(".tb-checkout").getAttribute("aria-busy"), "true");
  assert.equal(plain(await host.locator(".tb-checkout .tb-status").textContent()), "Paying…");
  await pay.click({ force: true }).catch(() => {});
  // The frame first keeps asking for the outcome with the same key, then says it is unknown
  // and that paying again cannot charge twice.
  assert.match(await frameStatus(page, /could not reach the store to confirm your payment/), /press Pay again: you will not be charged twice\./i);
  assert.equal(await host.locator("#tb-name").inputValue(), "Jane Doe");
  assert.ok(ordersSent.length >= 1);
  assert.equal(new Set(ordersSent).size, 1, `no double submission: ${ordersSent}`);
  await page.unroute(`${env.server.origins.api}/api/v1/orders`);

  // And then Pay again goes through, still with the same key: one paid order.
  const lost = ordersSent.length;
  await (await payReady(page)).click();
  const number = host.locator("[data-order-number]");
  await number.waitFor({ timeout: 20_000 });
  assert.ok(ordersSent.length > lost);
  assert.equal(new Set(ordersSent).size, 1, `Pay again repeats the lost request's key: ${ordersSent}`);
  const rows = sql(apiDb, "SELECT status, CASE WHEN share_email THEN 1 ELSE 0 END FROM orders WHERE order_number = ?", [(await number.textContent()).trim()]);
  assert.deepEqual(rows, [["paid", 1]]);
  assert.equal(paidXl() - paidBefore, 1, "one paid order for all these attempts");
  await context.close();
});

test("sold out meanwhile: another buyer takes the last units while this one checks out", async () => {
  const { context, page, button, host } = await openDemo(TEE);
  await button.click();
  await host.locator("#tb-variant-s").check();
  await host.getByRole("button", { name: "Continue" }).click();
  await fillAddress(host);
  await fillCard(host, CARD.visa);
  // Priced while there was stock; then the last units go.
  const pay = await payReady(page);
  const left = sql(join(env.server.dataDir, "api.db"), "SELECT stock FROM variants WHERE product_id = 'red-tee' AND id = 's'")[0][0];
  for (let n = left; n > 0; n -= Math.min(5, n)) await buyViaApi("red-tee", "s", Math.min(5, n));
  await pay.click();
  assert.match(await failureText(page, TEE), /Sorry, this just sold out\. You have not been charged\./);
  assert.match(await frameStatus(page, /sold out/), /^This option is sold out\.$/);
  assert.equal(await host.locator("#tb-email").inputValue(), "jane@example.com");
  await shot(page, "checkout-sold-out-meanwhile-desktop-light");
  // Back on the product sheet, the option now says so.
  await host.getByRole("button", { name: "Back" }).click();
  await page.waitForFunction(
    () => document.querySelector('[data-tweetbuy-host="1528000000000000001"]').shadowRoot.querySelector("#tb-variant-s")?.disabled,
    null,
    { timeout: 20_000 },
  );
  assert.match(await host.locator(".tb-unavailable").textContent(), /This option is sold out/);
  // Continue cannot take focus now: the sheet's title does, so the keyboard keeps its place.
  const focused = await page.waitForFunction(
    () => document.querySelector('[data-tweetbuy-host="1528000000000000001"]').shadowRoot.activeElement?.id === "tb-title",
    null,
    { timeout: 5_000 },
  ).then(() => true, () => false);
  assert.ok(focused, "focus on the sheet's title");
  await context.close();
});

test("fewer left meanwhile than the buyer chose: back on the product sheet the quantity comes down to what is left, and says so", async () => {
  const { context, page, button, host } = await openDemo(TEE);
  await button.click();
  await host.locator("#tb-variant-l").check();
  await host.locator("#tb-quantity").fill("2");
  await host.locator("#tb-quantity").blur();
  await host.getByRole("button", { name: "Continue" }).click();
  await fillAddress(host);
  await fillCard(host, CARD.visa);
  const pay = await payReady(page);
  // Other buyers take all but one unit.
  const left = sql(join(env.server.dataDir, "api.db"), "SELECT stock FROM variants WHERE product_id = 'red-tee' AND id = 'l'")[0][0];
  for (let n = left - 1; n > 0; n -= Math.min(5, n)) await buyViaApi("red-tee", "l", Math.min(5, n));
  await pay.click();
  // Not "sold out": some are left, and the buyer is told to choose again, in both places.
  assert.equal(await failureText(page, TEE), "Sorry, fewer are left now than you chose. You have not been charged: go back to choose how many.");
  assert.equal(await cardFrame(host).locator("#status").textContent(), "Fewer of this option are left than you chose.");
  await host.getByRole("button", { name: "Back" }).click();
  await page.waitForFunction(
    () => document.querySelector('[data-tweetbuy-host="1528000000000000001"]').shadowRoot.querySelector("#tb-quantity")?.value === "1",
    null,
    { timeout: 20_000 },
  );
  assert.equal(plain(await host.locator("#tb-quantity-hint").textContent()), "Changed to 1, the most you can buy");
  await context.close();
  sqlWrite("UPDATE variants SET stock = ? WHERE product_id = 'red-tee' AND id = 'l'", [left]); // for the tests after this one
});

test("sold-out and ended offers say so on their button and in their sheet, and cannot be bought", async () => {
  for (const [tweet, label, reason] of [
    [SOLD_OUT, "Sold out · Notify me", /^Sold out\. Every unit has been sold, so buying is closed\.$/],
    [ENDED, "Sale ended", /^This sale has ended, so buying is closed\.$/],
  ]) {
    const { context, button, host } = await openDemo(tweet);
    assert.equal(await button.textContent(), label);
    await button.click();
    await host.locator("dialog[open]:not(.tb-waiting)").waitFor();
    await host.locator(".tb-unavailable").filter({ hasText: reason }).waitFor();
    assert.equal(await host.getByRole("button", { name: "Continue" }).isDisabled(), true);
    assert.equal(await host.getByRole("spinbutton", { name: "Quantity" }).isDisabled(), true);
    for (const radio of await host.getByRole("radio").all()) assert.equal(await radio.isDisabled(), true);
    await context.close();
  }
});

test("a ticket is delivered by email, needs no shipping, and counts down to the sale's end", async () => {
  const { context, page, button, host } = await openDemo(TICKET);
  assert.equal(await button.textContent(), "Get tickets");
  await button.click();
  await host.locator("dialog[open]:not(.tb-waiting)").waitFor();
  assert.match(plain(await host.locator(".tb-delivery").textContent()), /^Your ticket is emailed to you\. No shipping address needed\.$/);
  const timer = host.getByRole("timer");
  const first = await timer.textContent();
  assert.match(first, /^Sale ends in 1[34]d \d\dh \d\dm \d\ds$/);
  await page.waitForTimeout(1_500);
  assert.notEqual(await timer.textContent(), first, "the countdown moves");
  await host.getByRole("radio", { name: /^VIP/ }).check();
  await host.getByRole("button", { name: "Increase quantity" }).click();
  assert.equal(await host.locator("#tb-quantity").inputValue(), "2");
  await host.getByRole("button", { name: "Continue" }).click();
  // The countdown goes on on the checkout step, where the buyer spends the most time.
  await host.locator("#tb-email").waitFor();
  assert.match(await host.getByRole("timer").textContent(), /^Sale ends in 1[34]d \d\dh \d\dm \d\ds$/);
  await host.locator("#tb-email").fill("fan@example.com");
  assert.equal(await host.locator("#tb-name").count(), 0, "no shipping fields");
  assert.equal(await host.locator(".tb-shipping").count(), 0);
  await fillCard(host, CARD.visa);
  const pay = await payReady(page);
  assert.equal(await host.locator(".tb-summary dt").allTextContents().then((t) => t.includes("Shipping")), false);
  assert.equal(plain(await payFrame(page).locator("#ships-to").textContent()), "Delivered by email to fan@example.com");
  await pay.click();
  await host.locator("[data-order-number]").waitFor({ timeout: 20_000 });
  assert.equal(plain(await host.locator(".tb-confirmation .tb-delivery").textContent()), "Your ticket is emailed to you.");
  assert.match(await host.locator(".tb-bought").textContent(), /^2 × Fall tour ticket \(VIP\)$/);
  // The seller's words in the seller's language (the catalog's `lang`), as on the product step.
  assert.equal(await host.locator(".tb-bought [lang]").getAttribute("lang"), "en");
  assert.equal(await host.locator(".tb-receipt").textContent(), "A receipt was sent to fan@example.com.");
  await context.close();
});

test("Spanish embed (data-lang=es): Spanish text and euros formatted for es", async () => {
  const { context, page, button, host } = await openDemo(CONCIERTO);
  assert.equal(await button.textContent(), "Comprar entradas");
  // The tee's embed has no data-lang: the page is English.
  assert.match(plain(await page.locator(`[data-tweetbuy-host="${TEE}"] button[part=button]`).textContent()), /^Buy · \$30\.00$/);
  await button.click();
  const dialog = page.getByRole("dialog", { name: "Concierto: entrada general" });
  await dialog.waitFor();
  assert.equal(await host.locator("dialog").getAttribute("lang"), "es");
  // The seller wrote this product in Spanish too (the catalog's `lang`).
  assert.equal(await host.locator("#tb-title").getAttribute("lang"), "es");
  assert.equal(plain(await host.locator("[part=price]").textContent()), "45,00 €");
  assert.match(plain(await host.getByRole("radio").first().locator("xpath=..").textContent()), /45,00 € · quedan 1\.?000$/);
  assert.match(await host.getByRole("timer").textContent(), /^La venta termina en \d+ d \d\d h \d\d min \d\d s$/);
  assert.equal(await dialog.getByRole("button", { name: "Cerrar" }).count(), 1);
  assert.equal(await dialog.getByRole("radiogroup", { name: "Entrada" }).count(), 1);
  assert.match(plain(await host.locator(".tb-seller").textContent()), /Vendido por Rosalía\s*Artista/);
  await dialog.getByRole("button", { name: "Continuar" }).click();
  assert.equal(await dialog.getByRole("textbox", { name: "Correo electrónico" }).count(), 1);
  const number = cardFrame(host).getByLabel("Número de tarjeta");
  await number.waitFor({ timeout: 20_000 }); // the frame loads after the step appears
  assert.equal(await number.count(), 1, "the card frame speaks Spanish too");
  assert.equal(await host.locator("iframe.tb-card-frame").getAttribute("title"), "Datos de la tarjeta");
  assert.equal(await dialog.getByRole("checkbox", { name: "Compartir mi correo con Rosalía" }).count(), 1);
  // Pay, in the frame and in Spanish, before the email: the page asks for it, in Spanish.
  await (await payReady(page, "^Pagar$")).click();
  assert.match(await failureText(page, CONCIERTO), /Revisa los campos marcados|Hay datos que corregir/);
  assert.equal(await host.locator("#tb-email-error").textContent(), "Escribe tu correo electrónico.");
  await host.locator("#tb-email").fill("fan@example.es");
  await fillCard(host, CARD.visa);
  const pay = await payReady(page, "^Pagar \\d+,\\d\\d €$");
  assert.equal(plain(await payFrame(page).locator("#ships-to").textContent()), "Se entrega por correo a fan@example.es");
  await pay.click();
  await host.locator("[data-order-number]").waitFor({ timeout: 20_000 });
  assert.match(await host.locator(".tb-confirmed").textContent(), /¡Gracias!/);
  assert.equal(await host.locator(".tb-bought [lang]").getAttribute("lang"), "es", "the seller's words, marked as theirs");
  assert.equal(await host.locator(".tb-delivery").getAttribute("lang"), "es", "so is their delivery note");
  assert.equal(await host.locator(".tb-receipt").textContent(), "Hemos enviado un recibo a fan@example.es.");
  // The emailed receipt speaks Spanish too, with the price as the sheet wrote it.
  const orderNumber = (await host.locator("[data-order-number]").textContent()).trim();
  const [receipt] = await outboxMails(env.server.dataDir, `${orderNumber}.eml`);
  assert.ok(receipt, "the receipt is in the outbox");
  assert.match(receipt, new RegExp(`^Subject: Tu pedido ${orderNumber}\\r?$`, "m"));
  assert.match(receipt, new RegExp(`Gracias por tu pedido ${orderNumber}\\.`));
  assert.match(receipt, /\nTotal: 45,00\u00a0€\r?\n/);
  // The scarf's embed is Spanish too: countries it ships to, named in Spanish.
  await host.getByRole("button", { name: "Hecho" }).click();
  const scarf = page.locator(`[data-tweetbuy-host="${SCARF}"]`);
  await scarf.locator("button[part=button]").click();
  // Its seller wrote in English: a screen reader speaks the seller's words in English, and
  // the sheet's own in Spanish (3.1.2 Language of parts).
  await scarf.locator("dialog[open]:not(.tb-waiting)").waitFor();
  const langs = await scarf.locator("dialog").evaluate((d) => ({
    sheet: d.lang,
    title: d.querySelector("#tb-title").lang,
    description: d.querySelector(".tb-description").lang,
    variants: [...d.querySelectorAll(".tb-variant-label")].map((v) => v.lang),
    images: [...d.querySelectorAll(".tb-image")].map((i) => i.lang),
    seller: d.querySelector(".tb-seller").closest("[lang]").lang,
  }));
  assert.deepEqual(langs, { sheet: "es", title: "en", description: "en", variants: langs.variants.map(() => "en"), images: langs.images.map(() => "en"), seller: "es" });
  assert.ok(langs.variants.length > 0 && langs.images.length > 0, JSON.stringify(langs));
  await scarf.getByRole("button", { name: "Continuar" }).click();
  const names = await scarf.locator("#tb-country option").allTextContents();
  assert.deepEqual(names, ["Estados Unidos", "Canadá", "Reino Unido", "Alemania", "Francia"]);
  await context.close();
});

test("pointing at a button builds its sheet hidden, asking nothing; the click shows that same sheet", async () => {
  const { context, page, host, button } = await openDemo(TEE);
  const asked = [];
  page.on("request", (r) => {
    if (r.url().includes("/availability") || r.url().startsWith(env.server.origins.vault)) asked.push(r.url());
  });
  // Passing over another button first: its sheet is built, then taken down for this one's.
  const scarf = page.locator('[data-tweetbuy-host="1528000000000000002"]');
  await scarf.locator('button[part="button"]').hover();
  await scarf.locator("dialog").waitFor({ state: "attached", timeout: 20_000 });
  await button.hover();
  await host.locator("dialog").waitFor({ state: "attached", timeout: 20_000 });
  await page.waitForTimeout(300);
  assert.equal(await scarf.locator("dialog").count(), 0, "one sheet waits built at a time");
  assert.equal(await host.locator("dialog[open]:not(.tb-waiting)").count(), 0, "built, not shown");
  assert.equal(await host.locator("dialog").isVisible(), false);
  assert.deepEqual(asked, [], "a prepared sheet asks the server nothing and loads no frame");
  await host.locator("dialog").evaluate((d) => { d.dataset.prepared = "yes"; });
  await button.click();
  await host.locator("dialog[open]:not(.tb-waiting)").waitFor();
  assert.equal(await host.locator("dialog[open]:not(.tb-waiting)").getAttribute("data-prepared"), "yes", "the click showed the prepared sheet");
  await page.waitForFunction(() => performance.getEntriesByType("resource").some((e) => e.name.includes("/availability")));
  assert.ok(await host.getByRole("dialog").isVisible());
  await context.close();
});

test("closing mid-checkout and reopening keeps what was typed, but not the card", async () => {
  const { context, page, button, host } = await openDemo(TEE);
  await button.click();
  await host.locator("#tb-variant-l").check();
  await host.getByRole("button", { name: "Increase quantity" }).click();
  await host.getByRole("button", { name: "Continue" }).click();
  await fillAddress(host);
  await cardFrame(host).locator("#number").fill(CARD.visa);
  // Escape from inside the vault's frame closes the sheet too.
  assert.equal((await focused(page)).tag, "IFRAME");
  await page.keyboard.press("Escape");
  // Closed; the pointer still over the Buy button may have built a fresh sheet, hidden.
  await host.locator("dialog[open]:not(.tb-waiting)").waitFor({ state: "detached" });
  await button.click();
  assert.equal(await host.locator("#tb-variant-l").isChecked(), true);
  assert.equal(await host.locator("#tb-quantity").inputValue(), "2");
  await host.getByRole("button", { name: "Continue" }).click();
  assert.equal(await host.locator("#tb-email").inputValue(), "jane@example.com");
  assert.equal(await host.locator("#tb-name").inputValue(), "Jane Doe");
  assert.equal(await host.locator("#tb-region").inputValue(), "NY");
  assert.equal(await host.locator("#tb-postal_code").inputValue(), "10001");
  assert.equal(await cardFrame(host).locator("#number").inputValue(), "", "the card is not kept");
  // A reload is a new visit: nothing is kept.
  await page.reload();
  await button.waitFor();
  await button.click();
  await host.getByRole("button", { name: "Continue" }).click();
  assert.equal(await host.locator("#tb-email").inputValue(), "");
  await context.close();
});

test("phone: a full-width bottom sheet with thumb-sized targets, bought with taps, and again with saved info", async () => {
  const { context, page, button, host } = await openDemo(TEE, { viewport: PHONE, touch: true, colorScheme: "dark" });
  let taps = 0;
  const tap = async (locator) => {
    taps++;
    await locator.tap();
  };
  await tap(button);
  const dialog = host.locator("dialog[open]:not(.tb-waiting)");
  await dialog.waitFor();
  await page.waitForTimeout(400); // the slide-up animation
  const box = await dialog.boundingBox();
  assert.ok(Math.abs(box.x) <= 1 && Math.abs(box.width - PHONE.width) <= 1, `full width: ${JSON.stringify(box)}`);
  assert.ok(Math.abs(box.y + box.height - PHONE.height) <= 1, `anchored to the bottom: ${JSON.stringify(box)}`);
  // Whole pixels: a sheet still settling from its opening transform measures 43.99999 px.
  const small = async () =>
    page.evaluate((t) => {
      const root = document.querySelector(`[data-tweetbuy-host="${t}"]`).shadowRoot;
      const targets = root.querySelectorAll("dialog button, dialog select, dialog input:not([type=radio]):not([type=checkbox]), dialog label.tb-variant, dialog label.tb-consent");
      return [...targets]
        .map((el) => ({ el: el.id || el.className || el.tagName, r: el.getBoundingClientRect() }))
        .filter(({ r }) => r.width > 0 && (Math.round(r.height) < 44 || Math.round(r.width) < 44))
        .map(({ el, r }) => `${el} ${r.width}x${r.height}`);
    }, TEE);
  // The same inside a vault frame (its own document).
  const smallInFrame = async (kind) =>
    (await vaultFrame(page, kind)).evaluate(() =>
      [...document.querySelectorAll("button, input[type=text], label.consent")]
        .map((el) => ({ el: el.id || el.className || el.tagName, r: el.getBoundingClientRect() }))
        .filter(({ r }) => r.width > 0 && (Math.round(r.height) < 44 || Math.round(r.width) < 44))
        .map(({ el, r }) => `${el} ${r.width}x${r.height}`));
  assert.deepEqual(await small(), [], "product sheet targets are at least 44×44");
  await tap(host.locator("label.tb-variant", { has: page.locator("#tb-variant-m") }));
  await tap(host.getByRole("button", { name: "Continue" }));
  assert.deepEqual(await small(), [], "checkout targets are at least 44×44");
  const frame = cardFrame(host);
  await frame.locator("#pay").waitFor();
  assert.deepEqual(await smallInFrame("card"), [], "the card frame's targets are at least 44×44");
  const emailBox = await host.locator("#tb-email").boundingBox();
  const payBox = await frame.locator("#pay").boundingBox();
  assert.ok(payBox.width >= emailBox.width - 8, `Pay spans the sheet like its fields: ${JSON.stringify({ payBox, emailBox })}`);
  // Each field is one tap, then typing (autofill would make these fewer).
  const fields = [
    ["#tb-email", "phone@example.com"],
    ["#tb-name", "Pho Ne"],
    ["#tb-line1", "9 Pocket Rd"],
    ["#tb-city", "Denver"],
    ["#tb-postal_code", "80202"],
  ];
  for (const [sel, value] of fields) {
    await tap(host.locator(sel));
    await page.keyboard.type(value);
  }
  taps++; // choosing the state in the native picker
  await host.locator("#tb-region").selectOption("CO");
  // The sheet scrolled as the fields were tapped: the frame takes taps once it has stood still.
  await inView(frame.locator("#number"));
  for (const [sel, value] of [["#number", CARD.visa], ["#expiry", "12/34"], ["#cvc", "123"]]) {
    await tap(frame.locator(sel));
    await page.keyboard.type(value);
  }
  // Saving for next time is a choice, not a step: its tap is counted apart.
  await inView(frame.locator("label.consent"));
  await frame.locator("label.consent").tap();
  assert.equal(await frame.locator("#save").isChecked(), true);
  await tap(await payReady(page));
  await host.locator("[data-order-number]").waitFor({ timeout: 20_000 });
  console.log(`# taps for a first purchase of the tee on a phone: ${taps} (and 1 to save the card and address)`);
  assert.equal(taps, 13, "Buy, size, Continue, 9 fields, Pay");

  // Next time on this device: Buy, size, Pay, with the saved card and address in the saved frame.
  await host.getByRole("button", { name: "Done" }).tap();
  await dialog.waitFor({ state: "detached" });
  taps = 0;
  await tap(button);
  await dialog.waitFor();
  const saved = host.locator("iframe.tb-saved-frame");
  await saved.waitFor({ state: "visible", timeout: 20_000 });
  assert.equal(await host.getByRole("button", { name: "Continue" }).isVisible(), false, "the saved frame takes Continue's place");
  assert.equal(await host.getByRole("button", { name: "Use another card or address" }).isVisible(), true);
  assert.equal(plain(await payFrame(page, "saved").locator("#saved-card").textContent()), "Visa •••• 4242");
  assert.deepEqual(await small(), [], "product sheet targets with saved info are at least 44×44");
  await tap(host.locator("label.tb-variant", { has: page.locator("#tb-variant-m") }));
  assert.deepEqual(await smallInFrame("saved"), [], "the saved frame's targets are at least 44×44");
  await tap(await payReady(page, undefined, "saved"));
  await host.locator("[data-order-number]").waitFor({ timeout: 20_000 });
  assert.equal(plain(await host.locator(".tb-confirmation .tb-ships-to").textContent()), "Ships to your saved address.");
  assert.equal(await host.locator(".tb-receipt").textContent(), "We emailed your receipt.");
  console.log(`# taps for a repeat purchase with saved info on a phone: ${taps}`);
  assert.equal(taps, 3, "Buy, size, Pay");
  await context.close();
});

test("reduced motion: the sheet opens without animation", async () => {
  for (const [reducedMotion, expected] of [["reduce", "none"], ["no-preference", "tb-fade-in"]]) {
    const context = await env.browser.newContext({ viewport: DESKTOP, reducedMotion });
    const page = await context.newPage();
    await page.goto(`${env.server.origins.publisher}/`);
    const host = page.locator(`[data-tweetbuy-host="${TEE}"]`);
    await host.locator("button[part=button]").click();
    await host.locator("dialog[open]:not(.tb-waiting)").waitFor();
    const animation = await page.evaluate(
      (t) => getComputedStyle(document.querySelector(`[data-tweetbuy-host="${t}"]`).shadowRoot.querySelector("dialog")).animationName,
      TEE,
    );
    assert.equal(animation, expected, reducedMotion);
    await context.close();
  }
});

test("forced colours (Windows high contrast): Buy, Continue and Pay keep a border, so they still look like buttons", async () => {
  const { context, page, host, button } = await openDemo(TEE);
  await page.emulateMedia({ forcedColors: "active" });
  const border = (locator) => locator.evaluate((e) => `${getComputedStyle(e).borderTopStyle} ${getComputedStyle(e).borderTopWidth}`);
  assert.equal(await border(button), "solid 1px", "Buy");
  await button.click();
  await host.locator("#tb-variant-m").check();
  const next = host.getByRole("button", { name: "Continue" });
  assert.equal(await border(next), "solid 1px", "Continue");
  await next.click();
  const frame = await vaultFrame(page);
  await frame.locator("#pay").waitFor({ state: "attached" }); // the vault's page, not the iframe's first blank one
  await frame.waitForFunction(() => document.readyState === "complete"); // its stylesheet loaded
  // The card frame is another site's, drawn by a process of its own, which the page's emulated
  // media does not reach (a system setting reaches every process): emulated there too.
  const cdp = await context.newCDPSession(frame);
  await cdp.send("Emulation.setEmulatedMedia", { features: [{ name: "forced-colors", value: "active" }] });
  assert.equal(await frame.locator("html").evaluate(() => matchMedia("(forced-colors: active)").matches), true);
  assert.equal(await border(frame.locator("#pay")), "solid 1px", "Pay");
  // And not otherwise: the border is forced colours' only.
  await page.emulateMedia({ forcedColors: "none" });
  assert.equal(await border(button), "none 0px");
  await cdp.send("Emulation.setEmulatedMedia", { features: [{ name: "forced-colors", value: "none" }] });
  assert.equal(await border(frame.locator("#pay")), "none 0px", "Pay, without forced colours");
  await context.close();
});

test("axe-core: 0 violations and screenshots for every state, light and dark, desktop and phone", async () => {
  for (const [size, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
    for (const scheme of ["light", "dark"]) {
      const tag = `${size}-${scheme}`;
      const { context, page, button, host, consoleSeen } = await openDemo(TEE, { viewport, colorScheme: scheme });
      await axe(page, TEE, `button ${tag}`);
      await button.scrollIntoViewIfNeeded();
      await shot(page, `button-${tag}`);
      await button.click();
      await host.locator("dialog[open]:not(.tb-waiting)").waitFor();
      await page.waitForTimeout(300);
      await axe(page, TEE, `product sheet ${tag}`);
      await shot(page, `product-${tag}`);
      await host.locator("#tb-variant-m").check();
      await host.getByRole("button", { name: "Continue" }).click();
      const emptyPay = await payReady(page, "^Pay$");
      await axe(page, TEE, `empty checkout ${tag}`);
      await axeCardFrame(page, tag);
      // Pay in the frame with nothing filled in: the page shows what to fix.
      await emptyPay.click();
      await failureText(page, TEE);
      await axe(page, TEE, `checkout with errors ${tag}`);
      await shot(page, `checkout-errors-${tag}`);
      await fillAddress(host);
      await fillCard(host, CARD.visa);
      await inView(payFrame(page).locator("#save"));
      await tickInFrame(payFrame(page).locator("#save")); // for the saved-info state below
      const pay = await payReady(page);
      await host.locator("iframe.tb-card-frame").evaluate((f) => f.scrollIntoView({ block: "end" }));
      await axe(page, TEE, `filled checkout ${tag}`);
      await shot(page, `checkout-${tag}`);
      await pay.click();
      await host.locator("[data-order-number]").waitFor({ timeout: 20_000 });
      await axe(page, TEE, `confirmation ${tag}`);
      await shot(page, `confirmation-${tag}`);
      // Next time on this device, the product sheet has the saved frame in Continue's place.
      await host.getByRole("button", { name: "Done" }).click();
      await host.locator("dialog[open]:not(.tb-waiting)").waitFor({ state: "detached" });
      await button.click();
      await host.locator("iframe.tb-saved-frame").waitFor({ state: "visible", timeout: 20_000 });
      await payReady(page, undefined, "saved");
      await axe(page, TEE, `product sheet with saved info ${tag}`);
      await shot(page, `product-saved-${tag}`);
      assert.deepEqual(realErrors(consoleSeen), []);
      await context.close();

      for (const [tweet, name] of [[SOLD_OUT, "sold-out"], [ENDED, "ended"], [TICKET, "ticket"], [CONCIERTO, "spanish"]]) {
        const other = await openDemo(tweet, { viewport, colorScheme: scheme });
        await other.button.click();
        await other.host.locator("dialog[open]:not(.tb-waiting)").waitFor();
        await other.page.waitForTimeout(300);
        await axe(other.page, tweet, `${name} product sheet ${tag}`);
        await shot(other.page, `${name}-${tag}`);
        await other.context.close();
      }
    }
  }
});

test("sale ended meanwhile: the sale closes while the visitor checks out", async () => {
  const { context, page, button, host } = await openDemo(TICKET);
  await button.click();
  await host.getByRole("button", { name: "Continue" }).click();
  await host.locator("#tb-email").fill("late@example.com");
  await fillCard(host, CARD.visa);
  const pay = await payReady(page);
  sqlWrite("UPDATE products SET sale_ends_at = ? WHERE id = 'demi-fall-tour-ticket'", [Math.floor(Date.now() / 1000) - 1]);
  await pay.click();
  assert.match(await failureText(page, TICKET), /Sorry, this sale has ended\. You have not been charged\./);
  assert.match(await frameStatus(page, /ended/), /^This sale has ended\.$/);
  assert.equal(await host.locator("#tb-email").inputValue(), "late@example.com");
  // The checkout step itself says so, where its countdown was.
  await host.locator(".tb-unavailable").filter({ hasText: /This sale has ended/ }).waitFor({ timeout: 20_000 });
  assert.equal(await host.getByRole("timer").count(), 0);
  await shot(page, "checkout-sale-ended-meanwhile-desktop-light");
  await host.getByRole("button", { name: "Back" }).click();
  await host.locator(".tb-unavailable").filter({ hasText: /This sale has ended/ }).waitFor({ timeout: 20_000 });
  assert.equal(await host.getByRole("timer").count(), 0, "no countdown once ended");
  await context.close();
});
