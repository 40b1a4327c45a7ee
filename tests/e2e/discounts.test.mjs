// Discount codes through the widget: "Have a code?" in the checkout sheet, the discount in
// the summary, beside Pay in the vault's frame and on the confirmation; refusals in the
// visitor's language; a code that runs out before Pay charges nothing, and the buyer can
// remove it and pay the full price they then see. The seller's command line makes the codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { useServerAndBrowser, sql, sqlWrite, fillTeeCheckout, payFrame, waitForPay, watchConsole, axe, CARDS, ARTIFACTS, SERVER } from "./harness.mjs";

const TEE = "1528000000000000001";
const CONCIERTO = "1528000000000000007";

const env = useServerAndBrowser();
const apiDb = () => join(env.server.dataDir, "api.db");
const plain = (text) => text.replace(/[\u00a0\u202f]/g, " ").trim();

/** The seller's command line, on the running server's data. */
function seller(...args) {
  return execFileSync(SERVER, [...args, "--data-dir", env.server.dataDir], {
    encoding: "utf8",
    env: { ...process.env, ...env.server.dbEnv },
  });
}

async function openSheet(tweet = TEE) {
  const context = await env.browser.newContext({ viewport: { width: 1024, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${env.server.origins.publisher}/`);
  const host = page.locator(`[data-tweetbuy-host="${tweet}"]`);
  await host.locator('button[part="button"]').click();
  const sheet = page.locator("dialog[open]:not(.tb-waiting)");
  await sheet.waitFor();
  return { context, page, host, sheet };
}

/** Opens "Have a code?", types `code` and presses Apply. */
async function applyCode(sheet, code, { toggle = "Have a code?", apply = "Apply" } = {}) {
  await sheet.getByRole("button", { name: toggle }).click();
  await sheet.locator("#tb-discount_code").fill(code);
  await sheet.getByRole("button", { name: apply, exact: true }).click();
}

test("a buyer applies TWEET10 and pays 10 % less, shown in the summary, beside Pay and on the confirmation", async () => {
  const { context, page, host, sheet } = await openSheet();
  await fillTeeCheckout(page, CARDS.visa);
  await applyCode(sheet, "tweet10");
  const remove = sheet.getByRole("button", { name: "Remove code TWEET10" });
  await remove.waitFor();
  await page.waitForFunction(() => {
    const root = document.querySelector('[data-tweetbuy-host="1528000000000000001"]').shadowRoot;
    return root.activeElement?.textContent === "Remove code TWEET10";
  }, null, { timeout: 5_000 });
  assert.equal(plain(await sheet.locator(".tb-discount-status").textContent()), "TWEET10 applied", "said in the status line");
  const line = sheet.locator(".tb-order-summary .tb-discount-line");
  await line.waitFor();
  assert.equal(plain(await line.locator("dt").textContent()), "Discount (TWEET10)");
  assert.equal(plain(await line.locator("dd").textContent()), "-$3.00");
  await axe(page, TEE, "the details step with a code applied");
  // $30.00 − $3.00 + $5.00 shipping + 8.875 % NY tax on $27.00 ($2.40) = $34.40.
  await payFrame(page).locator("#pay", { hasText: "Pay $34.40" }).waitFor({ timeout: 15_000 });
  assert.match(plain(await payFrame(page).locator("#pays-to").textContent()), /, TWEET10 −\u2060\$3\.00$/);
  await page.screenshot({ path: join(ARTIFACTS, "discount-applied.png") });
  await (await waitForPay(page, TEE)).click();
  const number = host.locator("[data-order-number]");
  await number.waitFor({ timeout: 20_000 });
  assert.equal(plain(await host.locator(".tb-confirmation .tb-discount-line").textContent()), "Discount (TWEET10): -$3.00");
  const rows = sql(apiDb(), "SELECT discount_code, discount_minor, total_minor FROM orders WHERE order_number = ?", [(await number.textContent()).trim()]);
  assert.deepEqual(rows, [["TWEET10", 300, 3440]]);
  // The emailed receipt has the line too.
  const eml = join(env.server.dataDir, "outbox", `${(await number.textContent()).trim()}.eml`);
  for (let i = 0; i < 100 && !existsSync(eml); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(readFileSync(eml, "utf8"), /Subtotal: \$30\.00\r?\nDiscount \(TWEET10\): -\$3\.00\r?\n/);
  await context.close();
});

test("a code the api refuses is said beside the field, in English and in Spanish, and nothing is applied", async () => {
  const { context, page, sheet } = await openSheet();
  await sheet.locator(".tb-variant", { hasText: /^M/ }).click();
  await sheet.getByRole("button", { name: "Continue" }).click();
  await applyCode(sheet, "NOPE10");
  const error = sheet.locator("#tb-discount_code-error");
  await error.filter({ hasText: "This code is not valid." }).waitFor();
  assert.equal(await sheet.locator("#tb-discount_code").getAttribute("aria-invalid"), "true");
  assert.equal(await sheet.locator(".tb-discount-line").count(), 0);
  await axe(page, TEE, "the details step with a refused code");
  await page.screenshot({ path: join(ARTIFACTS, "discount-refused.png") });
  await context.close();

  // TWEET10 is the tee's: on the concert ticket it is "not for this item", in Spanish.
  const es = await openSheet(CONCIERTO);
  await es.sheet.getByRole("button", { name: "Continuar" }).click();
  await applyCode(es.sheet, "TWEET10", { toggle: "¿Tienes un código?", apply: "Aplicar" });
  await es.sheet.locator("#tb-discount_code-error").filter({ hasText: "Este código no es para este artículo." }).waitFor();
  await es.context.close();
});

test("a code used up before Pay charges nothing; removed, the buyer sees the full price and pays it", async () => {
  const out = seller("discounts", "create", "--code", "LASTONE", "--percent", "50", "--product", "red-tee", "--max-uses", "1");
  assert.match(out, /created LASTONE\s+50% off, product red-tee, 0\/1 used/);
  const chargedBefore = sql(apiDb(), "SELECT count(*) FROM orders")[0][0];
  const { context, page, host, sheet } = await openSheet();
  await fillTeeCheckout(page, CARDS.visa);
  await applyCode(sheet, "LASTONE");
  await payFrame(page).locator("#pay", { hasText: "Pay $21.33" }).waitFor({ timeout: 15_000 });
  // Another buyer takes the last use while this one looks at the price.
  sqlWrite(apiDb(), "UPDATE discount_codes SET used = max_uses WHERE code = 'LASTONE'");
  await (await waitForPay(page, TEE)).click();
  await sheet.locator("#tb-discount_code-error", { hasText: "This code has been used up." }).waitFor({ timeout: 20_000 });
  assert.equal(sql(apiDb(), "SELECT count(*) FROM orders")[0][0], chargedBefore, "no order, no charge");

  await sheet.getByRole("button", { name: "Remove code LASTONE" }).click();
  // The full price, now beside Pay: $30.00 + $5.00 + $2.66.
  await payFrame(page).locator("#pay", { hasText: "Pay $37.66" }).waitFor({ timeout: 15_000 });
  await (await waitForPay(page, TEE)).click();
  await host.locator("[data-order-number]").waitFor({ timeout: 20_000 });
  assert.equal(await host.locator(".tb-confirmation .tb-discount-line").count(), 0);
  assert.match(seller("discounts", "list"), /LASTONE\s+50% off, product red-tee, 1\/1 used/);
  await context.close();
});

/** Holds the api's check of the code TWEET10 (other quotes go through) until `release()`;
 * `wasSent` resolves once the check has been asked for. */
async function holdCodeCheck(page) {
  let release, sent;
  const held = new Promise((resolve) => { release = resolve; });
  const wasSent = new Promise((resolve) => { sent = resolve; });
  await page.route("**/api/v1/quote", async (route) => {
    if (!/TWEET10/.test(route.request().postData() ?? "")) return route.continue();
    sent();
    await held;
    await route.continue();
  });
  return { release, wasSent };
}

test("a buyer who goes back while a code is checked finds nothing applied, and the checkout goes on working", async () => {
  const { context, page, sheet } = await openSheet();
  const seen = watchConsole(page);
  await fillTeeCheckout(page, CARDS.visa);
  const { release, wasSent } = await holdCodeCheck(page);
  await applyCode(sheet, "tweet10");
  await wasSent;
  await sheet.getByRole("button", { name: "Back" }).click();
  await sheet.getByRole("button", { name: "Continue" }).waitFor();
  release();
  await page.waitForTimeout(500);
  await sheet.getByRole("button", { name: "Continue" }).click();
  await sheet.getByRole("button", { name: "Have a code?" }).waitFor({ timeout: 10_000 });
  assert.equal(await sheet.getByRole("button", { name: "Remove code TWEET10" }).count(), 0, "not applied");
  await applyCode(sheet, "tweet10");
  await sheet.getByRole("button", { name: "Remove code TWEET10" }).waitFor({ timeout: 10_000 });
  const broken = seen.filter((m) => m.type === "pageerror" || (m.type === "error" && /panicked|unreachable/.test(m.text)));
  assert.deepEqual(broken, [], "the checkout module is still whole");
  await context.close();
});

test("while Pay pays, the code cannot be removed or changed: the sheet shows the cart the frame pays", async () => {
  const { context, page, sheet } = await openSheet();
  await fillTeeCheckout(page, CARDS.visa);
  await applyCode(sheet, "tweet10");
  const remove = sheet.getByRole("button", { name: "Remove code TWEET10" });
  await remove.waitFor();
  await payFrame(page).locator("#pay", { hasText: "Pay $34.40" }).waitFor({ timeout: 15_000 });
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await context.route("**/api/v1/orders", async (route) => { await held; await route.continue(); });
  await (await waitForPay(page, TEE)).click();
  await sheet.locator(".tb-status", { hasText: "Paying" }).waitFor({ timeout: 10_000 });
  assert.equal(await remove.isDisabled(), true, "Remove is locked while paying");
  release();
  await sheet.locator("[data-order-number]").waitFor({ timeout: 20_000 });
  await context.close();
});

test("a code whose check answers after Pay was pressed is not applied: the order is the cart the frame paid", async () => {
  const { context, page, sheet, host } = await openSheet();
  await fillTeeCheckout(page, CARDS.visa);
  await payFrame(page).locator("#pay", { hasText: "Pay $37.66" }).waitFor({ timeout: 15_000 });
  const { release, wasSent } = await holdCodeCheck(page);
  let paying;
  const ordered = new Promise((resolve) => { paying = resolve; });
  await context.route("**/api/v1/orders", async (route) => { await ordered; await route.continue(); });
  await applyCode(sheet, "tweet10");
  await wasSent;
  await (await waitForPay(page, TEE)).click();
  await sheet.locator(".tb-status", { hasText: "Paying" }).waitFor({ timeout: 10_000 });
  release();
  await page.waitForTimeout(1_000);
  assert.equal(await sheet.getByRole("button", { name: "Remove code TWEET10" }).count(), 0, "not applied while paying");
  paying();
  const number = host.locator("[data-order-number]");
  await number.waitFor({ timeout: 20_000 });
  const rows = sql(apiDb(), "SELECT discount_code, total_minor FROM orders WHERE order_number = ?", [(await number.textContent()).trim()]);
  assert.deepEqual(rows, [[null, 3766]], "paid the cart Pay showed");
  assert.equal(await host.locator(".tb-confirmation .tb-discount-line").count(), 0, "no discount on the confirmation");
  await context.close();
});
