// Payments. Real server, real widget, Debian chromium. In order: two typed-card
// purchases (Amex with a distinctive CVC) with the consent box off and on, the seller's view
// of each; forged frame messages from a fourth origin; saved info through the vault's payment
// frame, clicked as a buyer clicks (save, repeat purchase with no email, address or card
// typed, a changed card, key rotation, removal); and last, a leak scan over everything
// captured.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { useServerAndBrowser, sql, dbText, PG_URL, fillTeeCheckout, pressPay, hostFrame, inView, tickInFrame, teeCart, JANE, SERVER, ARTIFACTS } from "./harness.mjs";

const TEE = "1528000000000000001";
const ADMIN = "admin-key-for-the-payments-e2e-suite"; // 32 bytes at least, or the server refuses it
const AMEX = "3782 822463 10005";
const AMEX_CVC = "7391"; // base32 ids have no 0, 1, 8, 9: this cannot turn up by chance in an id
const VISA = "4242 4242 4242 4242";
const MASTERCARD = "5555 5555 5555 4444";
const CARD_FORMS = [AMEX, AMEX.replace(/\s/g, ""), VISA, VISA.replace(/\s/g, ""), MASTERCARD, MASTERCARD.replace(/\s/g, "")];

let context;
let evil; // the fourth origin
const captured = []; // every request any page or frame sent: {url, method, body}
const env = useServerAndBrowser({
  serverEnv: { TWEETBUY_ADMIN_KEY: ADMIN },
  setup: openContextAndFourthOrigin,
  teardown: () => evil?.http.close(),
});

/** The context every page of this file opens in, and the fourth origin's server. */
async function openContextAndFourthOrigin({ browser }) {
  context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
  context.on("request", (r) => captured.push({ url: r.url(), method: r.method(), body: r.postData() || "" }));
  // A page on an origin the server does not allow: it frames the vault and forges messages.
  const http = createServer((req, res) => {
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(`<!doctype html><title>elsewhere</title><body><p>an ad</p>
<script>
  window.got = [];
  addEventListener("message", (e) => window.got.push({ origin: e.origin, data: String(e.data) }));
  window.forge = (target) => {
    const forged = [
      '{"type":"tokenize","v":1,"request_id":"evil-1"}',
      '{"type":"lookup","v":1,"request_id":"evil-2"}',
      '{"type":"pay_saved","v":1,"request_id":"evil-3"}',
      '{"type":"remove","v":1,"request_id":"evil-4"}',
      '{"type":"save","v":1,"request_id":"evil-5","card_token":"tok_x","email":"e@x.test","shipping":null}',
      '{"type":"tokenize","v":2,"request_id":"evil-6"}',
      'not json',
    ];
    for (const m of forged) target.postMessage(m, "*");
  };
</script></body>`);
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  evil = { http, origin: `http://localhost:${http.address().port}` };
}

const apiDb = () => join(env.server.dataDir, "api.db");
const vaultDb = () => join(env.server.dataDir, "vault.db");

/** Buys the tee through the real widget with a typed card. */
async function buyWithWidget(card, cvc, shareEmail) {
  const page = await context.newPage();
  await page.goto(`${env.server.origins.publisher}/`);
  const button = page.locator(`[data-tweetbuy-host="${TEE}"] button[part="button"]`);
  await button.waitFor({ state: "visible", timeout: 20_000 });
  await button.click();
  await fillTeeCheckout(page, card, { cvc });
  const consent = page.locator("#tb-share-email");
  assert.equal(await consent.isChecked(), false, "the consent box starts unticked");
  if (shareEmail) await consent.check();
  await pressPay(page, TEE);
  const number = page.locator("[data-order-number]");
  await number.waitFor({ timeout: 20_000 });
  const orderNumber = (await number.textContent()).trim();
  await page.screenshot({ path: join(ARTIFACTS, `payments-confirmation-${shareEmail ? "consent" : "no-consent"}.png`) });
  await page.close();
  return orderNumber;
}

async function sellerOrders() {
  const res = await fetch(`${env.server.origins.api}/admin/v1/orders`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(res.status, 200);
  const body = await res.json();
  return Array.isArray(body) ? body : body.orders;
}

test("consent off and on, through real purchases: the seller sees the email only when it was shared, never a token", async () => {
  const without = await buyWithWidget(AMEX, AMEX_CVC, false);
  const withConsent = await buyWithWidget(AMEX, AMEX_CVC, true);
  const orders = await sellerOrders();
  const a = orders.find((o) => o.order_number === without);
  const b = orders.find((o) => o.order_number === withConsent);
  assert.ok(a && b, "both orders are in the seller's view");
  for (const o of [a, b]) {
    assert.equal(o.status, "paid");
    assert.equal(o.card_brand, "amex");
    assert.equal(o.card_last4, "0005");
    assert.equal(o.product_title.length > 0, true);
    assert.equal(o.quantity, 1);
    assert.ok(o.total_minor > 0);
    assert.deepEqual({ ...o.shipping, line2: o.shipping.line2 ?? "" }, JANE, "physical goods: the address");
  }
  assert.equal(a.email ?? null, null, "consent off: no email");
  assert.equal(b.email, "jane@example.com", "consent on: the email");
  const text = JSON.stringify(orders);
  assert.ok(!/tok_|sav_|scard_|cred_/.test(text), "no card token or credential in the seller's view");
  // Recorded per order in the api's database.
  assert.deepEqual(sql(apiDb(), "SELECT CASE WHEN share_email THEN 1 ELSE 0 END AS s FROM orders WHERE order_number IN (?, ?) ORDER BY s", [without, withConsent]), [[0], [1]]);
  // The seller's command line shows the same.
  const cli = execFileSync(SERVER, ["orders", "list", "--data-dir", env.server.dataDir], { encoding: "utf8", env: { ...process.env, ...env.server.dbEnv } });
  const line = (n) => cli.split("\n").find((l) => l.startsWith(n));
  assert.match(line(without), /amex 0005/);
  assert.match(line(without), /\(email not shared\)/);
  assert.match(line(withConsent), /jane@example\.com/);
  assert.ok(!/tok_|sav_|scard_/.test(cli));
});

test("both the api and the vault send CSP, nosniff and Referrer-Policy; CORS only for the publisher", async () => {
  for (const url of [`${env.server.origins.api}/healthz`, `${env.server.origins.api}/api/v1/offers?tweet_ids=${TEE}`, `${env.server.origins.vault}/healthz`, `${env.server.origins.vault}/frame`]) {
    const res = await fetch(url, { headers: { origin: env.server.origins.publisher } });
    assert.ok(res.headers.get("content-security-policy"), `${url}: CSP`);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", url);
    assert.ok(res.headers.get("referrer-policy"), `${url}: Referrer-Policy`);
    assert.equal(res.headers.get("set-cookie"), null, `${url}: no cookie at all`);
  }
  const frame = await fetch(`${env.server.origins.vault}/frame`);
  assert.match(frame.headers.get("content-security-policy"), new RegExp(`frame-ancestors ${env.server.origins.publisher}(;| )`));
  const allowed = await fetch(`${env.server.origins.api}/api/v1/offers?tweet_ids=${TEE}`, { headers: { origin: env.server.origins.publisher } });
  assert.equal(allowed.headers.get("access-control-allow-origin"), env.server.origins.publisher);
  assert.equal(allowed.headers.get("access-control-allow-credentials"), null, "no credentials");
  const other = await fetch(`${env.server.origins.api}/api/v1/offers?tweet_ids=${TEE}`, { headers: { origin: evil.origin } });
  assert.equal(other.headers.get("access-control-allow-origin"), null, "another origin gets no CORS grant");
});

/** Waits, then returns what the evil page has received. */
async function settle(page, ms = 1500) {
  await page.waitForTimeout(ms);
  return page.evaluate(() => window.got);
}

test("forged messages from a fourth origin are ignored and no token comes back", async () => {
  const before = captured.length;
  // 1. The fourth origin frames the vault's card form: frame-ancestors refuses it, and what
  //    it posts gets no answer.
  const page = await context.newPage();
  await page.goto(`${evil.origin}/`);
  await page.evaluate((vault) => {
    const f = document.createElement("iframe");
    f.src = `${vault}/frame`;
    document.body.append(f);
    return new Promise((r) => f.addEventListener("load", r));
  }, env.server.origins.vault);
  await page.evaluate(() => window.forge(document.querySelector("iframe").contentWindow));
  assert.deepEqual(await settle(page), [], "no reply to a framing page on another origin");

  // 2. It opens the card form as a window instead (no frame-ancestors there), a visitor is
  //    fooled into typing a card, and it forges every message: all dropped.
  const [popup] = await Promise.all([
    page.waitForEvent("popup"),
    page.evaluate((vault) => { window.vaultWindow = window.open(`${vault}/frame`, "vault"); }, env.server.origins.vault),
  ]);
  await popup.waitForLoadState();
  await popup.locator("#number").fill(VISA);
  await popup.locator("#expiry").fill("12/34");
  await popup.locator("#cvc").fill("123");
  await page.evaluate(() => window.forge(window.vaultWindow));
  assert.deepEqual(await settle(page), [], "no reply to a window on another origin");
  await popup.close();

  // 3. An ad on the real publisher page (an iframe from the fourth origin) forges messages
  //    to the widget's card frame and to the page: the frame answers nothing.
  const pub = await context.newPage();
  await pub.goto(`${env.server.origins.publisher}/`);
  const button = pub.locator(`[data-tweetbuy-host="${TEE}"] button[part="button"]`);
  await button.waitFor({ state: "visible", timeout: 20_000 });
  await button.click();
  await pub.getByRole("button", { name: "Continue" }).click();
  const cardFrame = pub.frameLocator("iframe.tb-card-frame");
  await cardFrame.locator("#number").fill(VISA);
  await cardFrame.locator("#expiry").fill("12/34");
  await cardFrame.locator("#cvc").fill("123");
  await pub.evaluate((origin) => {
    const ad = document.createElement("iframe");
    ad.src = `${origin}/`;
    ad.id = "ad";
    document.body.append(ad);
    return new Promise((r) => ad.addEventListener("load", r));
  }, evil.origin);
  const ad = pub.frames().find((f) => f.url().startsWith(evil.origin));
  await ad.evaluate(() => {
    for (let i = 0; i < parent.frames.length; i++) if (parent.frames[i] !== window) window.forge(parent.frames[i]);
    window.forge(parent); // and a forged reply to the widget's page
  });
  await pub.waitForTimeout(1500);
  assert.deepEqual(await ad.evaluate(() => window.got), [], "the ad gets nothing back");

  // 4. Even the allowed page gets no answer to a message outside the v1 schema.
  const replies = await pub.evaluate(async (vault) => {
    const host = document.querySelector('[data-tweetbuy-host="1528000000000000001"]');
    const frame = host.shadowRoot.querySelector("iframe.tb-card-frame").contentWindow;
    const got = [];
    const listen = (e) => { if (e.origin === vault) got.push(String(e.data)); };
    addEventListener("message", listen);
    for (const m of [
      '{"type":"tokenize","v":1,"request_id":"r1","number":"4242424242424242"}',
      '{"type":"show","v":2,"cart":null}',
      '{"type":"show","cart":null}',
      '{"type":"pay_saved","v":1,"request_id":"r4","credential":"cred_x"}',
      '{"type":"show","v":1,"cart":{"product_id":"red-tee"}}',
      '{"type":"focus","v":1,"then":"pay"}',
      JSON.stringify({ type: "clear", v: 1, pad: "x".repeat(20000) }),
    ]) frame.postMessage(m, vault);
    await new Promise((r) => setTimeout(r, 1500));
    removeEventListener("message", listen);
    return got.filter((d) => !d.includes('"resize"') && !d.includes('"ready"'));
  }, env.server.origins.vault);
  assert.deepEqual(replies, [], "malformed messages are dropped without a reply");

  const sent = captured.slice(before).filter((r) => r.url.startsWith(env.server.origins.vault) && r.method !== "GET");
  assert.deepEqual(sent.map((r) => r.url), [], "no forged message made the vault do anything");
  await page.screenshot({ path: join(ARTIFACTS, "payments-forged-fourth-origin.png") });
  await page.close();
  await pub.close();
});

/** Pays for the tee in a payment frame hosted on the publisher page, with real clicks. */
async function payInFrame(host, { card, expiry = "12/34", cvc = "123", save = false, cart = teeCart() } = {}) {
  await host.show(cart);
  if (card) {
    await host.frame.locator("#number").fill(card);
    await host.frame.locator("#expiry").fill(expiry);
    await host.frame.locator("#cvc").fill(cvc);
    if (save) {
      await inView(host.frame.locator("#save"));
      await tickInFrame(host.frame.locator("#save"));
    }
  }
  await host.frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
  await inView(host.frame.locator("#pay"));
  await host.frame.locator("#pay").click();
  return (await host.waitFor("paid")).receipt;
}

test("saved info: save on the buyer's tick, pay again with nothing typed, change card, rotate the key, remove", async () => {
  // First purchase with a typed card and "Save my card and address" ticked, in the frame.
  const first = await hostFrame(context, env.server.origins, "card");
  const receipt = await payInFrame(first, { card: VISA, save: true });
  assert.equal(receipt.card_last4, "4242");
  await first.waitFor("saved");
  const told = JSON.stringify(await first.messages());
  for (const secret of ["tok_", "cred_", "save_secret", "sav_"]) assert.ok(!told.includes(secret), `the page got ${secret}`);
  // The credential is in the vault origin's storage, not the publisher's.
  assert.equal(await first.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("tweetbuy.cred")).length), 0);
  await first.page.close();

  // Next visit: the saved-info frame shows the card and where it ships, and pays with nothing
  // typed; the page learns only that saved info exists.
  const next = await hostFrame(context, env.server.origins, "saved");
  assert.deepEqual((await next.messages()).find((m) => m.type === "ready"), { type: "ready", v: 1, saved: true });
  const again = await payInFrame(next, { cart: teeCart({ saved: true }) });
  assert.equal(again.card_last4, "4242");
  assert.equal(again.email, "", "the saved email stays in the frame");
  assert.equal(again.shipping, null, "so does the saved address");
  const [row] = sql(apiDb(), "SELECT email, shipping_json FROM orders WHERE id = ?", [again.order_id]);
  assert.equal(row[0], "jane@example.com");
  assert.equal(JSON.parse(row[1]).postal_code, "10001", "shipped to the saved address");
  await next.page.close();

  // Changing the card stays possible: a typed card pays, the saved one is untouched.
  const other = await hostFrame(context, env.server.origins, "card");
  const paidOther = await payInFrame(other, { card: MASTERCARD, expiry: "11/33", cvc: "456" });
  assert.equal(paidOther.card_last4, "4444");
  await other.page.close();
  const still = await hostFrame(context, env.server.origins, "saved");
  await still.show(teeCart({ saved: true }));
  assert.equal((await still.frame.locator("#saved-card").textContent()).trim(), "Visa •••• 4242");

  // Key rotation while the server runs: the old saved card still charges.
  const keysBefore = sql(vaultDb(), "SELECT DISTINCT key_id FROM profiles");
  const out = execFileSync(SERVER, ["keys", "rotate", "--data-dir", env.server.dataDir], { encoding: "utf8", env: { ...process.env, ...env.server.dbEnv } });
  assert.match(out, /new master key mk_/);
  const keysAfter = sql(vaultDb(), "SELECT DISTINCT key_id FROM profiles");
  assert.notDeepEqual(keysAfter, keysBefore, "the profile is re-wrapped");
  assert.equal(readFileSync(join(env.server.dataDir, "vault-master.key"), "utf8").trim().split("\n").length, 2);
  await still.frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
  await inView(still.frame.locator("#pay"));
  await still.frame.locator("#pay").click();
  assert.equal((await still.waitFor("paid")).receipt.card_last4, "4242", "paid after the rotation");
  await still.page.close();

  // Remove, by the buyer's click inside the frame: erased on the server and on the device.
  const last = await hostFrame(context, env.server.origins, "saved");
  await inView(last.frame.locator("#remove"));
  await last.frame.locator("#remove").click();
  assert.deepEqual(await last.waitFor("saved"), { type: "saved", v: 1, saved: false });
  assert.deepEqual(sql(vaultDb(), "SELECT count(*) FROM profiles"), [[0]]);
  assert.deepEqual(sql(vaultDb(), "SELECT count(*) FROM cards WHERE reusable = TRUE AND length(ciphertext) > 0"), [[0]]);
  await last.page.close();
  const gone = await hostFrame(context, env.server.origins, "saved");
  assert.deepEqual((await gone.messages()).find((m) => m.type === "ready"), { type: "ready", v: 1, saved: false });
  await gone.page.close();
});

/** Runs of hex digits as long as the vault's shortest hash or longer, and a value that is one. */
const HEX_RUNS = /[0-9a-f]{32,}/g;
const HEX_VALUE = /^[0-9a-f]{32,}$/;

/** Every text value in every table of a SQLite file, read through SQLite. */
function sqliteTexts(dbPath) {
  const script = "import json,sqlite3,sys\n" +
    "con=sqlite3.connect(sys.argv[1])\n" +
    "out=[]\n" +
    "for (t,) in con.execute(\"SELECT name FROM sqlite_master WHERE type='table'\").fetchall():\n" +
    "  for row in con.execute('SELECT * FROM \"%s\"' % t):\n" +
    "    out += [v for v in row if isinstance(v, str)]\n" +
    "print(json.dumps(out))";
  return JSON.parse(execFileSync("python3", ["-c", script, dbPath], { encoding: "utf8" }));
}

test("leak scan: no card number or CVC in the api's files, the vault's files, the logs or the api requests", async () => {
  const numbers = CARD_FORMS;
  const cvcPattern = new RegExp(`(^|[^0-9])${AMEX_CVC}([^0-9]|$)`);
  const cvcWord = new RegExp(`(^|[^0-9A-Za-z])${AMEX_CVC}([^0-9A-Za-z]|$)`);
  // The capture works: the frame's own request to the vault carried the CVC.
  const toVault = captured.filter((r) => r.url === `${env.server.origins.vault}/v1/tokens`);
  assert.ok(toVault.some((r) => r.body.includes(`"cvc":"${AMEX_CVC}"`)), "the scan would see a CVC");
  const toApi = captured.filter((r) => r.url.startsWith(env.server.origins.api));
  assert.ok(toApi.some((r) => r.url.endsWith("/api/v1/orders")), "orders were captured");
  for (const r of toApi) {
    for (const n of numbers) assert.ok(!r.body.includes(n), `${r.url} carries ${n}`);
    assert.ok(!cvcPattern.test(r.body), `${r.url} carries the CVC`);
    assert.ok(!r.body.includes("cred_") && !r.body.includes("save_secret"), `${r.url} carries a vault secret`);
  }
  for (const name of ["api.db", "vault.db"]) {
    const bytes = dbText(env.server.dataDir, name);
    assert.ok(bytes.length > 1000, `${name} was read`);
    for (const n of numbers) assert.ok(!bytes.includes(n), `${name} holds ${n} in clear`);
    assert.ok(!bytes.includes(`"cvc"`), `${name} holds a CVC field`);
    // The vault's ids are base32 without 0, 1, 8, 9, but its keyed hashes are hex and hold
    // any four digits by chance. So its SQLite file is searched with every run of 32 or more
    // hex digits blanked, and every text value of its live rows whole, hashes aside. The
    // api's data holds the frame's UUID idempotency keys (hex), and PostgreSQL's dump shows
    // bytes as hex, so there the CVC is looked for as a whole token.
    if (name === "vault.db" && !PG_URL) {
      assert.ok(!bytes.replace(HEX_RUNS, " ").includes(AMEX_CVC), `${name}'s file holds the CVC`);
      const texts = sqliteTexts(vaultDb());
      assert.ok(texts.some((v) => HEX_VALUE.test(v)), "the hashes were read");
      for (const v of texts) assert.ok(HEX_VALUE.test(v) || !v.includes(AMEX_CVC), `${name} holds the CVC in ${v}`);
    } else {
      assert.ok(!cvcWord.test(bytes), `${name} holds the CVC`);
    }
  }
  // In the vault a card number exists only encrypted: the Amex payments are still within
  // their 15-minute save window, so their ciphertext is there, and never the digits.
  const sealed = sql(vaultDb(), "SELECT count(*) FROM cards WHERE last4 = '0005' AND length(ciphertext) = 31");
  assert.equal(sealed[0][0], 2, "15 digits + the 16-byte GCM tag, for each Amex payment");
  const log = env.server.log();
  assert.ok(log.split("\n").length > 10, "the log was captured");
  for (const line of log.split("\n")) {
    for (const n of numbers) assert.ok(!line.includes(n), `log line holds ${n}: ${line}`);
    assert.ok(!cvcPattern.test(line), `log line holds the CVC: ${line}`);
    assert.ok(!line.includes("cred_"), `log line holds a credential: ${line}`);
  }
});
