// The buyer's path in the engines other than Chromium: WebKit (Safari's, and every iPhone
// browser's) and Gecko (Firefox's). Buttons where they belong, a purchase with a typed card, a
// refused card, the sheet and the card frame from the keyboard, the card frame's keyboard
// rules where it cannot tell whether it is seen, the bottom sheet at a phone's width, and in
// Firefox saved info. Debian's WebKitGTK and Firefox ESR over WebDriver
// (tests/e2e/webdriver.mjs), against the real server.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Key } from "selenium-webdriver";
import { startServer, sql, CARDS, ARTIFACTS } from "./harness.mjs";
import { ENGINES, startEngine, until, tap, typeKeys } from "./webdriver.mjs";

const TEE = "1528000000000000001";
const ADMIN = "admin-key-for-the-engines-e2e-suite-0123456789";

let server;
before(async () => {
  server = await startServer([], { TWEETBUY_ADMIN_KEY: ADMIN });
  mkdirSync(ARTIFACTS, { recursive: true });
});
after(() => server?.stop());

const host = (tweet) => `document.querySelector('[data-tweetbuy-host="${tweet}"]')`;
const openSheet = (tweet) => `${host(tweet)}?.shadowRoot.querySelector('dialog[open]:not(.tb-waiting)')`;

/** The demo page, freshly loaded, with the page errors after its load kept in
 * `window.__errors` (WebDriver runs no script before a page's own). */
async function openDemo(driver) {
  await driver.switchTo().defaultContent();
  await driver.get(`${server.origins.publisher}/`);
  await driver.executeScript("window.__errors = []; addEventListener('error', (e) => window.__errors.push(String(e.message)));");
}

/** The Buy button of `tweet`, once the widget has drawn it where it belongs. */
function buyButton(driver, tweet) {
  return until(
    driver,
    `const b = ${host(tweet)}?.shadowRoot.querySelector('button[part=button]');
     return b && b.getBoundingClientRect().width > 0 && !b.closest('[data-unaligned]') && b`,
    `Buy button for ${tweet}`,
  );
}

async function screenshot(driver, name) {
  writeFileSync(join(ARTIFACTS, `engines-${name}.png`), Buffer.from(await driver.takeScreenshot(), "base64"));
}

/** Opens the tee's sheet, picks M, continues, and fills Jane Doe's details in the page's sheet
 * and `card` in the vault's card frame; leaves the driver in the card frame. */
async function checkoutTee(driver, card) {
  await openDemo(driver);
  await tap(driver, await buyButton(driver, TEE));
  await until(driver, `return ${openSheet(TEE)}`, "product sheet");
  await tap(driver, await until(driver, `return [...${openSheet(TEE)}.querySelectorAll('.tb-variant')].find((v) => /^M/.test(v.textContent.trim()))`, "size M"));
  await tap(driver, await until(driver, `return [...${openSheet(TEE)}.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Continue')`, "Continue"));
  await until(driver, `return ${openSheet(TEE)}.querySelector('#tb-email')`, "checkout step");
  for (const [id, text] of [["tb-email", "jane@example.com"], ["tb-name", "Jane Doe"], ["tb-line1", "1 Main St"], ["tb-city", "New York"], ["tb-postal_code", "10001"]]) {
    await tap(driver, await driver.executeScript(`return ${openSheet(TEE)}.querySelector('#${id}')`));
    await typeKeys(driver, text);
  }
  await chooseNewYork(driver);
  const region = await driver.executeScript(`return ${openSheet(TEE)}.querySelector('#tb-region').value`);
  assert.equal(region, "NY");
  const frame = await until(driver, `return ${openSheet(TEE)}.querySelector('iframe.tb-card-frame')`, "card frame");
  await driver.executeScript("arguments[0].scrollIntoView({ block: 'nearest' })", frame);
  await driver.switchTo().frame(frame);
  for (const [id, text] of [["number", card], ["expiry", "12/34"], ["cvc", "123"]]) {
    const field = await until(driver, `return document.getElementById('${id}')`, `card field ${id}`);
    await field.click();
    await field.sendKeys(text);
  }
  assert.equal(await driver.executeScript("return document.getElementById('number').value"), card, "the number as typed, spaced in fours");
}

/** In a vault frame: Pay answers a press and shows the priced amount. */
const PAY_READY = "const p = document.getElementById('pay'); return p?.getAttribute('aria-disabled') === 'false' && /\\d/.test(p.textContent) && p";

/** Presses Pay in the card frame (or the saved-info frame) once it shows the amount, with the
 * frame scrolled into the sheet's view first (the frame's own scrolling does not move the
 * sheet around it); returns Pay's label. The driver is in that frame before and after. */
async function pressPay(driver, kind = "card") {
  const pay = await until(driver, PAY_READY, "Pay with an amount");
  const label = await pay.getText();
  await driver.switchTo().defaultContent();
  const frame = await driver.executeScript(`return ${openSheet(TEE)}.querySelector('iframe.tb-${kind}-frame')`);
  await driver.executeScript("arguments[0].scrollIntoView({ block: 'end' })", frame);
  await driver.switchTo().frame(frame);
  // The frame counts a press only on what it has shown for 600 ms.
  await new Promise((r) => setTimeout(r, 800));
  await pay.click();
  return label;
}

/** Where the frame cannot tell whether the page covered it (Firefox, Safari), the saved-info
 * frame's Pay or Remove opens a window of the vault's: presses that window's own button once
 * it answers (after 600 ms in front), and comes back to the page's top. `before` is the
 * window handles before the press; returns the button's label. */
async function confirmInWindow(driver, before) {
  const main = await driver.getWindowHandle();
  let opened;
  await driver.wait(async () => (opened = (await driver.getAllWindowHandles()).find((h) => !before.includes(h))), 10_000, "no window to confirm in opened");
  await driver.switchTo().window(opened);
  assert.equal(new URL(await driver.getCurrentUrl()).origin, server.origins.vault, "the window is the vault's");
  const answering = "const b = document.getElementById('confirm'); return b && !b.hidden && b.getAttribute('aria-disabled') === 'false' && b";
  await until(driver, answering, "the window's button answering");
  // Sent behind the page's window and brought back, it stops answering at once and waits
  // again: what each change of its focus or visibility left the button at, in order.
  await driver.executeScript(`window.__seen = []; const b = document.getElementById('confirm');
    new MutationObserver(() => window.__seen.push(b.getAttribute('aria-disabled'))).observe(b, { attributes: true });
    for (const name of ['focus', 'blur']) addEventListener(name, () => window.__seen.push(name));`);
  await driver.switchTo().window(main);
  await driver.switchTo().window(opened);
  const seen = await until(driver, "return window.__seen.includes('focus') && window.__seen", "the window's focus back");
  const [blur, focus] = [seen.indexOf("blur"), seen.indexOf("focus")];
  assert.ok(blur >= 0 && blur < focus, `behind, then in front: ${seen}`);
  const states = seen.slice(blur).filter((s) => s !== "focus" && s !== "blur");
  assert.ok(states.length > 0 && states.every((s) => s === "true"), `no answer from behind until the wait starts again: ${seen}`);
  const button = await until(driver, answering, "the window's button answering again");
  const label = await button.getText();
  const paid = () => sql(join(server.dataDir, "api.db"), "SELECT count(*) FROM orders WHERE status = 'paid'")[0][0];
  const profiles = () => sql(join(server.dataDir, "vault.db"), "SELECT count(*) FROM profiles")[0][0];
  const done = [paid(), profiles()];
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual([paid(), profiles()], done, "nothing done before the window's button is pressed");
  // The window closes itself as it answers: a click that ends with it gone did its work.
  await button.click().catch((error) => {
    if (!/no such window|NoSuchWindow|browsing context has been discarded/i.test(String(error))) throw error;
  });
  await driver.switchTo().window(main);
  return label;
}

/** Where focus is on the page, for a failure's message. */
const focusNow = (driver) =>
  driver.executeScript(`const a = document.activeElement; const inner = a?.shadowRoot?.activeElement;
    return a.tagName + (inner ? ' > ' + inner.tagName + '.' + inner.className : '')`);

/** The state in the open checkout step: New York. A tap on a select opens the toolkit's own
 * menu, outside the page: chosen as Playwright's selectOption chooses, with the events a
 * choice sends. */
const chooseNewYork = (driver) =>
  driver.executeScript(`const s = ${openSheet(TEE)}.querySelector('#tb-region'); s.value = 'NY';
    s.dispatchEvent(new Event('input', { bubbles: true })); s.dispatchEvent(new Event('change', { bubbles: true }));`);

/** Presses Tab, at most `presses` times, until `script` (run in the current frame) holds. */
async function tabUntil(driver, script, what, presses = 12) {
  for (; presses > 0 && !(await driver.executeScript(script)); presses--) await typeKeys(driver, Key.TAB);
  assert.ok(await driver.executeScript(script), `Tab reaches ${what} (focus: ${await focusNow(driver)})`);
}

/** Tabs from the top of the demo page to the tee's Buy button. */
async function tabToTee(driver) {
  await openDemo(driver);
  await buyButton(driver, TEE);
  await tabUntil(driver, `return document.activeElement === ${host(TEE)} && ${host(TEE)}.shadowRoot.activeElement?.getAttribute('part') === 'button'`, "the tee's Buy button");
}

/** Presses Enter on the focused Buy button; checks that focus goes into the sheet, and that
 * Escape closes it and gives focus back to the button. */
async function enterThenEscape(driver) {
  await typeKeys(driver, Key.ENTER);
  await until(driver, `return ${openSheet(TEE)}`, "sheet opened by Enter");
  const inSheet = `const a = ${host(TEE)}.shadowRoot.activeElement; return !!a && ${openSheet(TEE)}.contains(a)`;
  await until(driver, inSheet, "focus in the sheet", 5_000).catch(async (e) => assert.fail(`${e.message} (focus: ${await focusNow(driver)})`));
  await typeKeys(driver, Key.ESCAPE);
  await until(driver, `return !${host(TEE)}.shadowRoot.querySelector('dialog[open]')`, "sheet closed by Escape");
  const onButton = `return document.activeElement === ${host(TEE)} && ${host(TEE)}.shadowRoot.activeElement?.getAttribute('part') === 'button'`;
  await until(driver, onButton, "focus back on the button", 5_000).catch(async (e) => assert.fail(`${e.message} (focus: ${await focusNow(driver)})`));
}

for (const engine of Object.keys(ENGINES)) {
  describe(engine, () => {
    let session;
    before(async () => {
      session = await startEngine(engine);
    });
    after(() => session?.stop());

    test(`in ${engine} every tweet with an offer gets its button at the bottom right of the tweet the visitor sees, and checkout is fetched before a tap`, async () => {
      const { driver } = session;
      await openDemo(driver);
      await buyButton(driver, TEE);
      // Each host follows its embed; a rendered embed's tweet is its iframe, not the wrapper.
      const placed = await until(
        driver,
        `const hosts = [...document.querySelectorAll('[data-tweetbuy-host]')];
         const all = hosts.map((h) => {
           const button = h.shadowRoot.querySelector('button[part=button]');
           const embed = h.previousElementSibling;
           const tweet = embed.querySelector('iframe') || embed;
           return { tweet: h.dataset.tweetbuyHost, button: button?.getBoundingClientRect().toJSON(), seen: tweet.getBoundingClientRect().toJSON() };
         });
         return all.length >= 7 && all.every((p) => p.button && p.button.width > 0) && all`,
        "seven placed buttons",
      );
      await screenshot(driver, `${engine}-demo`);
      for (const { tweet, button, seen } of placed) {
        assert.ok(Math.abs(button.right - seen.right) <= 12, `${tweet}: the button's right edge ${button.right} is at the tweet's ${seen.right}`);
        assert.ok(button.bottom >= seen.bottom - 2 && button.top <= seen.bottom + 16, `${tweet}: the button (${button.top}–${button.bottom}) sits at the tweet's bottom (${seen.bottom})`);
      }
      // WebKit has no requestIdleCallback: the checkout module comes ahead of a tap there too.
      await until(driver, "return performance.getEntriesByType('resource').some((e) => /tweetbuy-checkout-.*_bg\\.wasm$/.test(e.name))", "the checkout module fetched before any tap", 10_000);
      assert.deepEqual(await driver.executeScript("return window.__errors"), []);
    });

    test(`in ${engine} a buyer pays with a typed card and sees the order, which the seller has, paid`, async () => {
      const { driver } = session;
      await checkoutTee(driver, CARDS.visa);
      const label = await pressPay(driver);
      assert.match(label, /^Pay \$37\.66$/);
      await driver.switchTo().defaultContent();
      const number = await until(driver, `return ${host(TEE)}.shadowRoot.querySelector('[data-order-number]')?.textContent.trim()`, "order number", 30_000);
      await screenshot(driver, `${engine}-confirmation`);
      const reply = await fetch(`${server.origins.api}/admin/v1/orders`, { headers: { authorization: `Bearer ${ADMIN}` } });
      assert.equal(reply.status, 200);
      const body = await reply.json();
      const order = (Array.isArray(body) ? body : body.orders).find((o) => o.order_number === number);
      assert.ok(order, `order ${number} is in the seller's view`);
      assert.equal(order.status, "paid");
      assert.equal(order.card_last4, "4242");
      assert.equal(order.total_minor, 3766);
      assert.deepEqual(await driver.executeScript("return window.__errors"), []);
    });

    test(`in ${engine} a declined card is said in the card frame, and nothing is charged`, async () => {
      const { driver } = session;
      await checkoutTee(driver, CARDS.declined);
      await pressPay(driver);
      const said = await until(driver, "const s = document.getElementById('status'); return s && /declined/.test(s.textContent) && s.textContent", "the refusal", 30_000);
      assert.match(said, /Your card was declined/);
      await driver.switchTo().defaultContent();
      assert.equal(await driver.executeScript(`return !!${host(TEE)}.shadowRoot.querySelector('[data-order-number]')`), false, "no confirmation");
      const body = await (await fetch(`${server.origins.api}/admin/v1/orders`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
      assert.ok(!(Array.isArray(body) ? body : body.orders).some((o) => o.status === "paid" && o.card_last4 === "0002"), "no paid order with the declined card");
    });

    test(`in ${engine} a buyer pays from the keyboard alone: Enter on Buy, a size, Tab from the sheet into the card frame, Enter on Pay`, async () => {
      const { driver } = session;
      const focused = () => driver.executeScript(`const a = ${host(TEE)}.shadowRoot.activeElement; return a ? a.id || a.className : 'nothing in the sheet'`);
      await tabToTee(driver);
      await typeKeys(driver, Key.ENTER);
      await until(driver, `return ${openSheet(TEE)}`, "product sheet");
      // The sizes are one radio group: Tab into it, an arrow to M, Tab on to Continue.
      await tabUntil(driver, `return ${host(TEE)}.shadowRoot.activeElement?.type === 'radio'`, "the sizes");
      await typeKeys(driver, Key.ARROW_DOWN);
      assert.equal(await driver.executeScript(`return ${openSheet(TEE)}.querySelector('input[type=radio]:checked').closest('.tb-variant').textContent.trim()[0]`), "M");
      await tabUntil(driver, `return ${host(TEE)}.shadowRoot.activeElement?.textContent.trim() === 'Continue'`, "Continue");
      await typeKeys(driver, Key.ENTER);
      await until(driver, `return ${host(TEE)}.shadowRoot.activeElement?.id === 'tb-email'`, "focus on the email field");
      // Email, name, line 1, (line 2 left empty), city, then the country's and the state's selects.
      for (const text of ["jane@example.com", "Jane Doe", "1 Main St", "", "New York"]) {
        await typeKeys(driver, text + Key.TAB);
      }
      assert.equal(await focused(), "tb-country");
      await typeKeys(driver, Key.TAB);
      assert.equal(await focused(), "tb-region");
      await chooseNewYork(driver);
      await typeKeys(driver, Key.TAB + "10001");
      // On through the sheet's own controls until Tab enters the card frame.
      await tabUntil(driver, `return ${host(TEE)}.shadowRoot.activeElement?.classList.contains('tb-card-frame')`, "the card frame", 6);
      await driver.switchTo().frame(await driver.executeScript(`return ${openSheet(TEE)}.querySelector('iframe.tb-card-frame')`));
      assert.equal(await driver.executeScript("return document.activeElement?.id"), "number", "Tab lands on the card number");
      await typeKeys(driver, CARDS.visa.replace(/ /g, "") + Key.TAB + "1234" + Key.TAB + "123");
      await until(driver, PAY_READY, "Pay with an amount");
      // Past "Save my card" where the frame can keep a cookie (Firefox).
      await tabUntil(driver, "return document.activeElement?.id === 'pay'", "Pay from the security code", 3);
      // The frame counts a key press on a button focused for 600 ms.
      await new Promise((r) => setTimeout(r, 800));
      await typeKeys(driver, Key.ENTER);
      await driver.switchTo().defaultContent();
      const number = await until(driver, `return ${host(TEE)}.shadowRoot.querySelector('[data-order-number]')?.textContent.trim()`, "order number", 30_000);
      assert.match(number, /^TB-/);
    });

    // Where the frame cannot tell whether it is seen (no IntersectionObserver v2 in WebKit or
    // Firefox), the keyboard rules still hold (docs/security.md): keys the page steers into
    // it pay nothing.
    test(`in ${engine} keys the page steers into the card frame pay nothing: focus the page gave it, then Tab to Pay and Enter`, async () => {
      const { driver } = session;
      await checkoutTee(driver, CARDS.visa);
      await until(driver, PAY_READY, "Pay with an amount");
      await driver.switchTo().defaultContent();
      // The buyer goes back to the sheet's name field to correct it; as they type, the page
      // puts focus in the frame. The buyer types on, Tabs, and presses Enter a moment later.
      await tap(driver, await driver.executeScript(`return ${openSheet(TEE)}.querySelector('#tb-name')`));
      await typeKeys(driver, " J");
      assert.equal(await driver.executeScript(`return ${host(TEE)}.shadowRoot.activeElement?.id`), "tb-name", "the buyer is in the page's sheet");
      await driver.executeScript(`${openSheet(TEE)}.querySelector('iframe.tb-card-frame').focus()`);
      await typeKeys(driver, "r.");
      await driver.switchTo().frame(await driver.executeScript(`return ${openSheet(TEE)}.querySelector('iframe.tb-card-frame')`));
      await tabUntil(driver, "return document.activeElement?.id === 'pay'", "Pay", 6);
      // The corrected name priced the cart again: Enter comes once the new price shows.
      await until(driver, PAY_READY, "Pay with the new price");
      await new Promise((r) => setTimeout(r, 800));
      await typeKeys(driver, Key.ENTER);
      await until(driver, "return /Tab out of the payment form and back to the button/.test(document.getElementById('status')?.textContent)", "the frame saying how to pay from the keyboard");
      await new Promise((r) => setTimeout(r, 1500));
      await driver.switchTo().defaultContent();
      assert.equal(await driver.executeScript(`return !!${host(TEE)}.shadowRoot.querySelector('[data-order-number]')`), false, "no order");
    });

    test(`in ${engine} Enter as focus reaches the button opens the sheet with focus in it, and Escape gives focus back`, async () => {
      const { driver } = session;
      await tabToTee(driver);
      await enterThenEscape(driver);
    });

    // Focus builds the sheet ahead, hidden; WebKit showed such a sheet with focus on nothing,
    // behind the modal dialog.
    test(`in ${engine} Enter on a sheet built ahead while the button had focus moves focus into it, and Escape gives it back`, async () => {
      const { driver } = session;
      await tabToTee(driver);
      await until(driver, `return ${host(TEE)}.shadowRoot.querySelector('dialog.tb-sheet:not([open]):not(.tb-waiting)')`, "the sheet built ahead");
      await enterThenEscape(driver);
    });

    // WebKit keeps no cookie for the frame in these tests, and offers no "Save my card".
    if (engine === "Firefox") {
      test(`in ${engine} saved info: saved on a purchase, a repeat purchase in three taps, then removed`, async () => {
        const { driver } = session;
        await checkoutTee(driver, CARDS.visa);
        const save = await driver.executeScript("const s = document.getElementById('save'); return !s.closest('label').hidden && s");
        assert.ok(save, "the frame offers to save the card");
        await save.click();
        assert.equal(await driver.executeScript("return document.getElementById('save').checked"), true, "the buyer's tick counts");
        await pressPay(driver);
        await driver.switchTo().defaultContent();
        await until(driver, `return ${host(TEE)}.shadowRoot.querySelector('[data-order-number]')`, "first order", 30_000);

        // A fresh load: Buy, a size, Pay inside the saved-info frame.
        await openDemo(driver);
        await tap(driver, await buyButton(driver, TEE));
        const savedFrame = await until(driver, `return ${openSheet(TEE)}?.querySelector('iframe.tb-saved-frame')`, "saved-info frame");
        await driver.switchTo().frame(savedFrame);
        const card = await until(driver, "return document.getElementById('saved-card')?.textContent.trim()", "the saved card");
        assert.equal(card, "Visa •••• 4242");
        await driver.switchTo().defaultContent();
        await tap(driver, await until(driver, `return [...${openSheet(TEE)}.querySelectorAll('.tb-variant')].find((v) => /^L/.test(v.textContent.trim()))`, "size L"));
        await driver.switchTo().frame(savedFrame);
        await until(driver, "return /Ships to Jane Doe, 1 Main St, New York, NY 10001, US/.test(document.getElementById('ships-to')?.textContent)", "the saved address");
        const windows = await driver.getAllWindowHandles();
        const label = await pressPay(driver, "saved");
        // Firefox cannot say whether the page covered the frame: Pay is confirmed in a window.
        assert.equal(await confirmInWindow(driver, windows), label, "the window pays what Pay said");
        const number = await until(driver, `return ${host(TEE)}.shadowRoot.querySelector('[data-order-number]')?.textContent.trim()`, "repeat order", 30_000);
        const body = await (await fetch(`${server.origins.api}/admin/v1/orders`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
        const order = (Array.isArray(body) ? body : body.orders).find((o) => o.order_number === number);
        assert.equal(order?.status, "paid");
        assert.equal(order.card_last4, "4242");

        // Remove, inside the frame: the next sheet has nothing saved.
        await openDemo(driver);
        await tap(driver, await buyButton(driver, TEE));
        await driver.switchTo().frame(await until(driver, `return ${openSheet(TEE)}?.querySelector('iframe.tb-saved-frame')`, "saved-info frame"));
        const remove = await until(driver, "const r = document.getElementById('remove'); return r && !r.hidden && r", "Remove");
        await new Promise((r) => setTimeout(r, 800));
        const before = await driver.getAllWindowHandles();
        await remove.click();
        assert.equal(await confirmInWindow(driver, before), "Remove my saved info");
        await driver.switchTo().frame(await driver.executeScript(`return ${openSheet(TEE)}.querySelector('iframe.tb-saved-frame')`));
        const said = await until(driver, "return /removed/.test(document.getElementById('status')?.textContent) && document.getElementById('status').textContent", "the removal said");
        assert.match(said, /Your saved info was removed/);
        await driver.switchTo().defaultContent();
        assert.deepEqual(sql(join(server.dataDir, "vault.db"), "SELECT count(*) FROM profiles"), [[0]], "the profile erased at the vault");
        // The next sheet's saved-info frame finds nothing saved: no saved-info section shows.
        await openDemo(driver);
        await tap(driver, await buyButton(driver, TEE));
        for (let look = 0; look < 15; look++) {
          const shown = await driver.executeScript(`const s = ${openSheet(TEE)}.querySelector('.tb-saved'); return !!s && s.getClientRects().length > 0`);
          assert.equal(shown, false, "no saved-info section shown");
          await new Promise((r) => setTimeout(r, 200));
        }
      });
    }

    // A phone's width: the sheet is a bottom sheet, as wide as the window and never wider.
    test(`in ${engine} on a phone-wide window the tee's sheet is a bottom sheet the width of the window`, async () => {
      const { driver } = session;
      const window = driver.manage().window();
      const before = await window.getRect();
      try {
        await window.setRect({ width: 400, height: 800 });
        await openDemo(driver);
        const width = await driver.executeScript("return innerWidth");
        assert.ok(width < 600, `a phone's width (${width} CSS px; the browser keeps its own minimum)`);
        await tap(driver, await buyButton(driver, TEE));
        await until(driver, `return ${openSheet(TEE)}`, "product sheet");
        await new Promise((r) => setTimeout(r, 500)); // its slide-up
        const box = await driver.executeScript(`const r = ${openSheet(TEE)}.getBoundingClientRect(); return { left: r.left, right: r.right, bottom: r.bottom, width: innerWidth, height: innerHeight, scroll: document.documentElement.scrollWidth }`);
        assert.ok(Math.abs(box.left) <= 1 && Math.abs(box.right - box.width) <= 1, `the sheet spans the window: ${JSON.stringify(box)}`);
        assert.ok(Math.abs(box.bottom - box.height) <= 1, `the sheet sits on the window's bottom edge: ${JSON.stringify(box)}`);
        const sheetScroll = await driver.executeScript(`const d = ${openSheet(TEE)}; return [d.scrollWidth, d.clientWidth]`);
        assert.ok(sheetScroll[0] <= sheetScroll[1], `the sheet never scrolls sideways: ${sheetScroll}`);
        await screenshot(driver, `${engine}-phone-sheet`);
      } finally {
        await window.setRect({ width: before.width, height: before.height });
      }
    });
  });
}
