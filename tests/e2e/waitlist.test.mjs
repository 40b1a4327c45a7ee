// "Email me when it's back" on the demo's sold-out Paramore tee: a visitor joins (with the
// unticked box ticked), the publisher hears `tweetbuy:waitlist` without any personal data, a
// second join sends one notice, the seller restocks with a catalog import, the notice lands
// in the outbox with a link that unsubscribes the address.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { useServerAndBrowser, sql, axe, outboxMails, watchConsole, ARTIFACTS, SERVER } from "./harness.mjs";

const SOLD_OUT = "1528000000000000005";

const env = useServerAndBrowser();
const apiDb = () => join(env.server.dataDir, "api.db");

/** The Paramore tee, restocked to `stock` units of M by the seller's catalog import. */
function restock(stock) {
  const file = join(env.server.dataDir, "restock.toml");
  writeFileSync(file, `[[products]]
id = "paramore-tour-tee"
tweet_ids = ["${SOLD_OUT}"]
title = "Tour tee"
description = "Paramore tour tee with the tour dates printed on the back."
seller = { name = "Paramore", kind = "artist" }
kind = "physical"
currency = "USD"
ships_to = ["US"]
shipping_minor = 500
max_per_order = 5
rollout_share = 100

[[products.variants]]
id = "m"
label = "M"
price_minor = 2500
stock = ${stock}
`);
  return execFileSync(SERVER, ["catalog", "import", file, "--data-dir", env.server.dataDir], {
    encoding: "utf8",
    env: { ...process.env, ...env.server.dbEnv },
  });
}

async function openSoldOut() {
  const context = await env.browser.newContext({ viewport: { width: 1024, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${env.server.origins.publisher}/`);
  // What the publisher's page hears.
  await page.evaluate(() => {
    window.heard = [];
    document.addEventListener("tweetbuy:waitlist", (e) => window.heard.push(e.detail));
  });
  const host = page.locator(`[data-tweetbuy-host="${SOLD_OUT}"]`);
  await host.locator('button[part="button"]').click();
  const sheet = page.locator("dialog[open]:not(.tb-waiting)");
  await sheet.waitFor();
  return { context, page, sheet };
}

/** The waitlist notices in the outbox whose file names start with `prefix`, decoded. */
const notice = (prefix) => outboxMails(env.server.dataDir, prefix);

test("a visitor joins the sold-out tee's waitlist; a restock emails them once, with a link that unsubscribes", async () => {
  const { context, page, sheet } = await openSoldOut();
  const block = sheet.getByRole("region", { name: "Email me when it's back" });
  await block.waitFor();
  await block.getByRole("button", { name: "Notify me" }).click();
  await block.locator("#tb-waitlist-email-error", { hasText: "Enter your email address." }).waitFor();
  await block.locator("#tb-waitlist-consent-error", { hasText: "Tick the box to be emailed about this item." }).waitFor();
  assert.equal(await block.getByRole("checkbox").isChecked(), false, "the box starts unticked");
  await axe(page, SOLD_OUT, "the waitlist with errors");

  await block.getByLabel("Email", { exact: true }).fill("fan@example.com");
  await block.getByRole("checkbox").check();
  await block.getByRole("button", { name: "Notify me" }).click();
  const done = block.getByRole("status");
  await done.filter({ hasText: "Done. We will email fan@example.com when it's back." }).waitFor();
  assert.equal(await done.evaluate((e) => e.getRootNode().activeElement === e), true, "focus says what happened");
  await axe(page, SOLD_OUT, "the waitlist joined");
  await page.screenshot({ path: join(ARTIFACTS, "waitlist-joined.png") });
  const heard = await page.evaluate(() => window.heard);
  assert.deepEqual(heard, [{ tweetId: SOLD_OUT, productId: "paramore-tour-tee" }], "no personal data");
  await context.close();

  // The same address again, from another visit: still one row, so one notice.
  const again = await openSoldOut();
  const block2 = again.sheet.getByRole("region", { name: "Email me when it's back" });
  await block2.getByLabel("Email", { exact: true }).fill("FAN@example.com");
  await block2.getByRole("checkbox").check();
  await block2.getByRole("button", { name: "Notify me" }).click();
  await block2.getByRole("status").filter({ hasText: "Done." }).waitFor();
  await again.context.close();
  assert.deepEqual(sql(apiDb(), "SELECT email, status FROM waitlist"), [["fan@example.com", "waiting"]]);

  assert.match(restock(3), /imported 1 product/);
  const [text, ...more] = await notice("waitlist-");
  assert.ok(text, "a notice is in the outbox");
  assert.deepEqual(more, [], "one notice for one address");
  assert.match(text, /^To: fan@example\.com\r?$/m);
  assert.match(text, /^Subject: Back in stock: Tour tee\r?$/m);
  const link = text.match(/https?:\/\/\S+\/api\/v1\/waitlist\/unsubscribe\?token=[A-Za-z0-9]+/)?.[0];
  assert.ok(link, text);

  // The link opens a page with one button; pressing it unsubscribes the address.
  const browser = await env.browser.newContext();
  const unsub = await browser.newPage();
  await unsub.goto(link);
  assert.equal(sql(apiDb(), "SELECT status FROM waitlist")[0][0], "notified", "opening the link changes nothing");
  await unsub.getByRole("button", { name: "Unsubscribe" }).click();
  await unsub.getByText("You will get no more emails about Tour tee.").waitFor();
  assert.equal(sql(apiDb(), "SELECT status FROM waitlist")[0][0], "unsubscribed");
  await browser.close();
});

test("a join that lands after the visitor closed the sheet is heard by the page, and the sheet opens again", async () => {
  assert.match(restock(0), /imported 1 product/);
  const { context, page, sheet } = await openSoldOut();
  const seen = watchConsole(page);
  let release, sent;
  const held = new Promise((resolve) => { release = resolve; });
  const wasSent = new Promise((resolve) => { sent = resolve; });
  await page.route("**/api/v1/waitlist", async (route) => { sent(); await held; await route.continue(); });
  const block = sheet.getByRole("region", { name: "Email me when it's back" });
  await block.getByLabel("Email", { exact: true }).fill("late@example.com");
  await block.getByRole("checkbox").check();
  await block.getByRole("button", { name: "Notify me" }).click();
  await wasSent;
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.querySelector(`[data-tweetbuy-host="1528000000000000005"]`).shadowRoot.querySelector("dialog[open]"));
  release();
  await page.waitForFunction(() => window.heard.length === 1, null, { timeout: 10_000 });
  assert.deepEqual(sql(apiDb(), "SELECT status FROM waitlist WHERE email = 'late@example.com'"), [["waiting"]]);
  await page.locator(`[data-tweetbuy-host="${SOLD_OUT}"] button[part="button"]`).click();
  await sheet.getByRole("region", { name: "Email me when it's back" }).waitFor({ timeout: 10_000 });
  const broken = seen.filter((m) => m.type === "pageerror" || (m.type === "error" && /panicked|unreachable/.test(m.text)));
  assert.deepEqual(broken, [], "the checkout module is still whole");
  await context.close();
});
