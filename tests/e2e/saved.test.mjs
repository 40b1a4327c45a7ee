// The widget side of saved buyer info: a real purchase with the tee, "Save my card
// and shipping address" ticked on the confirmation, then on fresh page loads a repeat
// purchase in two taps (Buy, Pay), a changed card through "Use another card or address",
// and "Remove my saved info", after which a saved-card token minted earlier no longer pays.
// axe-core runs on each new state, and each is screenshotted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { useServerAndBrowser, sql, watchConsole, axe, fillTeeDetails, ARTIFACTS } from "./harness.mjs";

const TEE = "1528000000000000001";
const ADMIN = "admin-key-for-the-saved-info-e2e-suite"; // 32 bytes at least, or the server refuses it
const VISA = "4242 4242 4242 4242";
const MASTERCARD = "5555 5555 5555 4444";

let context;
const orderBodies = []; // every order request the widget sent
const env = useServerAndBrowser({
  serverEnv: { TWEETBUY_ADMIN_KEY: ADMIN },
  setup: async ({ browser }) => {
    context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
    context.on("request", (r) => {
      if (r.url().endsWith("/api/v1/orders") && r.method() === "POST") orderBodies.push(JSON.parse(r.postData() || "{}"));
    });
  },
});

const vaultDb = () => join(env.server.dataDir, "vault.db");

/** A fresh page load of the demo publisher; returns the page and a tap counter. */
async function openPublisher() {
  const page = await context.newPage();
  const consoleSeen = watchConsole(page);
  await page.goto(`${env.server.origins.publisher}/`);
  const buy = page.locator(`[data-tweetbuy-host="${TEE}"] button[part="button"]`);
  await buy.waitFor({ state: "visible", timeout: 20_000 });
  const taps = [];
  const tap = async (locator, name) => {
    taps.push(name);
    await locator.click();
  };
  return { page, buy, taps, tap, consoleSeen };
}

/** Waits until the saved-info lookup has answered (the product step shows either the
 *  saved block or Continue, and the saved frame has replied). */
async function settled(page) {
  await page.waitForFunction((tee) => {
    const root = document.querySelector(`[data-tweetbuy-host="${tee}"]`)?.shadowRoot;
    return root && (root.querySelector("button[part=pay-saved]:not([disabled])") || root.querySelector(".tb-product > button.tb-primary"));
  }, TEE, { timeout: 15_000 });
}

async function fillCheckout(page, card, cvc) {
  await fillTeeDetails(page, card, { cvc });
  await page.waitForFunction((tee) => {
    const b = document.querySelector(`[data-tweetbuy-host="${tee}"]`)?.shadowRoot?.querySelector("button[part=pay]");
    return b && !b.disabled && /\$/.test(b.textContent);
  }, TEE, { timeout: 15_000 });
  await page.locator("button[part=pay]").click();
  await page.locator("[data-order-number]").waitFor({ timeout: 20_000 });
}

/** A saved-card token minted through the vault frame on a publisher-origin page, as the
 *  payments test does it (for the "removed token fails" check). */
async function mintSavedToken() {
  const page = await context.newPage();
  await page.goto(`${env.server.origins.publisher}/`);
  const reply = await page.evaluate((vault) => new Promise((resolve, reject) => {
    const f = document.createElement("iframe");
    f.src = `${vault}/frame?mode=saved`;
    document.body.prepend(f);
    f.addEventListener("load", () => {
      const timer = setTimeout(() => reject(new Error("no reply")), 15000);
      addEventListener("message", function on(e) {
        if (e.origin !== vault || e.source !== f.contentWindow) return;
        const data = JSON.parse(e.data);
        if (data.request_id !== "stale") return;
        removeEventListener("message", on);
        clearTimeout(timer);
        resolve(data);
      });
      f.contentWindow.postMessage(JSON.stringify({ type: "pay_saved", v: 1, request_id: "stale" }), vault);
    });
  }), env.server.origins.vault);
  await page.close();
  return reply;
}

test("saved info in the widget: save, two-tap repeat purchase, change card, remove", async () => {
  // 1. First purchase with a typed card; the confirmation offers to save, unticked.
  const first = await openPublisher();
  await first.buy.click();
  await settled(first.page);
  assert.equal(await first.page.locator("button[part=pay-saved]").count(), 0, "nothing saved yet");
  await first.page.getByRole("button", { name: "Continue" }).click();
  await fillCheckout(first.page, VISA, "123");
  const save = first.page.getByRole("checkbox", { name: "Save my card and shipping address for faster checkout" });
  assert.equal(await save.isChecked(), false, "the save box starts unticked");
  await axe(first.page, TEE, "confirmation with the save offer");
  await save.check();
  const saveButton = first.page.getByRole("button", { name: "Save", exact: true });
  await saveButton.waitFor();
  await axe(first.page, TEE, "confirmation, save ticked");
  await first.page.screenshot({ path: join(ARTIFACTS, "saved-0-confirmation-ticked.png") });
  await saveButton.click();
  const status = first.page.locator(".tb-save-status");
  await first.page.waitForFunction((tee) =>
    /Saved\./.test(document.querySelector(`[data-tweetbuy-host="${tee}"]`)?.shadowRoot?.querySelector(".tb-save-status")?.textContent || ""), TEE, { timeout: 15_000 });
  assert.equal((await status.textContent()).trim(), "Saved. Next time: Pay with Visa •••• 4242, ship to J. Doe, 10001.");
  assert.equal(await status.evaluate((el) => el.getRootNode().activeElement === el), true, "focus moves to the result");
  await axe(first.page, TEE, "confirmation, saved");
  await first.page.screenshot({ path: join(ARTIFACTS, "saved-1-confirmation-saved.png") });
  // The credential stays on the vault origin; the page's own storage has nothing.
  assert.deepEqual(await first.page.evaluate(() => Object.keys(localStorage).filter((k) => k.includes("tweetbuy"))), []);
  await first.page.close();
  assert.deepEqual(sql(vaultDb(), "SELECT count(*) FROM profiles"), [[1]]);

  // 2. Fresh page load: two taps, Buy then Pay.
  const second = await openPublisher();
  await second.tap(second.buy, "Buy");
  const paySaved = second.page.locator("button[part=pay-saved]");
  await paySaved.waitFor({ state: "visible", timeout: 15_000 });
  await second.page.waitForFunction((tee) => {
    const b = document.querySelector(`[data-tweetbuy-host="${tee}"]`)?.shadowRoot?.querySelector("button[part=pay-saved]");
    return b && !b.disabled;
  }, TEE);
  assert.equal((await second.page.locator(".tb-saved-summary").textContent()).trim(), "Pay with Visa •••• 4242, ship to J. Doe, 10001");
  assert.equal(await second.page.getByRole("button", { name: "Continue" }).count(), 0, "no Continue step on the saved path");
  const box = await paySaved.boundingBox();
  assert.ok(box.height >= 44, `Pay is a 44px target (${box.height})`);
  await axe(second.page, TEE, "product sheet with saved info");
  await paySaved.scrollIntoViewIfNeeded();
  await second.page.screenshot({ path: join(ARTIFACTS, "saved-2-product-saved.png") });
  await second.tap(second.page.getByRole("button", { name: "Pay", exact: true }), "Pay");
  await second.page.locator("[data-order-number]").waitFor({ timeout: 20_000 }).catch(async (e) => {
    await second.page.screenshot({ path: join(ARTIFACTS, "saved-debug.png") });
    throw new Error(`${e.message}\n${await second.page.locator(".tb-saved").textContent()}\n${JSON.stringify(orderBodies.at(-1))}\n${env.server.log().split("\n").slice(-15).join("\n")}`);
  });
  assert.deepEqual(second.taps, ["Buy", "Pay"], "two taps");
  const confirmation = await second.page.locator(".tb-confirmation").textContent();
  assert.match(confirmation, /Visa •••• 4242/);
  assert.match(confirmation, /Ships to Jane Doe, 1 Main St, New York NY 10001/);
  assert.match(confirmation, /jane@example\.com/);
  assert.equal(await second.page.locator("#tb-save-info").count(), 0, "a saved card is not offered for saving again");
  await axe(second.page, TEE, "confirmation after a saved purchase");
  await second.page.screenshot({ path: join(ARTIFACTS, "saved-3-confirmation-two-taps.png") });
  const savedOrder = orderBodies.at(-1);
  assert.match(savedOrder.card_token, /^sav_/);
  assert.equal(savedOrder.email, "", "the page sends no email: the api takes the saved one");
  assert.equal(savedOrder.shipping ?? null, null, "nor an address");
  assert.deepEqual(second.consoleSeen.filter((m) => m.type === "pageerror" || (m.type === "error" && !/Failed to load resource/.test(m.text))), []);
  await second.page.close();

  // 3. Change the card: "Use another card or address" opens the normal form.
  const third = await openPublisher();
  await third.buy.click();
  await third.page.locator("button[part=pay-saved]").waitFor({ timeout: 15_000 });
  await third.page.getByRole("button", { name: "Use another card or address" }).click();
  await fillCheckout(third.page, MASTERCARD, "456");
  assert.match(await third.page.locator(".tb-confirmation").textContent(), /Mastercard •••• 4444/);
  assert.equal(await third.page.locator("#tb-save-info").isChecked(), false, "offered again, unticked; left unticked");
  await third.page.close();

  // 4. The saved card is still 4242; remove it from inside the widget.
  const stale = await mintSavedToken();
  assert.match(stale.card.token, /^sav_/);
  const fourth = await openPublisher();
  await fourth.buy.click();
  await fourth.page.locator("button[part=pay-saved]").waitFor({ timeout: 15_000 });
  assert.match(await fourth.page.locator(".tb-saved-summary").textContent(), /Visa •••• 4242/);
  await fourth.page.getByRole("button", { name: "Remove my saved info" }).click();
  const cont = fourth.page.getByRole("button", { name: "Continue" });
  await cont.waitFor({ timeout: 15_000 });
  assert.equal(await fourth.page.locator("button[part=pay-saved]").count(), 0, "back to the normal form");
  assert.match(await fourth.page.locator(".tb-saved-notice").textContent(), /removed/);
  await fourth.page.waitForFunction((tee) => {
    const root = document.querySelector(`[data-tweetbuy-host="${tee}"]`)?.shadowRoot;
    return root?.activeElement?.textContent?.trim() === "Continue";
  }, TEE, { timeout: 5_000 });
  await axe(fourth.page, TEE, "product sheet after removal");
  await cont.scrollIntoViewIfNeeded();
  await fourth.page.screenshot({ path: join(ARTIFACTS, "saved-4-removed.png") });
  await fourth.page.close();
  assert.deepEqual(sql(vaultDb(), "SELECT count(*) FROM profiles"), [[0]]);
  assert.deepEqual(sql(vaultDb(), "SELECT count(*) FROM cards WHERE reusable = 1 AND length(ciphertext) > 0"), [[0]]);

  // A saved-card token minted before the removal no longer pays.
  const res = await fetch(`${env.server.origins.api}/api/v1/orders`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": crypto.randomUUID(), origin: env.server.origins.publisher },
    body: JSON.stringify({ product_id: "red-tee", variant_id: "m", quantity: 1, card_token: stale.card.token, email: "" }),
  });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).code, "token_invalid");

  // And a fresh page load shows the normal form.
  const fifth = await openPublisher();
  await fifth.buy.click();
  await settled(fifth.page);
  await fifth.page.waitForTimeout(500);
  assert.equal(await fifth.page.locator("button[part=pay-saved]").count(), 0);
  await fifth.page.close();
});
