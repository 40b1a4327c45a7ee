// A visitor on a phone: touch, no hover, so nothing loads the checkout module before the
// tap unless the widget prefetched it. The tap must answer at once all the same, and the
// widget fetches the checkout module ahead of a tap once a button is in sight (not on a
// Save-Data connection).
import { test } from "node:test";
import assert from "node:assert/strict";
import { useServerAndBrowser, axe } from "./harness.mjs";

const env = useServerAndBrowser();
const TEE = "1528000000000000001";
const inHost = (selector) => `[data-tweetbuy-host="${TEE}"] ${selector}`;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/** A phone page whose checkout module is held back until `release()` is called. */
async function phoneWithSlowCheckout({ saveData = true, belowTheFold = false } = {}) {
  const context = await env.browser.newContext(PHONE);
  const page = await context.newPage();
  if (saveData) await page.addInitScript(() => Object.defineProperty(navigator, "connection", { value: { saveData: true } }));
  // Every tweet starts a few screens down: a spacer goes in once the page is parsed, before
  // its scripts run.
  if (belowTheFold) {
    await page.addInitScript(() => document.addEventListener("readystatechange", () => {
      if (document.readyState !== "interactive") return;
      const spacer = document.createElement("div");
      spacer.style.setProperty("height", "3000px");
      document.body.prepend(spacer);
    }));
  }
  let release;
  const released = new Promise((r) => { release = r; });
  const fetched = [];
  await page.route(/tweetbuy-checkout-/, async (route) => {
    fetched.push(route.request().url());
    await released;
    await route.continue();
  });
  await page.goto(`${env.server.origins.publisher}/`);
  await page.locator(inHost("button[part=button]")).waitFor();
  return { context, page, release, fetched };
}

test("a tap answers at once while the checkout module loads, and the sheet takes its place", async () => {
  const { context, page, release } = await phoneWithSlowCheckout();
  await page.locator(inHost("button[part=button]")).tap();
  const waiting = page.locator(inHost("dialog.tb-waiting[open]"));
  await waiting.waitFor({ timeout: 2_000 });
  assert.equal(await waiting.locator("h2").textContent(), "(RED) limited-edition tee");
  // The seller's words in the seller's language (WCAG 3.1.2), as on the sheet.
  assert.equal(await waiting.locator("h2").getAttribute("lang"), "en");
  assert.equal(await waiting.locator("[role=status]").textContent(), "Loading checkout…");
  // Said with the dialog's name as focus comes in: a status filled before the dialog joined
  // the page is not announced.
  const description = await waiting.evaluate((d) => d.getRootNode().getElementById(d.getAttribute("aria-describedby"))?.textContent);
  assert.equal(description, "Loading checkout…", "the note describes the dialog");
  assert.equal(await page.locator(inHost("button[part=button]")).getAttribute("aria-expanded"), "true");
  await axe(page, TEE, "the dialog shown while checkout loads");

  release();
  await page.locator(inHost("dialog.tb-sheet:not(.tb-waiting)[open]")).waitFor({ timeout: 20_000 });
  await page.waitForFunction((host) => !document.querySelector(host).shadowRoot.querySelector("dialog.tb-waiting"), `[data-tweetbuy-host="${TEE}"]`);
  // Taking the stand-in down must not hand focus back to the button behind the sheet.
  await page.waitForTimeout(300);
  const focusInSheet = await page.evaluate((host) => {
    const root = document.querySelector(host).shadowRoot;
    return !!root.activeElement && !!root.activeElement.closest("dialog.tb-sheet");
  }, `[data-tweetbuy-host="${TEE}"]`);
  assert.ok(focusInSheet, "focus moved into the sheet");
  await context.close();
});

test("Escape while checkout loads closes the stand-in, and nothing opens when it arrives", async () => {
  const { context, page, release } = await phoneWithSlowCheckout();
  const button = page.locator(inHost("button[part=button]"));
  await button.tap();
  await page.locator(inHost("dialog.tb-waiting[open]")).waitFor({ timeout: 2_000 });
  await page.keyboard.press("Escape");
  await page.waitForFunction((host) => !document.querySelector(host).shadowRoot.querySelector("dialog.tb-waiting"), `[data-tweetbuy-host="${TEE}"]`);
  assert.equal(await button.getAttribute("aria-expanded"), "false");
  assert.ok(await button.evaluate((b) => b.getRootNode().activeElement === b), "focus is back on the button");

  release();
  await page.waitForTimeout(1_500);
  assert.equal(await page.locator(inHost("dialog[open]")).count(), 0, "the visitor closed it: no sheet");
  await button.tap();
  await page.locator(inHost("dialog.tb-sheet:not(.tb-waiting)[open]")).waitFor({ timeout: 10_000 });
  await context.close();
});

test("a phone has no Escape: the stand-in's Close closes it, and nothing opens when checkout arrives", async () => {
  const { context, page, release } = await phoneWithSlowCheckout();
  const button = page.locator(inHost("button[part=button]"));
  await button.tap();
  const waiting = page.locator(inHost("dialog.tb-waiting[open]"));
  await waiting.waitFor({ timeout: 2_000 });
  const close = waiting.getByRole("button", { name: "Close" });
  const box = await close.boundingBox();
  assert.ok(box.width >= 44 && box.height >= 44, `a thumb-sized Close: ${JSON.stringify(box)}`);
  await close.tap();
  await page.waitForFunction((host) => !document.querySelector(host).shadowRoot.querySelector("dialog.tb-waiting"), `[data-tweetbuy-host="${TEE}"]`);
  assert.equal(await button.getAttribute("aria-expanded"), "false");
  release();
  await page.waitForTimeout(1_500);
  assert.equal(await page.locator(inHost("dialog[open]")).count(), 0, "the visitor closed it: no sheet");
  await context.close();
});

test("with a button in sight the checkout module is fetched before any tap (not before one is), but not on Save-Data", async () => {
  const eager = await phoneWithSlowCheckout({ saveData: false });
  for (let i = 0; i < 50 && eager.fetched.length === 0; i++) await eager.page.waitForTimeout(100);
  assert.ok(eager.fetched.length > 0, "prefetched with no tap");
  eager.release();
  await eager.context.close();

  const below = await phoneWithSlowCheckout({ saveData: false, belowTheFold: true });
  await below.page.waitForTimeout(2_000);
  assert.deepEqual(below.fetched, [], "no button in sight: nothing yet");
  await below.page.locator(inHost("button[part=button]")).scrollIntoViewIfNeeded();
  for (let i = 0; i < 50 && below.fetched.length === 0; i++) await below.page.waitForTimeout(100);
  assert.ok(below.fetched.length > 0, "fetched once a button scrolled into sight");
  below.release();
  await below.context.close();

  const saving = await phoneWithSlowCheckout({ saveData: true });
  await saving.page.waitForTimeout(2_000);
  assert.deepEqual(saving.fetched, [], "Save-Data: nothing until the visitor acts");
  saving.release();
  await saving.context.close();
});

/** A 320 px phone whose visitor reads large text (`textTokens`, as a publisher's theme would
 * set them), on the tee's checkout step. `before(page)` runs before the page loads. */
async function smallPhoneCheckout(textTokens, before = async () => {}) {
  const context = await env.browser.newContext({ viewport: { width: 320, height: 568 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await before(page);
  await page.goto(`${env.server.origins.publisher}/`);
  await page.addStyleTag({ content: `:root { ${textTokens} }` });
  await page.locator(inHost("button[part=button]")).tap();
  await page.locator(inHost("#tb-variant-m")).check();
  await page.locator(inHost(".tb-primary")).tap();
  await page.locator(inHost("#tb-postal_code")).waitFor();
  return { context, page };
}

test("large text on a small phone: the checkout's fields shrink to the sheet, which never scrolls sideways", async () => {
  const { context, page } = await smallPhoneCheckout("--tweetbuy-font-size: 32px; --tweetbuy-font-size-small: 28px; --tweetbuy-font-size-title: 36px;");
  const fit = await page.evaluate((t) => {
    const root = document.querySelector(`[data-tweetbuy-host="${t}"]`).shadowRoot;
    const sheet = root.querySelector("dialog[open]");
    const inputs = [...sheet.querySelectorAll(".tb-field input")].map((i) => [i.id, Math.round(i.getBoundingClientRect().right)]);
    return { scroll: sheet.scrollWidth, client: sheet.clientWidth, right: Math.round(sheet.getBoundingClientRect().right), inputs };
  }, TEE);
  assert.ok(fit.scroll <= fit.client, `the sheet scrolls sideways: ${JSON.stringify(fit)}`);
  for (const [id, right] of fit.inputs) assert.ok(right <= fit.right, `${id} runs past the sheet: ${JSON.stringify(fit)}`);
  await context.close();
});

test("the discount code field on a small phone is as wide as the sheet leaves beside Apply", async () => {
  const { context, page } = await smallPhoneCheckout("");
  await page.locator(inHost(".tb-discount-toggle")).tap();
  const row = await page.locator(inHost(".tb-discount-row")).evaluate((r) => {
    const [input, apply] = [r.querySelector("input"), r.querySelector("button")];
    return { row: r.getBoundingClientRect().width, input: input.getBoundingClientRect().width, apply: apply.getBoundingClientRect().width };
  });
  assert.ok(row.input >= row.row / 2, `the field is a sliver beside Apply: ${JSON.stringify(row)}`);
  assert.ok(row.apply >= 44, `Apply is still a target: ${JSON.stringify(row)}`);
  await context.close();
});

test("a long title in large text on a small phone: a control focused in the sheet shows below its sticky header, not under it", async () => {
  // The seller's title, long enough to wrap the sheet's header onto several lines.
  const long = "(RED) limited-edition organic cotton tee, printed by hand in small batches for the spring tour";
  const retitle = (v) => {
    if (Array.isArray(v)) v.forEach(retitle);
    else if (v && typeof v === "object") {
      if (v.tweet_id === TEE && typeof v.title === "string") v.title = long;
      Object.values(v).forEach(retitle);
    }
  };
  const { context, page } = await smallPhoneCheckout("--tweetbuy-font-size: 24px; --tweetbuy-font-size-small: 20px; --tweetbuy-font-size-title: 28px;", (page) =>
    page.route(/\/api\/v1\/offers\?/, async (route) => {
      const response = await route.fetch();
      const body = JSON.parse(await response.text());
      retitle(body);
      await route.fulfill({ response, body: JSON.stringify(body) });
    }));
  const where = () => page.evaluate((t) => {
    const sheet = document.querySelector(`[data-tweetbuy-host="${t}"]`).shadowRoot.querySelector("dialog[open]");
    const header = sheet.querySelector(".tb-header").getBoundingClientRect();
    const field = sheet.querySelector("#tb-line1").getBoundingClientRect();
    return { header: [Math.round(header.top), Math.round(header.bottom)], field: Math.round(field.top), scrolled: sheet.scrollTop };
  }, TEE);
  // From a field further down, back up to one the sheet scrolls to, as Shift+Tab brings the
  // buyer.
  await page.locator(inHost("#tb-postal_code")).focus();
  await page.evaluate((t) => {
    const sheet = document.querySelector(`[data-tweetbuy-host="${t}"]`).shadowRoot.querySelector("dialog[open]");
    sheet.scrollTop = sheet.scrollHeight;
  }, TEE);
  await page.locator(inHost("#tb-line1")).focus();
  const shown = await where();
  assert.ok(shown.header[1] - shown.header[0] > 80, `the header wraps onto several lines: ${JSON.stringify(shown)}`);
  assert.ok(shown.scrolled > 0, `the sheet scrolled to the field, not to its top: ${JSON.stringify(shown)}`);
  assert.ok(shown.field >= shown.header[1], `the focused field is under the header: ${JSON.stringify(shown)}`);
  await context.close();
});
