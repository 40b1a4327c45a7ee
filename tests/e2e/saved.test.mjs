// The widget side of saved buyer info: a real purchase with the tee, "Save my card and
// address" ticked inside the vault's payment frame, then on fresh page loads a repeat
// purchase in three taps (Buy, size, Pay, with Pay inside the saved-info frame), a changed
// card through "Use another card or address", and "Remove my saved info" (inside the frame),
// after which the page shows the normal form again. The page never learns the saved card,
// email or address. axe-core runs on each new state, and each is screenshotted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { useServerAndBrowser, sql, sqlWrite, watchConsole, axe, axeDocument, fillTeeDetails, pressPay, payFrame, inView, tickInFrame, ARTIFACTS } from "./harness.mjs";

const TEE = "1528000000000000001";
const SOLD_OUT = "1528000000000000005";
const ADMIN = "admin-key-for-the-saved-info-e2e-suite"; // 32 bytes at least, or the server refuses it
const VISA = "4242 4242 4242 4242";
const MASTERCARD = "5555 5555 5555 4444";

let context;
const orderBodies = []; // every order request sent from any page or frame
const toPage = []; // every message a frame posted to the publisher's page
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
const apiDb = () => join(env.server.dataDir, "api.db");

/** A fresh page load of the demo publisher; returns the page and a tap counter. */
async function openPublisher() {
  const page = await context.newPage();
  const consoleSeen = watchConsole(page);
  await page.addInitScript((vault) => {
    addEventListener("message", (e) => { if (e.origin === vault) window.__fromVault = [...(window.__fromVault || []), String(e.data)]; });
  }, env.server.origins.vault);
  await page.goto(`${env.server.origins.publisher}/`);
  const buy = page.locator(`[data-tweetbuy-host="${TEE}"] button[part="button"]`);
  await buy.waitFor({ state: "visible", timeout: 20_000 });
  const taps = [];
  const tap = async (locator, name) => {
    taps.push(name);
    if (name === "Pay") await inView(locator);
    await locator.click();
  };
  const close = async () => {
    toPage.push(...((await page.evaluate(() => window.__fromVault)) || []));
    await page.close();
  };
  return { page, buy, taps, tap, consoleSeen, close };
}

/** Waits until the product step shows either the saved-info frame's Pay or Continue. */
async function settled(page) {
  const saved = payFrame(page, "saved").locator("#pay");
  const cont = page.locator("dialog[open]:not(.tb-waiting)").getByRole("button", { name: "Continue" });
  await Promise.race([saved.waitFor({ timeout: 15_000 }), cont.waitFor({ timeout: 15_000 })]);
}

/**
 * Waits until the saved-info frame has priced the cart and written what Pay pays for: the
 * frame has then settled, so a press lands on what the buyer sees, however slow the machine.
 */
const settledSavedFrame = (frame) => frame.locator("#ships-to", { hasText: "Ships to" }).waitFor({ timeout: 15_000 });

/** A purchase with a typed Visa and "Save my card and address" ticked inside the frame,
 * unticked until the buyer ticks it; returns the page, on its confirmation, saved. */
async function buyAndSave() {
  const first = await openPublisher();
  await first.buy.click();
  await settled(first.page);
  assert.equal(await first.page.locator("iframe.tb-saved-frame:visible").count(), 0, "nothing saved yet");
  await first.page.getByRole("button", { name: "Continue" }).click();
  await fillTeeDetails(first.page, VISA);
  const save = payFrame(first.page).getByRole("checkbox", { name: "Save my card and address for next time" });
  assert.equal(await save.isChecked(), false, "the save box starts unticked");
  await inView(save);
  await tickInFrame(save);
  await pressPay(first.page, TEE);
  await first.page.locator("[data-order-number]").waitFor({ timeout: 20_000 });
  await first.page.waitForFunction(() => (window.__fromVault || []).some((m) => m.includes('"type":"saved"') && m.includes('"saved":true')), null, { timeout: 15_000 });
  return first;
}

test("saved info in the widget: save, a three-tap repeat purchase, change card, remove", async () => {
  // 1. First purchase with a typed card, saved.
  const first = await buyAndSave();
  await axe(first.page, TEE, "confirmation after saving");
  await first.page.screenshot({ path: join(ARTIFACTS, "saved-1-confirmation-saved.png") });
  // The credential stays on the vault origin; the page's own storage has nothing.
  assert.deepEqual(await first.page.evaluate(() => Object.keys(localStorage).filter((k) => k.includes("tweetbuy"))), []);
  await first.close();
  assert.deepEqual(sql(vaultDb(), "SELECT count(*) FROM profiles"), [[1]]);

  // 2. Fresh page load: three taps, Buy, a size, then Pay inside the saved-info frame.
  const second = await openPublisher();
  await second.tap(second.buy, "Buy");
  const frame = payFrame(second.page, "saved");
  await frame.locator("#saved-card").waitFor({ timeout: 15_000 });
  assert.equal((await frame.locator("#saved-card").textContent()).trim(), "Visa •••• 4242");
  assert.equal(await second.page.getByRole("button", { name: "Continue" }).isVisible(), false, "no Continue step on the saved path");
  await second.tap(second.page.locator("dialog[open]:not(.tb-waiting) .tb-variant", { hasText: /^L/ }), "L");
  await frame.locator("#ships-to", { hasText: "Ships to Jane Doe, 1 Main St, New York, NY 10001, US" }).waitFor({ timeout: 15_000 });
  assert.match(await frame.locator("#pays-to").textContent(), /\(L\)/, "the frame shows the size chosen");
  const pay = frame.locator("#pay[aria-disabled='false']");
  await pay.waitFor({ timeout: 15_000 });
  const box = await pay.boundingBox();
  assert.ok(box.height >= 44, `Pay is a 44px target (${box.height})`);
  await axe(second.page, TEE, "product sheet with saved info");
  await second.page.locator("iframe.tb-saved-frame").scrollIntoViewIfNeeded();
  await second.page.screenshot({ path: join(ARTIFACTS, "saved-2-product-saved.png") });
  await second.tap(pay, "Pay");
  await second.page.locator("[data-order-number]").waitFor({ timeout: 20_000 });
  assert.deepEqual(second.taps, ["Buy", "L", "Pay"], "three taps");
  const confirmation = await second.page.locator(".tb-confirmation").textContent();
  assert.match(confirmation, /Visa •••• 4242/);
  assert.match(confirmation, /Ships to your saved address\./);
  assert.match(confirmation, /We emailed your receipt\./);
  assert.ok(!confirmation.includes("jane@example.com") && !confirmation.includes("1 Main St"), "the page never had them");
  await axe(second.page, TEE, "confirmation after a saved purchase");
  await second.page.screenshot({ path: join(ARTIFACTS, "saved-3-confirmation-three-taps.png") });
  const savedOrder = orderBodies.at(-1);
  assert.deepEqual(Object.keys(savedOrder).sort(), ["card_token", "client_secret", "intent_id", "lang"], "the order names its intent, and the language of its receipt");
  assert.equal(savedOrder.lang, "en");
  assert.match(savedOrder.card_token, /^sav_/);
  const [row] = sql(apiDb(), "SELECT email, variant_id, status FROM orders WHERE intent_id = ?", [savedOrder.intent_id]);
  assert.deepEqual(row, ["jane@example.com", "l", "paid"], "shipped to the saved address and email, in the size chosen");
  assert.deepEqual(second.consoleSeen.filter((m) => m.type === "pageerror" || (m.type === "error" && !/Failed to load resource/.test(m.text))), []);
  await second.close();

  // 2b. A slow vault: the saved-info frame waits for its answer, however long, and is not
  //     loaded again meanwhile (a card frame that does not come is; this one is not needed
  //     to pay).
  const slow = await openPublisher();
  let savedFrames = 0;
  slow.page.on("framenavigated", (frame) => {
    if (frame.name() === "tweetbuy-saved" && new URL(frame.url()).pathname === "/frame") savedFrames += 1;
  });
  await slow.page.route((url) => url.pathname === "/v1/profile", (route) => setTimeout(() => route.continue(), 12_000));
  await slow.buy.click();
  await payFrame(slow.page, "saved").locator("#saved-card").waitFor({ timeout: 30_000 });
  assert.equal(savedFrames, 1, "the saved-info frame was loaded once");
  await slow.close();

  // 3. Change the card: "Use another card or address" opens the normal form.
  const third = await openPublisher();
  await third.buy.click();
  await settledSavedFrame(payFrame(third.page, "saved"));
  await third.page.getByRole("button", { name: "Use another card or address" }).click();
  await fillTeeDetails(third.page, MASTERCARD, { cvc: "456" });
  await pressPay(third.page, TEE);
  await third.page.locator("[data-order-number]").waitFor({ timeout: 20_000 });
  assert.match(await third.page.locator(".tb-confirmation").textContent(), /Mastercard •••• 4444/);
  await third.close();

  // 4. The saved card is still 4242; remove it, with the button inside the frame.
  //    The cart is priced a moment late here: the saved card shows first, and Pay and
  //    Remove must not move when what Pay pays for is written above them.
  const fourth = await openPublisher();
  await fourth.page.route(/\/api\/v1\/intents$/, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 800));
    await route.continue();
  });
  await fourth.buy.click();
  const inFrame = payFrame(fourth.page, "saved");
  await inFrame.locator("#saved-card", { hasText: "Visa •••• 4242" }).waitFor({ timeout: 15_000 });
  const buttonTops = () => inFrame.locator("#pay-panel").evaluate((panel) =>
    [panel.querySelector("#ships-to").textContent, ...["#pay", "#remove"].map((b) => panel.querySelector(b).getBoundingClientRect().top)]);
  const [shipsToBefore, ...before] = await buttonTops();
  assert.equal(shipsToBefore, "", "measured before the cart is priced");
  await settledSavedFrame(inFrame);
  const [, ...after] = await buttonTops();
  assert.deepEqual(after, before, "Pay and Remove stay where they were");
  await inView(inFrame.getByRole("button", { name: "Remove my saved info" }));
  await inFrame.getByRole("button", { name: "Remove my saved info" }).click();
  const cont = fourth.page.getByRole("button", { name: "Continue" });
  await cont.waitFor({ state: "visible", timeout: 15_000 });
  assert.match(await fourth.page.locator(".tb-saved-notice").textContent(), /removed/);
  await fourth.page.waitForFunction((tee) => {
    const root = document.querySelector(`[data-tweetbuy-host="${tee}"]`)?.shadowRoot;
    return root?.activeElement?.textContent?.trim() === "Continue";
  }, TEE, { timeout: 5_000 });
  await axe(fourth.page, TEE, "product sheet after removal");
  await cont.scrollIntoViewIfNeeded();
  await fourth.page.screenshot({ path: join(ARTIFACTS, "saved-4-removed.png") });
  await fourth.close();
  assert.deepEqual(sql(vaultDb(), "SELECT count(*) FROM profiles"), [[0]]);
  assert.deepEqual(sql(vaultDb(), "SELECT count(*) FROM cards WHERE reusable = TRUE AND length(ciphertext) > 0"), [[0]]);

  // And a fresh page load shows the normal form.
  const fifth = await openPublisher();
  await fifth.buy.click();
  await settled(fifth.page);
  await fifth.page.waitForTimeout(500);
  assert.equal(await fifth.page.getByRole("button", { name: "Continue" }).isVisible(), true);
  await fifth.close();

  // Through all of it, nothing the frames told the page carried the saved card, email,
  // address, a token or a credential.
  assert.ok(toPage.length > 0, "the frames' messages were captured");
  for (const secret of ["4242", "4444", "jane@example.com", "Jane Doe", "10001", "tok_", "sav_", "cred_"]) {
    const leaked = toPage.filter((m) => !m.includes('"type":"paid"')).find((m) => m.includes(secret));
    assert.equal(leaked, undefined, `a message to the page carried ${secret}`);
  }
});

test("saved info is offered only where something can be bought: not on a sold-out offer, nor once the option chosen sells out", async () => {
  await (await buyAndSave()).close();
  const { page, close } = await openPublisher();
  const sheet = (tweet) => page.locator(`[data-tweetbuy-host="${tweet}"] dialog[open]:not(.tb-waiting)`);

  // A sold-out offer: no saved card and Pay to press for nothing, but Continue, disabled, as
  // for a buyer with nothing saved.
  await page.locator(`[data-tweetbuy-host="${SOLD_OUT}"] button[part="button"]`).click();
  const soldOut = sheet(SOLD_OUT);
  // Its saved-info frame has read what is saved.
  await soldOut.frameLocator("iframe.tb-saved-frame").locator("#saved-card", { hasText: "4242" }).waitFor({ state: "attached", timeout: 15_000 });
  await soldOut.getByRole("button", { name: "Continue" }).waitFor({ state: "visible", timeout: 15_000 });
  assert.equal(await soldOut.getByRole("button", { name: "Continue" }).isDisabled(), true);
  assert.equal(await soldOut.locator(".tb-saved").isVisible(), false, "no saved info to pay with");
  await page.keyboard.press("Escape");

  // The tee, size L, ready to pay with saved info; the buyer's focus on Pay in its frame.
  const tee = page.locator(`[data-tweetbuy-host="${TEE}"]`);
  await tee.locator('button[part="button"]').click();
  await sheet(TEE).locator(".tb-variant", { hasText: /^L/ }).click();
  const frame = payFrame(page, "saved");
  await frame.locator("#pays-to", { hasText: "(L)" }).waitFor({ timeout: 15_000 });
  await frame.locator("#pay").focus();
  // Meanwhile L sells out; the sheet hears it from its next look at the stock.
  const [[left]] = sql(apiDb(), "SELECT stock FROM variants WHERE product_id = 'red-tee' AND id = 'l'");
  sqlWrite(apiDb(), "UPDATE variants SET stock = 0 WHERE product_id = 'red-tee' AND id = 'l'");
  try {
    const cont = sheet(TEE).getByRole("button", { name: "Continue" });
    await cont.waitFor({ state: "visible", timeout: 25_000 });
    assert.equal(await cont.isDisabled(), true);
    assert.equal(await sheet(TEE).locator(".tb-saved").isVisible(), false, "the saved info is gone with it");
    assert.match(await sheet(TEE).locator(".tb-unavailable").textContent(), /This option is sold out/);
    await page.waitForFunction((tee) => document.querySelector(`[data-tweetbuy-host="${tee}"]`).shadowRoot.activeElement?.id === "tb-title", TEE, { timeout: 5_000 });
    await page.screenshot({ path: join(ARTIFACTS, "saved-5-option-sold-out.png") });
    // Another size: the saved info again, priced for it.
    await sheet(TEE).locator(".tb-variant", { hasText: /^M/ }).click();
    await frame.locator("#pays-to", { hasText: "(M)" }).waitFor({ timeout: 15_000 });
    await frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
    assert.equal(await cont.isVisible(), false);
  } finally {
    sqlWrite(apiDb(), "UPDATE variants SET stock = ? WHERE product_id = 'red-tee' AND id = 'l'", [left]);
  }
  // Removed, for the tests after this one.
  const remove = frame.getByRole("button", { name: "Remove my saved info" });
  await inView(remove);
  await remove.click();
  await sheet(TEE).getByRole("button", { name: "Continue" }).waitFor({ state: "visible", timeout: 15_000 });
  assert.deepEqual(sql(vaultDb(), "SELECT count(*) FROM profiles"), [[0]]);
  await close();
});

/** Presses a button of the confirmation window, which closes the window as it answers: a
 * click that Playwright sees end with its page gone has done what it was for. */
const pressClosing = (locator) =>
  locator.click().catch((error) => {
    if (!locator.page().isClosed()) throw error;
  });

// Where the browser cannot say whether the frame is covered (no IntersectionObserver v2, as
// in Firefox and Safari; here Chromium with it taken away in every frame), a page could lay a
// picture over the saved-info frame and borrow one click to pay or remove. There Pay and
// Remove open a window on the vault's origin showing what they do, and only its own button,
// pressed once it has been in front for a moment, does it.
test("without a way to see the frame covered, saved Pay and Remove are confirmed in a window of the vault", async (t) => {
  await (await buyAndSave()).close();
  // In a window opened by another (its first document, about:blank, whose window the page
  // it loads keeps): when its first message came.
  await context.addInitScript(() => {
    if (window.opener) addEventListener("message", () => (window.__askedAt ??= performance.now()), true);
  });
  const page = await context.newPage();
  await page.addInitScript(() => {
    delete IntersectionObserverEntry.prototype.isVisible;
  });
  await page.goto(`${env.server.origins.publisher}/`);
  const buy = page.locator(`[data-tweetbuy-host="${TEE}"] button[part="button"]`);
  await buy.click();
  const frame = payFrame(page, "saved");
  await settledSavedFrame(frame);
  assert.equal(await frame.locator("html").evaluate(() => "isVisible" in IntersectionObserverEntry.prototype), false, "blind here");
  const paidBefore = sql(apiDb(), "SELECT count(*) FROM orders WHERE status = 'paid'")[0][0];

  // Pay opens the window; nothing is paid yet.
  const pay = frame.locator("#pay[aria-disabled='false']");
  await inView(pay);
  const label = (await pay.textContent()).trim();
  const opened = context.waitForEvent("page");
  await pay.click();
  const win = await opened;
  await win.waitForLoadState();
  assert.equal(new URL(win.url()).origin, env.server.origins.vault, "the window is the vault's");
  await frame.locator("#status", { hasText: "Confirm in the window that opened." }).waitFor();
  const confirm = win.getByRole("button", { name: label });
  await confirm.waitFor();
  assert.equal(await win.title(), "Confirm your payment");
  const lines = await win.locator("#lines p").allTextContents();
  assert.match(lines[0], /^To .+ for .+ \(.+\)$/, lines.join(" | "));
  assert.deepEqual(lines.slice(1), ["Ships to Jane Doe, 1 Main St, New York, NY 10001, US", "Visa •••• 4242"]);
  await win.screenshot({ path: join(ARTIFACTS, "saved-5-confirm-window.png") });
  await axeDocument(win, "the confirmation window");

  // The page forging the window's answer pays nothing (the frame hears only its window).
  const forgedFrom = await page.evaluate((tee) => {
    const f = document.querySelector(`[data-tweetbuy-host="${tee}"]`).shadowRoot.querySelector("iframe.tb-saved-frame");
    for (const nonce of ["", "x"]) f.contentWindow.postMessage({ type: "confirmed", nonce }, "*");
    return f.name;
  }, TEE);
  assert.equal(forgedFrom, "tweetbuy-saved", "the forgeries went to the saved-info frame");
  // Nor does the page opening the window itself and asking it a question of its own: the
  // window takes questions from its opener on the vault's origin only, and says so.
  const pageOpened = context.waitForEvent("page");
  await page.evaluate((vault) => {
    const w = window.open(`${vault}/confirm`, "", "popup");
    const question = { type: "ask", nonce: "n", title: "Free gift", lines: ["A gift"], label: "Accept", again: "Again" };
    for (const delay of [300, 800, 1500]) setTimeout(() => w.postMessage(question, "*"), delay);
  }, env.server.origins.vault);
  const forged = await pageOpened;
  await forged.locator("#status", { hasText: "There is nothing to confirm here. You can close this window." }).waitFor({ timeout: 10_000 });
  assert.equal(await forged.locator("#confirm").isVisible(), false, "no button from the page's question");
  assert.equal(await forged.title(), "Confirm");
  await forged.close();
  assert.equal(sql(apiDb(), "SELECT count(*) FROM orders WHERE status = 'paid'")[0][0], paidBefore, "nothing paid");

  // The buyer choosing another size while the window is open closes it: what it showed is
  // no longer what a press would pay.
  const closedByFrame = win.waitForEvent("close");
  await page.locator("dialog[open]:not(.tb-waiting) .tb-variant", { hasText: /^L/ }).click();
  await closedByFrame;
  await frame.locator("#status:empty").waitFor();
  await frame.locator("#pays-to", { hasText: "(L)" }).waitFor({ timeout: 15_000 });

  // A window the buyer closes unanswered pays nothing either, and the frame stops waiting.
  const another = context.waitForEvent("page");
  await pay.click();
  const closedByBuyer = await another;
  await closedByBuyer.getByRole("button", { name: /^Pay / }).waitFor();
  await closedByBuyer.close({ runBeforeUnload: true });
  await frame.locator("#status:empty").waitFor();
  assert.equal(sql(apiDb(), "SELECT count(*) FROM orders WHERE status = 'paid'")[0][0], paidBefore, "nothing paid");

  // In the window, a press that begins within 600 ms of what it shows asks for another and
  // starts the wait again; one after it pays. (Checked where this machine pressed that soon.)
  const last = context.waitForEvent("page");
  const newLabel = (await pay.textContent()).trim();
  await pay.click();
  const confirmWin = await last;
  const confirmIt = confirmWin.getByRole("button", { name: newLabel });
  await confirmIt.waitFor();
  const box = await confirmIt.boundingBox();
  const since = await confirmWin.evaluate(() => performance.now() - window.__askedAt);
  if (since < 300) {
    // Pressed at once, without Playwright's checks before a click (they take hundreds of ms).
    await confirmWin.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await confirmWin.locator("#status", { hasText: "Press again to confirm." }).waitFor({ timeout: 5_000 });
    assert.equal(confirmWin.isClosed(), false, "a press too soon does not confirm");
    assert.equal(sql(apiDb(), "SELECT count(*) FROM orders WHERE status = 'paid'")[0][0], paidBefore, "nothing paid");
  } else {
    t.diagnostic(`the window was ready to press ${Math.round(since)} ms after its question: a press too soon not checked`);
  }
  await confirmWin.waitForTimeout(700);
  assert.equal(await confirmIt.getAttribute("aria-disabled"), "false", "the window's button answers");
  await pressClosing(confirmIt);
  await page.locator("[data-order-number]").waitFor({ timeout: 20_000 });
  assert.ok(confirmWin.isClosed(), "the window closes itself");
  assert.equal(sql(apiDb(), "SELECT count(*) FROM orders WHERE status = 'paid'")[0][0], paidBefore + 1);
  assert.match(orderBodies.at(-1).card_token, /^sav_/, "paid with the saved card");
  const [variant] = sql(apiDb(), "SELECT variant_id FROM orders WHERE intent_id = ?", [orderBodies.at(-1).intent_id]);
  assert.deepEqual(variant, ["l"], "the size the window showed");
  await page.close();

  // Remove: the window's Cancel removes nothing; its button removes.
  const again = await context.newPage();
  await again.addInitScript(() => {
    delete IntersectionObserverEntry.prototype.isVisible;
  });
  await again.goto(`${env.server.origins.publisher}/`);
  await again.locator(`[data-tweetbuy-host="${TEE}"] button[part="button"]`).click();
  const inFrame = payFrame(again, "saved");
  await settledSavedFrame(inFrame);
  const remove = inFrame.getByRole("button", { name: "Remove my saved info" });
  await inView(remove);
  const ask = async () => {
    const next = context.waitForEvent("page");
    await remove.click();
    const w = await next;
    await w.getByRole("button", { name: "Remove my saved info" }).waitFor();
    return w;
  };
  const first = await ask();
  assert.equal(await first.title(), "Remove your saved info?");
  assert.deepEqual(await first.locator("#lines p").allTextContents(), ["Visa •••• 4242"]);
  await pressClosing(first.getByRole("button", { name: "Cancel" }));
  await inFrame.locator("#status:empty").waitFor();
  assert.deepEqual(sql(vaultDb(), "SELECT count(*) FROM profiles"), [[1]], "cancelled: still saved");
  const second = await ask();
  await second.waitForTimeout(700);
  await pressClosing(second.getByRole("button", { name: "Remove my saved info" }));
  await again.getByRole("button", { name: "Continue" }).waitFor({ state: "visible", timeout: 15_000 });
  assert.deepEqual(sql(vaultDb(), "SELECT count(*) FROM profiles"), [[0]], "removed on the window's press");
  await again.close();
});

// The same, where the browser blocks the window, or the window cannot reach the frame (a page
// whose opener policy cuts them apart): the frame says so, and nothing is paid.
test("without a way to see the frame covered, a blocked window or one that never asks is said in the frame, and nothing is paid", async () => {
  await (await buyAndSave()).close();
  const paid = () => sql(apiDb(), "SELECT count(*) FROM orders WHERE status = 'paid'")[0][0];
  const paidBefore = paid();
  for (const [kind, said] of [
    ["blocked", "Your browser blocked the window to confirm in. Allow pop-ups for this site, then press again."],
    ["mute", "The window to confirm in closed, or could not reach this form. Press again to open it again."],
  ]) {
    const page = await context.newPage();
    await page.addInitScript((kind) => {
      delete IntersectionObserverEntry.prototype.isVisible;
      if (location.pathname !== "/frame") return;
      // A window that opens but never hears from, nor answers, the frame.
      const mute = { closed: false, close() { this.closed = true; }, postMessage() {} };
      window.open = () => (kind === "blocked" ? null : mute);
    }, kind);
    await page.goto(`${env.server.origins.publisher}/`);
    await page.locator(`[data-tweetbuy-host="${TEE}"] button[part="button"]`).click();
    const frame = payFrame(page, "saved");
    await settledSavedFrame(frame);
    const pay = frame.locator("#pay[aria-disabled='false']");
    await inView(pay);
    await pay.click();
    await frame.locator("#status", { hasText: said }).waitFor({ timeout: 15_000 });
    assert.equal(await frame.locator("#status").getAttribute("class"), "status error", `${kind}: said as an error`);
    await page.close();
  }
  assert.equal(paid(), paidBefore, "nothing paid");
  assert.deepEqual(sql(vaultDb(), "SELECT count(*) FROM profiles"), [[1]], "still saved");
});

test("a sheet closed while its paid card is being saved leaves the order to be settled, not paid again, by the next Pay", async () => {
  const own = await env.browser.newContext({ viewport: { width: 1024, height: 900 } });
  const page = await own.newPage();
  await page.goto(`${env.server.origins.publisher}/`);
  const host = page.locator(`[data-tweetbuy-host="${TEE}"]`);
  const paidNumbers = () => sql(apiDb(), "SELECT order_number FROM orders WHERE status = 'paid'").map(([n]) => n);
  const paidBefore = paidNumbers();
  // The save after the payment hangs (a slow network), and the buyer closes the sheet.
  let saving;
  const saveSent = new Promise((resolve) => { saving = resolve; });
  await own.route("**/v1/profiles", () => saving());
  const buyToDetails = async () => {
    await host.locator('button[part="button"]').click();
    // This tweet's own sheet: the pointer left over another Buy button may have built that
    // one's, hidden.
    await host.locator("dialog[open]:not(.tb-waiting)").getByRole("button", { name: "Continue" }).click();
    await fillTeeDetails(page, VISA);
  };
  await buyToDetails();
  const save = payFrame(page).getByRole("checkbox", { name: "Save my card and address for next time" });
  await inView(save);
  await tickInFrame(save);
  await pressPay(page, TEE);
  await saveSent;
  const first = paidNumbers().filter((n) => !paidBefore.includes(n));
  assert.equal(first.length, 1, "paid");
  await host.locator("dialog[open] .tb-close").click();
  await page.waitForFunction((tee) => !document.querySelector(`[data-tweetbuy-host="${tee}"]`).shadowRoot.querySelector("dialog[open]"), TEE);
  // Again, from a new sheet: the order is settled and shown, not paid a second time.
  await buyToDetails();
  await pressPay(page, TEE);
  const number = host.locator("[data-order-number]");
  await number.waitFor({ timeout: 20_000 });
  assert.deepEqual(paidNumbers().filter((n) => !paidBefore.includes(n)), first, "one order");
  assert.equal((await number.textContent()).trim(), first[0], "the order paid the first time");
  await own.close();
});

test("a save that hangs after the payment holds the confirmation for a few seconds only, which does not say saved", async () => {
  const own = await env.browser.newContext({ viewport: { width: 1024, height: 900 } });
  const page = await own.newPage();
  await page.goto(`${env.server.origins.publisher}/`);
  const host = page.locator(`[data-tweetbuy-host="${TEE}"]`);
  await own.route("**/v1/profiles", () => {});
  await host.locator('button[part="button"]').click();
  await settled(page);
  await page.getByRole("button", { name: "Continue" }).click();
  await fillTeeDetails(page, VISA);
  const save = payFrame(page).getByRole("checkbox", { name: "Save my card and address for next time" });
  await inView(save);
  await tickInFrame(save);
  await pressPay(page, TEE);
  await host.locator("[data-order-number]").waitFor({ timeout: 25_000 });
  assert.doesNotMatch(await host.locator(".tb-confirmation").textContent(), /[Ss]aved/, "nothing said saved");
  await own.close();
});
