// The screenshots in docs/img/theming-*.png, as a designer sees the widget: nothing is masked,
// unlike in the visual regression tests (visual.test.mjs), so the live stock and the prices
// show. What could change from run to run is fixed instead: the server is fresh (the seeded
// demo catalog, no order placed), and wherever the widget reads the tee's stock (the offer
// lookup and the availability endpoint) the answer carries the figures in STOCK. Nothing on
// these images depends on the clock: the tee has no sale window.
//
// Never part of `make test`; run it on purpose and look at every changed PNG before committing:
//   make docs-screenshots
//   (or, in tests/e2e: TWEETBUY_SERVER=… TWEETBUY_WIDGET_DIR=… node docs-screenshots.mjs)
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { startServer, launchBrowser, ROOT } from "./harness.mjs";
import { DESKTOP, PHONE, STABLE_RENDERING, SHOT, openPlayground, openProductSheet, fillCheckout, readySheet } from "./playground.mjs";

const OUT = join(ROOT, "docs/img");
/** Units left per variant, as the demo catalog seeds them: "50 left" on the product sheet. */
const STOCK = { "red-tee": { s: 10, m: 15, l: 15, xl: 10 } };
/** The playground preview's background, behind the side-by-side images. */
const BACKDROP = [0xee, 0xf1, 0xf4];
const GAP = 16;
const LIVE_FIGURES = /\/api\/v1\/(offers\?|products\/[^/]+\/availability$)/;

/** Answers the offer lookup and availability reads with the stock figures in STOCK. */
async function pinStock(context) {
  await context.route(LIVE_FIGURES, async (route) => {
    if (route.request().method() !== "GET") return route.continue();
    const response = await route.fetch();
    const body = await response.json();
    const pin = (productId, variants) => {
      for (const v of variants ?? []) {
        const fixed = STOCK[productId]?.[v.id];
        if (fixed !== undefined) v.stock = fixed;
      }
    };
    const product = new URL(route.request().url()).pathname.match(/^\/api\/v1\/products\/([^/]+)\/availability$/);
    if (product) pin(decodeURIComponent(product[1]), body.variants);
    else for (const offer of body.offers ?? []) pin(offer.product_id, offer.variants);
    const headers = { ...response.headers() };
    delete headers["content-length"];
    await route.fulfill({ response, headers, json: body });
  });
}

/** PNGs side by side on the backdrop, GAP apart and around, aligned at the top. */
function sideBySide(pngs) {
  const images = pngs.map((p) => PNG.sync.read(p));
  const width = images.reduce((w, i) => w + i.width + GAP, GAP);
  const height = Math.max(...images.map((i) => i.height)) + 2 * GAP;
  const out = new PNG({ width, height });
  for (let o = 0; o < out.data.length; o += 4) out.data.set([...BACKDROP, 255], o);
  let x = GAP;
  for (const image of images) {
    PNG.bitblt(image, out, 0, 0, image.width, image.height, x, GAP);
    x += image.width + GAP;
  }
  return PNG.sync.write(out);
}

function save(name, png) {
  const path = join(OUT, `theming-${name}.png`);
  writeFileSync(path, png);
  console.log(`wrote ${path}`);
}

/** The button, the product sheet (size M picked) and the filled-in checkout's bottom. */
async function shoot(browser, publisher, preset, options = {}) {
  const { context, page, host, button } = await openPlayground(browser, publisher, preset, { ...options, prepare: pinStock });
  try {
    await page.mouse.move(0, 0);
    const shots = { button: await button.screenshot(SHOT) };
    await openProductSheet(host);
    await host.locator(".tb-stock").filter({ hasText: /\d/ }).waitFor();
    shots.product = await (await readySheet(host)).screenshot(SHOT);
    await fillCheckout(host);
    shots.checkout = await (await readySheet(host, { bottom: true })).screenshot(SHOT);
    return shots;
  } finally {
    await context.close();
  }
}

/** The playground itself: the custom preset with a yellow accent that fails AA on white text. */
async function shootPlayground(browser, publisher) {
  const { context, page } = await openPlayground(browser, publisher, "custom", { viewport: { width: 1280, height: 1000 }, prepare: pinStock });
  try {
    await page.locator("#pg-t-accent").fill("#facc15");
    await page.locator("#pg-t-accent-text").fill("#ffffff");
    await page.locator("#pg-t-accent-text").blur();
    await page.locator("#pg-contrast").filter({ hasText: /below WCAG AA/ }).waitFor();
    await page.mouse.move(0, 0);
    return await page.screenshot(SHOT);
  } finally {
    await context.close();
  }
}

const server = await startServer();
try {
  const browser = await launchBrowser(STABLE_RENDERING);
  try {
    const publisher = server.origins.publisher;
    mkdirSync(OUT, { recursive: true });
    const themes = {};
    for (const preset of ["light", "dark", "custom"]) themes[preset] = await shoot(browser, publisher, preset, { viewport: DESKTOP });
    const phone = await shoot(browser, publisher, "light", { viewport: PHONE });
    save("buttons", sideBySide(Object.values(themes).map((t) => t.button)));
    save("product", sideBySide(Object.values(themes).map((t) => t.product)));
    for (const [preset, shots] of Object.entries(themes)) save(`${preset}-checkout`, shots.checkout);
    save("phone-checkout", phone.checkout);
    save("playground", await shootPlayground(browser, publisher));
  } finally {
    await browser.close();
  }
} catch (e) {
  console.error(`server log:\n${server.log()}`);
  throw e;
} finally {
  await server.stop();
}
