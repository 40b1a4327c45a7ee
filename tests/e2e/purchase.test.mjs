// The skeleton purchase: one real purchase through every layer, in headless Chromium,
// against the real server on three origins.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { useServerAndBrowser, sql, dbFiles, watchConsole, fillTeeCheckout, waitForPay, payFrame, CARDS, ARTIFACTS } from "./harness.mjs";

const TEE = "1528000000000000001";

const env = useServerAndBrowser();

/** Opens the demo page and waits for the tee's Buy button. */
async function openDemo() {
  const page = await env.browser.newPage({ viewport: { width: 1024, height: 900 } });
  const consoleSeen = watchConsole(page);
  const requests = [];
  page.on("request", (r) => requests.push({ url: r.url(), body: r.postData() || "" }));
  await page.goto(`${env.server.origins.publisher}/`);
  const button = page.locator(`[data-tweetbuy-host="${TEE}"] button[part="button"]`);
  await button.waitFor({ state: "visible", timeout: 20_000 });
  return { page, button, consoleSeen, requests };
}

const fillCheckout = fillTeeCheckout;

function digits(card) {
  return card.replace(/\s/g, "");
}

test("a visitor buys the (RED) tee with a test card and sees the order number", async () => {
  const { page, button, consoleSeen, requests } = await openDemo();
  assert.equal(await button.textContent(), "Buy · $30.00");
  // Tweet 20 has no offer: nothing is attached to it.
  assert.equal(await page.locator('[data-tweetbuy-host="20"]').count(), 0);
  assert.equal(await page.locator('blockquote[data-tweetbuy-attached="20"]').count(), 0);
  await page.screenshot({ path: join(ARTIFACTS, "demo-page.png"), fullPage: true });

  await button.click();
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  await page.screenshot({ path: join(ARTIFACTS, "product-sheet.png") });
  await fillCheckout(page, CARDS.visa);
  // Pay is inside the vault's frame: $30.00 + $5.00 shipping + NY tax on the subtotal, all
  // computed by the server for the intent the frame shows, with where it ships.
  const pay = await waitForPay(page, TEE);
  const payText = await pay.textContent();
  assert.match(payText, /^Pay \$\d+\.\d\d$/);
  assert.match(await payFrame(page).locator("#ships-to").textContent(), /^Ships to Jane Doe, 1 Main St, New York, NY 10001, US$/);
  await page.screenshot({ path: join(ARTIFACTS, "checkout-sheet.png") });
  await pay.click();

  const number = page.locator("[data-order-number]");
  await number.waitFor({ timeout: 20_000 });
  const orderNumber = (await number.textContent()).trim();
  assert.match(orderNumber, /^TB-[A-Z0-9]{4,}$/);
  await page.screenshot({ path: join(ARTIFACTS, "confirmation.png") });

  // The order is in the api's database, with only the brand and last four digits.
  const apiDb = join(env.server.dataDir, "api.db");
  const rows = sql(apiDb, "SELECT status, card_brand, card_last4, quantity, email FROM orders WHERE order_number = ?", [orderNumber]);
  assert.deepEqual(rows, [["paid", "visa", "4242", 1, "jane@example.com"]]);

  // The card number never reached the publisher page's requests to the api, the api's
  // database files, or the server log.
  const cardForms = [digits(CARDS.visa), CARDS.visa];
  for (const r of requests.filter((r) => r.url.startsWith(env.server.origins.api))) {
    for (const form of cardForms) assert.ok(!r.body.includes(form), `request to ${r.url} carries the card number`);
  }
  // The frame, not the page, sends the order: its token never passes through the page.
  const orders = requests.filter((r) => r.url === `${env.server.origins.api}/api/v1/orders`);
  assert.equal(orders.length, 1, "one order request");
  assert.ok(orders[0].body.includes("tok_") && orders[0].body.includes("pi_"), "it names the intent and its token");
  for (const file of dbFiles(env.server.dataDir, "api.db")) {
    const bytes = readFileSync(file).toString("latin1");
    for (const form of cardForms) assert.ok(!bytes.includes(form), `${file} holds the card number`);
  }
  const log = env.server.log();
  for (const form of cardForms) assert.ok(!log.includes(form), "the server log holds the card number");
  const errors = consoleSeen.filter((m) => m.type === "error" || m.type === "pageerror");
  assert.deepEqual(errors.filter((e) => !/platform\.twitter\.com|ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|net::/.test(e.text)), []);
  await page.close();
});

test("the publisher page cannot read the card frame", async () => {
  const { page, button } = await openDemo();
  await button.click();
  await page.getByRole("button", { name: "Continue" }).click();
  const frame = page.frameLocator("iframe.tb-card-frame");
  await frame.locator("#number").fill(CARDS.visa);
  // A script on the publisher page trying to read into the frame is stopped by the
  // browser's same-origin policy.
  const attempt = await page.evaluate(() => {
    const host = document.querySelector('[data-tweetbuy-host="1528000000000000001"]');
    const iframe = host.shadowRoot.querySelector("iframe.tb-card-frame");
    try {
      return iframe.contentWindow.document.querySelector("#number").value;
    } catch (e) {
      return `blocked: ${e.name}`;
    }
  });
  assert.equal(attempt, "blocked: SecurityError");
  assert.equal(new URL(await page.locator("iframe.tb-card-frame").getAttribute("src")).origin, env.server.origins.vault);
  await page.close();
});

test("a declined card shows a clear message and creates no paid order", async () => {
  const paidBefore = sql(join(env.server.dataDir, "api.db"), "SELECT count(*) FROM orders WHERE status = 'paid'")[0][0];
  const { page } = await openDemo();
  await page.locator(`[data-tweetbuy-host="${TEE}"] button[part="button"]`).click();
  await fillCheckout(page, CARDS.declined);
  await (await waitForPay(page, TEE)).click();
  // The frame says why, next to Pay.
  const status = payFrame(page).locator("#status", { hasText: /declined/i });
  await status.waitFor({ timeout: 20_000 });
  // What the visitor typed is still there.
  assert.equal(await page.locator("#tb-email").inputValue(), "jane@example.com");
  assert.equal(await page.locator("#tb-postal_code").inputValue(), "10001");
  await page.screenshot({ path: join(ARTIFACTS, "declined.png") });
  const apiDb = join(env.server.dataDir, "api.db");
  const paidAfter = sql(apiDb, "SELECT count(*) FROM orders WHERE status = 'paid'")[0][0];
  assert.equal(paidAfter, paidBefore, "no new paid order");
  const declined = sql(apiDb, "SELECT count(*) FROM orders WHERE status = 'declined' AND decline_code = 'card_declined'")[0][0];
  assert.equal(declined, 1);
  await page.close();
});
