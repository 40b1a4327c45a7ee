// The theme playground (/playground on the publisher origin), driven the same way by the
// visual regression tests (visual.test.mjs) and by the docs' screenshots
// (docs-screenshots.mjs): the (RED) tee's button and sheets in one preset.
import { watchConsole, fillAddress, waitForPay, CARDS } from "./harness.mjs";

export const TEE = "1528000000000000001";
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };
/** Chromium flags that keep text and colours the same from run to run. */
export const STABLE_RENDERING = ["--font-render-hinting=none", "--force-color-profile=srgb"];
/** Screenshot options: no caret, no animation, CSS pixels. */
export const SHOT = { animations: "disabled", caret: "hide", scale: "css" };

/**
 * The playground with a preset, waiting for the tee's button. `prepare(context)` runs on the
 * fresh browser context before the page loads (to route its requests, for one).
 */
export async function openPlayground(browser, publisher, preset, { viewport = DESKTOP, colorScheme = "light", query = "", prepare } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1, reducedMotion: "reduce" });
  await prepare?.(context);
  const page = await context.newPage();
  const consoleSeen = watchConsole(page);
  await page.goto(`${publisher}/playground?preset=${preset}${query}`);
  const host = page.locator(`[data-tweetbuy-host="${TEE}"]`);
  const button = host.locator('button[part="button"]');
  await button.waitFor({ state: "visible", timeout: 20_000 });
  return { context, page, host, button, consoleSeen };
}

/** Opens the tee's product sheet and picks size M. */
/**
 * The sheet itself: while the checkout module loads, the button module shows a stand-in
 * dialog (`.tb-waiting`, also `part="sheet"`), which goes in the frame after the sheet shows.
 */
const SHEET = 'dialog[part="sheet"]:not(.tb-waiting)';

export async function openProductSheet(host) {
  await host.locator('button[part="button"]').click();
  const dialog = host.locator(SHEET);
  await dialog.waitFor({ state: "visible" });
  await dialog.getByRole("radio", { name: /^M / }).check();
  return dialog;
}

/**
 * From the product sheet to a filled-in checkout whose Pay button (in the vault's card frame)
 * shows the total and answers a click; returns that button.
 */
export async function fillCheckout(host) {
  await host.locator(SHEET).getByRole("button", { name: "Continue" }).click();
  const frame = host.frameLocator("iframe.tb-card-frame");
  await frame.locator("#number").fill(CARDS.visa);
  await frame.locator("#expiry").fill("12/34");
  await frame.locator("#cvc").fill("123");
  await fillAddress(host);
  await host.locator("#tb-postal_code").blur();
  return waitForPay(host.page(), TEE, 20_000);
}

/**
 * The open sheet, ready for a screenshot: its images loaded, fonts ready, and scrolled to its
 * top or, with `bottom`, to its bottom (the checkout's card frame, summary and Pay button).
 */
export async function readySheet(host, { bottom = false } = {}) {
  const dialog = host.locator(SHEET);
  await host.page().waitForFunction(
    (t) => {
      const d = document.querySelector(`[data-tweetbuy-host="${t}"]`).shadowRoot.querySelector("dialog[open]:not(.tb-waiting)");
      return d && [...d.querySelectorAll("img")].every((i) => i.complete) && document.fonts.status === "loaded";
    },
    TEE,
  );
  await dialog.evaluate((d, b) => d.scrollTo(0, b ? d.scrollHeight : 0), bottom);
  return dialog;
}
