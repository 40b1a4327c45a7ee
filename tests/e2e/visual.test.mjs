// Visual regression: the Buy button, the product sheet, the checkout sheet and
// the confirmation, in the light, dark and a custom theme and on a phone, screenshotted in
// headless Chromium on the theme playground page and compared with the reference PNGs in
// tests/e2e/visual/ (pixelmatch, small tolerance). What changes from run to run is masked:
// the sale countdown, stock counts, the order number; the caret is hidden and animations
// are frozen. The screenshots in docs/img are not these: docs-screenshots.mjs takes them
// unmasked, with fixed stock.
//
// Refresh the references after an intended change, then look at them before committing:
//   UPDATE_VISUAL=1 make test-e2e          (or, in tests/e2e: UPDATE_VISUAL=1 node --test visual.test.mjs)
// A failing comparison writes NAME.actual.png and NAME.diff.png to tests/e2e/artifacts/visual/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import pixelmatch from "pixelmatch";
import { useServerAndBrowser, inView, ARTIFACTS, ROOT } from "./harness.mjs";
import { TEE, DESKTOP, PHONE, STABLE_RENDERING, SHOT, openPlayground as open, openProductSheet, fillCheckout, readySheet } from "./playground.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const REFERENCES = join(here, "visual");
const OUT = join(ARTIFACTS, "visual");
const UPDATE = process.env.UPDATE_VISUAL === "1";
/** Per-pixel colour threshold (pixelmatch, 0 to 1) and the share of pixels that may differ. */
const THRESHOLD = 0.1;
const MAX_DIFF_RATIO = 0.005;

const env = useServerAndBrowser({
  browserArgs: STABLE_RENDERING,
  setup: () => {
    mkdirSync(OUT, { recursive: true });
    mkdirSync(REFERENCES, { recursive: true });
  },
});

/** Compares a screenshot with its reference (or writes the reference under UPDATE_VISUAL=1). */
function compare(name, png) {
  const refPath = join(REFERENCES, `${name}.png`);
  if (UPDATE) {
    writeFileSync(refPath, png);
    return;
  }
  assert.ok(existsSync(refPath), `no reference ${refPath}: run UPDATE_VISUAL=1 to create it`);
  const expected = PNG.sync.read(readFileSync(refPath));
  const actual = PNG.sync.read(png);
  const fail = (why) => {
    writeFileSync(join(OUT, `${name}.actual.png`), png);
    assert.fail(`${name}: ${why} (see ${join(OUT, name)}.actual.png)`);
  };
  if (expected.width !== actual.width || expected.height !== actual.height) {
    fail(`size ${actual.width}x${actual.height}, reference ${expected.width}x${expected.height}`);
  }
  const diff = new PNG({ width: expected.width, height: expected.height });
  const differing = pixelmatch(expected.data, actual.data, diff.data, expected.width, expected.height, {
    threshold: THRESHOLD,
  });
  const ratio = differing / (expected.width * expected.height);
  if (ratio > MAX_DIFF_RATIO) {
    writeFileSync(join(OUT, `${name}.diff.png`), PNG.sync.write(diff));
    fail(`${differing} pixels differ (${(ratio * 100).toFixed(2)}% > ${MAX_DIFF_RATIO * 100}%)`);
  }
}

/** The playground with a preset, on this file's server and browser. */
const openPlayground = (preset, options) => open(env.browser, env.server.origins.publisher, preset, options);

const masks = (host) => [
  host.locator(".tb-countdown"),
  host.locator(".tb-stock"),
  host.locator(".tb-variant-meta"),
  host.locator("[data-order-number]"),
];

async function sheetShot(host, name, { bottom = false } = {}) {
  const dialog = await readySheet(host, { bottom });
  compare(name, await dialog.screenshot({ ...SHOT, mask: masks(host) }));
}

/** In the page: WCAG's contrast of an element's top border with the first opaque background
 * around it (colours as `rgb()`/`rgba()`, which is how the browser reports them). */
function borderContrast(element) {
  const rgba = (c) => c.match(/[\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => [r, g, b].map((v) => (v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  let around = element.parentElement;
  while (around && (rgba(getComputedStyle(around).backgroundColor)[3] ?? 1) === 0) around = around.parentElement ?? around.getRootNode().host;
  const [a, b] = [luminance(rgba(getComputedStyle(element).borderTopColor)), luminance(rgba(getComputedStyle(around ?? document.body).backgroundColor))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/** Button, product sheet, checkout sheet (filled in) and confirmation for one theme. */
async function shootTheme(label, preset, options = {}) {
  const { context, page, host, button, consoleSeen } = await openPlayground(preset, options);
  try {
    await page.mouse.move(0, 0);
    compare(`${label}-button`, await button.screenshot(SHOT));

    await openProductSheet(host);
    await sheetShot(host, `${label}-product`);

    const pay = await fillCheckout(host);
    await sheetShot(host, `${label}-checkout`, { bottom: true });
    if (preset !== "custom") {
      // A text field is found by its border alone (WCAG 1.4.11: 3:1 against what is around it).
      const frame = host.frameLocator("iframe.tb-card-frame");
      for (const field of [host.locator("#tb-email"), frame.locator("#number")]) {
        const ratio = await field.evaluate(borderContrast);
        assert.ok(ratio >= 3, `${label}: a field's border is ${ratio.toFixed(2)}:1 against its surroundings`);
      }
    }

    await inView(pay); // the screenshot scrolled the sheet: the frame takes clicks once still
    await pay.click();
    await host.locator('[part="confirmation"]').waitFor({ state: "visible", timeout: 30_000 });
    await sheetShot(host, `${label}-confirmation`);
    const errors = consoleSeen.filter((m) => m.type === "error" || m.type === "pageerror");
    assert.deepEqual(errors, [], "no console errors");
  } finally {
    await context.close();
  }
}

test("visual: light theme, desktop", async () => shootTheme("light", "light"));
test("visual: dark theme, desktop", async () => shootTheme("dark", "dark"));
test("visual: custom theme (brand colour, square corners, serif), desktop", async () => shootTheme("custom", "custom"));
test("visual: phone viewport, light theme", async () => shootTheme("phone", "light", { viewport: PHONE }));

test("themes: the embed's data-theme wins, then the script's, then prefers-color-scheme", async () => {
  const context = await env.browser.newContext({ viewport: DESKTOP, colorScheme: "light" });
  const page = await context.newPage();
  await page.goto(`${env.server.origins.publisher}/`);
  const root = (tweet) =>
    page.locator(`[data-tweetbuy-host="${tweet}"]`).evaluate((h) => h.shadowRoot.querySelector(".tb-root").dataset.theme);
  await page.locator('[data-tweetbuy-host="1528000000000000002"] button[part="button"]').waitFor({ timeout: 20_000 });
  await page.locator(`[data-tweetbuy-host="${TEE}"] button[part="button"]`).waitFor({ timeout: 20_000 });
  assert.equal(await root("1528000000000000002"), "dark", "the Burberry embed has data-theme=dark");
  assert.equal(await root(TEE), "light", "the system is light, nothing else says");
  const bg = await page
    .locator('[data-tweetbuy-host="1528000000000000002"]')
    .evaluate((h) => getComputedStyle(h.shadowRoot.querySelector(".tb-root")).getPropertyValue("--tb-surface").trim());
  assert.equal(bg, "#15202b", "the dark token set applies");
  await context.close();

  const dark = await env.browser.newContext({ viewport: DESKTOP, colorScheme: "dark" });
  const darkPage = await dark.newPage();
  await darkPage.goto(`${env.server.origins.publisher}/`);
  await darkPage.locator(`[data-tweetbuy-host="${TEE}"] button[part="button"]`).waitFor({ timeout: 20_000 });
  const theme = await darkPage
    .locator(`[data-tweetbuy-host="${TEE}"]`)
    .evaluate((h) => [h.shadowRoot.querySelector(".tb-root").dataset.theme, h.dataset.tweetbuyTheme]);
  assert.deepEqual(theme, ["dark", "dark"], "auto follows prefers-color-scheme; the host mirrors it");
  await dark.close();
});

test("button styles, label override, and a readable text colour on a failing accent", async () => {
  const { context, page, host, button } = await openPlayground("light", { query: "&style=compact" });
  assert.equal(await button.textContent(), "Buy", "compact drops the price");
  const height = await button.evaluate((b) => b.getBoundingClientRect().height);
  assert.equal(height, 32, "compact height token");
  // A yellow accent with white text fails AA: the widget swaps in dark text, the playground warns.
  await page.locator("#pg-t-accent").fill("#facc15");
  await page.locator("#pg-t-accent-text").fill("#ffffff");
  assert.match(await page.locator("#pg-contrast").textContent(), /below WCAG AA/);
  await button.click();
  const colours = await host.evaluate((h) => {
    const b = h.shadowRoot.querySelector("button[part=button]");
    return [getComputedStyle(b).color, h.shadowRoot.querySelector(".tb-root").dataset.accentText];
  });
  assert.deepEqual(colours, ["rgb(0, 0, 0)", "dark"]);
  // The copy box holds the snippet.
  assert.match(await page.locator("#pg-css").inputValue(), /--tweetbuy-accent: #facc15;/);
  await context.close();

  const labelled = await env.browser.newContext({ viewport: DESKTOP });
  const p2 = await labelled.newPage();
  await p2.goto(`${env.server.origins.publisher}/playground?preset=light&style=outline`);
  await p2.evaluate(() => {
    const s = JSON.parse(localStorage.getItem("tweetbuy.playground"));
    s.label = "Shop the tee";
    localStorage.setItem("tweetbuy.playground", JSON.stringify(s));
  });
  await p2.goto(`${env.server.origins.publisher}/playground`);
  const b2 = p2.locator(`[data-tweetbuy-host="${TEE}"] button[part="button"]`);
  await b2.waitFor({ timeout: 20_000 });
  assert.equal(await b2.textContent(), "Shop the tee");
  const outline = await b2.evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.equal(outline, "rgb(255, 255, 255)", "outline: surface background");
  await labelled.close();
});

test("the card frame follows the theme with validated tokens only", async () => {
  const { context, page, host } = await openPlayground("custom");
  // Larger checkboxes and radios, set on this host: the frame's "save" box follows.
  await host.evaluate((h) => h.style.setProperty("--tweetbuy-control", "32px"));
  const dialog = await openProductSheet(host);
  await dialog.getByRole("button", { name: "Continue" }).click();
  const frame = host.frameLocator("iframe.tb-card-frame");
  await frame.locator("#number").waitFor();
  await page.waitForFunction(() => true);
  const look = async () =>
    frame.locator("#number").evaluate((i) => {
      const s = getComputedStyle(i);
      return { radius: s.borderTopLeftRadius, font: s.fontFamily, bg: s.backgroundColor };
    });
  for (let i = 0; i < 50 && (await look()).radius !== "2px"; i++) await page.waitForTimeout(100);
  assert.deepEqual(await look(), { radius: "2px", font: 'Georgia, "Times New Roman", serif', bg: "rgb(255, 253, 247)" });
  assert.equal(await frame.locator(".consent input").evaluate((i) => getComputedStyle(i).width), "32px");
  // A forged theme with CSS in it, posted from the publisher's page, changes nothing.
  await host.evaluate((h, vault) => {
    const w = h.shadowRoot.querySelector("iframe.tb-card-frame").contentWindow;
    w.postMessage(JSON.stringify({ type: "theme", v: 1, tokens: { surface: "red; background: url(https://evil.test/)" } }), vault);
    w.postMessage(JSON.stringify({ type: "theme", v: 1, tokens: { radius_small: "9px" }, css: "body{display:none}" }), vault);
  }, env.server.origins.vault);
  await page.waitForTimeout(300);
  assert.deepEqual(await look(), { radius: "2px", font: 'Georgia, "Times New Roman", serif', bg: "rgb(255, 253, 247)" });
  await context.close();
});

test("the playground's token table matches style/tokens.css and style/checkout-tokens.css", () => {
  // The light defaults: each file's first block, before its dark set.
  const light = (file) => {
    const tokens = readFileSync(join(ROOT, file), "utf8");
    return tokens.slice(0, tokens.indexOf(".tb-root[data-theme=\"dark\"]"));
  };
  const defined = new Map(
    [light("style/tokens.css"), light("style/checkout-tokens.css")]
      .flatMap((css) => [...css.matchAll(/--tb-([a-z-]+): var\(--tweetbuy-\1, (.+)\);$/gm)])
      .map((m) => [m[1], m[2]]),
  );
  const source = readFileSync(join(ROOT, "server/assets/publisher/playground.js"), "utf8");
  const table = source.slice(source.indexOf("const TOKENS = ["), source.indexOf("];", source.indexOf("const TOKENS = [")) + 2);
  const TOKENS = new Function(`${table}; return TOKENS;`)();
  assert.deepEqual(
    TOKENS.map((t) => t[0]).sort(),
    [...defined.keys()].sort(),
    "every token has a control, every control a token",
  );
  for (const [name, , lightDefault] of TOKENS) {
    const css = defined.get(name);
    if (name === "accent-outline") continue; // defaults to the accent
    assert.equal(css, lightDefault, `--tweetbuy-${name} default`);
  }
});
