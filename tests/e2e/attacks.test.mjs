// The attack suite: a script on an allowed publisher page (an ad, an analytics tag, an XSS)
// runs beside the widget with the same powers as its JavaScript. With no click from the
// buyer, it tries to read saved info, pay, save, remove, mint and spend a token, swap what
// is paid, relabel the amount, load a second copy of the widget, and go through an iframe of
// the publisher's own origin. Each attempt must get nothing: no token, no saved data, no
// charge, no change. The assertions read vault.db and api.db.
//
// The buyer's own purchase that sets up saved info is made the way a buyer makes it: a
// real (trusted) click on Pay inside the vault's frame.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { useServerAndBrowser, sql, hostFrame, inView, tickInFrame, teeCart, JANE, ARTIFACTS } from "./harness.mjs";

const VISA = "4242 4242 4242 4242";
const THIEF = { name: "Mallory Thief", line1: "9 Drop St", line2: "", city: "Miami", region: "FL", postal_code: "33101", country: "US" };
const SAVED_SECRETS = ["4242", "Doe", "10001", "jane@example.com", "sav_", "tok_", "cred_", "Main St"];

let context;
const env = useServerAndBrowser({
  setup: async ({ browser }) => {
    context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
  },
});

const apiDb = () => join(env.server.dataDir, "api.db");
const vaultDb = () => join(env.server.dataDir, "vault.db");

/** Everything an attack could have changed, from both databases. */
function snapshot() {
  const one = (db, q) => sql(db, q)[0][0];
  return {
    cards: one(vaultDb(), "SELECT count(*) FROM cards"),
    savedTokens: one(vaultDb(), "SELECT count(*) FROM saved_tokens"),
    charges: one(vaultDb(), "SELECT count(*) FROM charges"),
    profiles: sql(vaultDb(), "SELECT id, credential_hash, card_id, key_id, length(ciphertext) FROM profiles"),
    orders: one(apiDb(), "SELECT count(*) FROM orders"),
    paidIntents: one(apiDb(), "SELECT count(*) FROM payment_intents WHERE order_id IS NOT NULL"),
  };
}

/** What the frame told the page, minus its size and readiness. */
const told = (messages) => messages.filter((m) => m.type !== "resize" && m.type !== "ready");

/** A press of Pay (`press`) a moment after the page covered or cut something of what it pays
 * (or all of the frame): nothing is paid, nothing changed since `before`, and the frame says why. */
async function pressedUnseen(page, press, before) {
  await page.page.waitForTimeout(1000);
  await press();
  await page.page.waitForTimeout(1500);
  assert.deepEqual(told(await page.messages()), [], "no Pay");
  assert.deepEqual(snapshot(), before);
  assert.match(await page.frame.locator("#status").textContent(), /or what it is for, was covered or not fully shown/);
}

/** Types the test Visa into a card frame, as the buyer does. */
async function typeCard(frame) {
  await frame.locator("#number").fill(VISA);
  await frame.locator("#expiry").fill("12/34");
  await frame.locator("#cvc").fill("123");
}

/** A frame of `mode` on a new page of `on`, shown `cart` (the card typed, in card mode), once
 * Pay shows the amount and is in view: the page and Pay. */
async function readyToPay(mode, cart, on = context) {
  const page = await hostFrame(on, env.server.origins, mode);
  await page.show(cart);
  if (mode === "card") await typeCard(page.frame);
  const pay = page.frame.locator("#pay[aria-disabled='false']");
  await pay.waitFor({ timeout: 15_000 });
  await inView(pay);
  return { page, pay };
}

/** No message the page got carries any of the buyer's saved info or a token. */
function assertNothingLeaked(messages, label) {
  const text = JSON.stringify(messages);
  for (const secret of SAVED_SECRETS) assert.ok(!text.includes(secret), `${label}: the page learned "${secret}": ${text}`);
}

test("set-up: the buyer pays with a typed card and ticks save, with real clicks inside the frame", async () => {
  const buyer = await hostFrame(context, env.server.origins, "card");
  await buyer.show(teeCart());
  await buyer.frame.locator("#number").fill(VISA);
  await buyer.frame.locator("#expiry").fill("12/34");
  await buyer.frame.locator("#cvc").fill("123");
  await tickInFrame(buyer.frame.locator("#save"));
  const pay = buyer.frame.locator("#pay[aria-disabled='false']");
  await pay.waitFor({ timeout: 15_000 });
  assert.match(await buyer.frame.locator("#ships-to").textContent(), /Jane Doe, 1 Main St, New York, NY 10001, US/);
  await inView(pay);
  await pay.click();
  const paid = await buyer.waitFor("paid");
  assert.equal(paid.receipt.status, "paid");
  await buyer.waitFor("saved");
  assert.deepEqual(told(await buyer.messages()).map((m) => m.type), ["paying", "saved", "paid"]);
  assert.equal(sql(vaultDb(), "SELECT count(*) FROM profiles")[0][0], 1, "saved, on the buyer's tick");
  // What the page got: the receipt of what it sent, and that something was saved. No token.
  assertNothingLeakedExceptReceipt(await buyer.messages());
  await buyer.page.close();
});

function assertNothingLeakedExceptReceipt(messages) {
  const text = JSON.stringify(messages.filter((m) => m.type !== "paid"));
  for (const secret of ["sav_", "tok_", "cred_", "save_secret"]) assert.ok(!text.includes(secret), `the page learned ${secret}`);
  const receipt = JSON.stringify(messages.find((m) => m.type === "paid"));
  for (const secret of ["tok_", "cred_", "save_secret"]) assert.ok(!receipt.includes(secret), `the receipt carries ${secret}`);
}

test("the saved-info frame answers lookup, pay_saved, save and remove from a page script with nothing", async () => {
  const before = snapshot();
  const page = await hostFrame(context, env.server.origins, "saved");
  const ready = (await page.messages()).find((m) => m.type === "ready");
  assert.deepEqual(ready, { type: "ready", v: 1, saved: true }, "the page learns only that saved info exists");
  for (const m of [
    { type: "lookup", v: 1, request_id: "a1" },
    { type: "pay_saved", v: 1, request_id: "a2" },
    { type: "save", v: 1, request_id: "a3", card_token: "tok_x", email: "mallory@evil.test", shipping: THIEF },
    { type: "remove", v: 1, request_id: "a4" },
    { type: "pay", v: 1 },
    { type: "confirm", v: 1, intent_id: "pi_x" },
  ]) await page.post(m);
  // A script can click nothing inside a cross-origin frame; the closest it gets is a
  // synthetic event on its own page, which never reaches the frame.
  await page.page.evaluate(() => document.getElementById("vaultframe").dispatchEvent(new MouseEvent("click", { bubbles: true })));
  await page.page.waitForTimeout(1500);
  assert.deepEqual(told(await page.messages()), [], "no answer to any of them");
  assertNothingLeaked(await page.messages(), "saved frame");
  assert.deepEqual(snapshot(), before, "no token, no charge, no change to the saved info");
  await page.page.close();
});

test("a saved-info frame shown no cart (nothing can be bought) keeps Pay disabled, and a press asks the page for nothing", async () => {
  const page = await hostFrame(context, env.server.origins, "saved");
  const pay = page.frame.locator("#pay");
  await page.show(teeCart({ saved: true }));
  await page.frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
  // The sheet takes the cart back: the option it named has sold out.
  await page.show(null);
  await page.frame.locator("#pay[aria-disabled='true']").waitFor({ timeout: 3_000 });
  await inView(pay);
  await pay.click({ force: true }); // a real press, on a button that says it is disabled
  await page.page.waitForTimeout(500);
  assert.equal((await page.messages()).filter((m) => m.type === "needs_details").length, 0, "saved info needs no details");
  assert.doesNotMatch(await page.frame.locator("#status").textContent(), /details/);
  await page.page.close();
});

test("a cart the page shows the saved-info frame is priced and drawn in the frame, and still not paid without a click", async () => {
  const before = snapshot();
  const page = await hostFrame(context, env.server.origins, "saved");
  await page.show(teeCart({ saved: true }));
  const pay = page.frame.locator("#pay[aria-disabled='false']");
  await pay.waitFor({ timeout: 15_000 });
  // The saved card and address are drawn inside the frame, for the buyer's eyes only.
  assert.equal((await page.frame.locator("#saved-card").textContent()).trim(), "Visa •••• 4242");
  assert.match(await page.frame.locator("#ships-to").textContent(), /Jane Doe, 1 Main St/);
  await page.page.waitForTimeout(1000);
  assert.deepEqual(told(await page.messages()), []);
  assertNothingLeaked(await page.messages(), "saved frame with a cart");
  assert.deepEqual(snapshot(), before);
  await page.page.screenshot({ path: join(ARTIFACTS, "attacks-saved-frame.png") });
  await page.page.close();
});

test("tokenize-and-spend: no message mints a token, the vault refuses the page's own request, a made-up token pays nothing", async () => {
  const before = snapshot();
  const page = await hostFrame(context, env.server.origins, "card");
  await page.show(teeCart());
  await page.frame.locator("#number").fill(VISA); // the buyer typing, who has not pressed Pay
  await page.frame.locator("#expiry").fill("12/34");
  await page.frame.locator("#cvc").fill("123");
  await page.post({ type: "tokenize", v: 1, request_id: "t1" });
  const tried = await page.page.evaluate(async ({ vault, api }) => {
    const attempt = async (url, body, headers = {}) => {
      try {
        const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
        return { status: r.status, text: await r.text() };
      } catch (e) {
        return { status: 0, text: String(e) };
      }
    };
    const intent = await (await fetch(`${api}/api/v1/intents`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ product_id: "red-tee", variant_id: "m", quantity: 1, email: "mallory@evil.test",
        shipping: { name: "Mallory Thief", line1: "9 Drop St", line2: "", city: "Miami", region: "FL", postal_code: "33101", country: "US" },
        share_email: false, tweet_id: null }),
    })).json();
    return {
      intent,
      mint: await attempt(`${vault}/v1/tokens`, { number: "4242424242424242", expiry: "12/34", cvc: "123", intent_id: intent.intent_id }, { "idempotency-key": crypto.randomUUID() }),
      savedMint: await attempt(`${vault}/v1/profile/tokens`, { intent_id: intent.intent_id }),
      spend: await attempt(`${api}/api/v1/orders`, { intent_id: intent.intent_id, client_secret: intent.client_secret, card_token: "tok_guessedguessedguessed00" }, { "idempotency-key": crypto.randomUUID() }),
    };
  }, { vault: env.server.origins.vault, api: env.server.origins.api });
  assert.ok(tried.mint.status === 0 || tried.mint.status === 403, `the vault refuses the page: ${JSON.stringify(tried.mint)}`);
  assert.ok(tried.savedMint.status === 0 || tried.savedMint.status >= 400, `no saved token for the page: ${JSON.stringify(tried.savedMint)}`);
  assert.equal(tried.spend.status, 400, `a made-up token: ${tried.spend.text}`);
  assert.match(tried.spend.text, /token_invalid/);
  await page.page.waitForTimeout(1000);
  assert.deepEqual(told(await page.messages()), [], "the frame minted nothing for the page");
  assert.deepEqual(snapshot(), before, "no token, no charge, no order, no saved change");
  await page.page.close();
});

test("swapping the intent: a new cart from the page is priced again and drawn beside Pay, where the buyer sees it before any click", async () => {
  const before = snapshot();
  const page = await hostFrame(context, env.server.origins, "card");
  await page.show(teeCart());
  await page.frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
  assert.match(await page.frame.locator("#ships-to").textContent(), /Jane Doe/);
  // The script quietly swaps the address: the frame prices the new cart and shows it.
  await page.show(teeCart({ email: "mallory@evil.test", shipping: THIEF }));
  await page.frame.locator("#ships-to", { hasText: "Mallory Thief, 9 Drop St, Miami, FL 33101, US" }).waitFor({ timeout: 15_000 });
  // And right after a swap Pay does not answer at once, so a swap cannot slip in under a click.
  await page.show(teeCart());
  assert.equal(await page.frame.locator("#pay").getAttribute("aria-disabled"), "true", "Pay waits after a change");
  await page.page.waitForTimeout(1500);
  assert.deepEqual(told(await page.messages()), []);
  assert.deepEqual(snapshot(), before, "nothing paid");
  await page.page.close();
});

test("relabelling the amount: extra fields and CSS tricks are dropped; Pay shows the server's amount", async () => {
  const page = await hostFrame(context, env.server.origins, "card");
  await page.show(teeCart());
  const pay = page.frame.locator("#pay[aria-disabled='false']");
  await pay.waitFor({ timeout: 15_000 });
  const real = (await pay.textContent()).trim();
  assert.match(real, /^Pay \$\d+\.\d\d$/);
  await page.post({ type: "show", v: 1, cart: { ...teeCart(), price: { minor: 1, currency: "USD" } } });
  await page.post({ type: "show", v: 1, cart: teeCart(), amount: "$0.01", label: "Pay $0.01" });
  await page.post({ type: "theme", v: 1, tokens: { surface: "red; content: 'Pay $0.01'" } });
  await page.post({ type: "theme", v: 1, tokens: { font: "x\" } #pay::after { content: 'Pay $0.01' }" } });
  await page.page.waitForTimeout(1000);
  assert.equal((await page.frame.locator("#pay").textContent()).trim(), real, "the amount is the server's");
  const after = await page.frame.locator("#pay").evaluate((b) => getComputedStyle(b, "::after").content);
  assert.ok(after === "none" || after === "normal", `no injected label: ${after}`);
  await page.page.close();
});

test("a second copy of the widget script on the page pays nothing either", async () => {
  const before = snapshot();
  const page = await context.newPage();
  await page.goto(`${env.server.origins.publisher}/`);
  await page.locator('[data-tweetbuy-host="1528000000000000001"] button[part="button"]').first().waitFor({ timeout: 20_000 });
  await page.evaluate((api) => {
    const s = document.createElement("script");
    s.type = "module";
    s.src = `${api}/embed.js?copy=2`;
    document.head.append(s);
  }, env.server.origins.api);
  await page.waitForTimeout(1500);
  const buttons = await page.locator('[data-tweetbuy-host="1528000000000000001"] button[part="button"]').count();
  assert.equal(buttons, 1, "the copy does not mount a second button");
  // Frames the copy may have made get the same answers as any page script's: nothing.
  await page.evaluate((vault) => {
    for (let i = 0; i < window.frames.length; i++) {
      for (const m of ['{"type":"pay_saved","v":1,"request_id":"c1"}', '{"type":"lookup","v":1,"request_id":"c2"}'])
        window.frames[i].postMessage(m, vault);
    }
  }, env.server.origins.vault);
  await page.waitForTimeout(1000);
  assert.deepEqual(snapshot(), before, "no token, no charge, no change");
  await page.close();
});

test("an iframe of the publisher's own origin frames the vault and asks; it gets nothing", async () => {
  const before = snapshot();
  const page = await context.newPage();
  await page.goto(`${env.server.origins.publisher}/`);
  const got = await page.evaluate(async ({ vault }) => {
    // An about:blank iframe has the page's own origin: the script reaches into it and frames
    // the vault there, so the vault frame's parent is a publisher-origin window it did not
    // expect, and the messages come from that window.
    const inner = document.createElement("iframe");
    document.body.append(inner);
    const doc = inner.contentDocument;
    const win = inner.contentWindow;
    const f = doc.createElement("iframe");
    f.name = "tweetbuy-saved";
    f.src = `${vault}/frame`;
    const heard = [];
    win.addEventListener("message", (e) => heard.push(String(e.data)));
    doc.body.append(f);
    await new Promise((r) => f.addEventListener("load", r));
    await new Promise((r) => setTimeout(r, 1000));
    const send = new win.Function("f", "m", "v", "f.contentWindow.postMessage(m, v)");
    const cart = { product_id: "red-tee", variant_id: "m", quantity: 1, tweet_id: null, email: null, shipping: null, share_email: false, discount_code: null };
    for (const m of ['{"type":"lookup","v":1,"request_id":"i1"}', '{"type":"pay_saved","v":1,"request_id":"i2"}',
      '{"type":"remove","v":1,"request_id":"i3"}', JSON.stringify({ type: "show", v: 1, cart })]) send(f, m, vault);
    await new Promise((r) => setTimeout(r, 1500));
    return heard;
  }, { vault: env.server.origins.vault });
  const messages = got.map((m) => JSON.parse(m));
  const framed = page.frames().find((f) => f.name() === "tweetbuy-saved");
  assert.equal(await framed.evaluate(() => document.documentElement.dataset.mode), "saved", "the saved-info frame was asked");
  assert.deepEqual(told(messages), [], `nothing but ready and its size: ${got}`);
  assertNothingLeaked(messages, "nested frame");
  assert.deepEqual(snapshot(), before, "no token, no charge, no change");
  await page.close();
});

test("keys the page steers into the saved-info frame pay nothing: its own focus, a field of its own before the frame", async () => {
  const before = snapshot();
  const page = await hostFrame(context, env.server.origins, "saved");
  await page.show(teeCart({ saved: true }));
  await page.frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
  await page.page.waitForTimeout(700);
  const onPay = () => page.frame.locator("#pay").evaluate((b) => document.activeElement === b);
  const keys = page.page.keyboard;
  // A focus message is no longer a thing the frame understands.
  await page.post({ type: "focus", v: 1 });
  assert.equal(await onPay(), false);
  // 1. The page focuses the frame while the buyer types a name, Tab, and Enter a moment later.
  await page.page.evaluate(() => document.getElementById("vaultframe").focus());
  await keys.type("Jane");
  await keys.press("Tab");
  assert.equal(await onPay(), true, "the buyer's Tab reached Pay");
  await page.page.waitForTimeout(700);
  await keys.press("Enter");
  // 2. A field of the page's just before the frame: the buyer types, Tabs on, types, Enter.
  await page.page.evaluate(() => {
    const field = document.createElement("input");
    document.body.prepend(field);
    field.focus();
  });
  await keys.type("Jane");
  await keys.press("Tab");
  assert.equal(await onPay(), true);
  await keys.type("Doe");
  await page.page.waitForTimeout(700);
  await keys.press("Enter");
  assert.match(await page.frame.locator("#status").textContent(), /Tab out of the payment form and back to the button/);
  await page.page.waitForTimeout(700);
  await keys.press("Enter"); // a second Enter is no more the buyer's than the first
  // 3. The same, Tab and Enter at once, as a form's submit.
  await page.page.evaluate(() => document.querySelector("input").focus());
  await keys.type("Jane");
  await keys.press("Tab");
  await keys.press("Enter");
  // 4. Focus the buyer put on Pay themselves, then took to the page: the page's
  //    iframe.focus() cannot bring it back onto Pay for the buyer's next Enter.
  await page.page.evaluate(() => document.querySelector("input").focus());
  await keys.press("Tab");
  assert.equal(await onPay(), true);
  await page.page.evaluate(() => document.querySelector("input").focus());
  await page.page.evaluate(() => document.getElementById("vaultframe").focus());
  assert.equal(await onPay(), false, "nothing is focused in the frame");
  await page.page.waitForTimeout(700);
  await keys.press("Enter");
  await page.page.waitForTimeout(1500);
  assert.deepEqual(told(await page.messages()), [], "no Pay");
  assert.deepEqual(snapshot(), before);
  await page.page.close();
});

test("a see-through or covered frame pays nothing on a click; in plain view a moment, the buyer's click pays", async () => {
  const page = await hostFrame(context, env.server.origins, "saved");
  await page.page.evaluate(() => { document.getElementById("vaultframe").style.opacity = "0"; });
  await page.show(teeCart({ saved: true }));
  await page.frame.locator("#pay[aria-disabled='false']").waitFor({ state: "attached", timeout: 15_000 });
  await page.page.waitForTimeout(1000);
  const before = snapshot();
  const box = await page.frame.locator("#pay").boundingBox();
  const click = () => page.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await click(); // a decoy's click through an invisible frame
  // A decoy laid over the frame, letting clicks through to it.
  await page.page.evaluate(() => {
    const frame = document.getElementById("vaultframe");
    frame.style.opacity = "1";
    const r = frame.getBoundingClientRect();
    const decoy = document.createElement("div");
    decoy.id = "decoy";
    decoy.textContent = "Play video";
    decoy.style.cssText = `position: absolute; left: ${r.left + scrollX}px; top: ${r.top + scrollY}px; width: ${r.width}px; height: ${r.height}px; background: #000; pointer-events: none; z-index: 9`;
    document.body.append(decoy);
  });
  await pressedUnseen(page, click, before);
  await page.page.evaluate(() => document.getElementById("decoy").remove());
  await page.page.waitForTimeout(800);
  await click();
  const paid = await page.waitFor("paid");
  assert.equal(paid.receipt.status, "paid");
  await page.page.close();
});

test("a theme that would hide or shrink what Pay pays for is refused whole; a readable one applies", async () => {
  const page = await hostFrame(context, env.server.origins, "card");
  const look = () => page.frame.locator("#pays-to").evaluate((p) => {
    const pay = getComputedStyle(document.getElementById("pay"));
    const s = getComputedStyle(p);
    return [s.color, s.fontSize, pay.color, pay.backgroundColor];
  });
  const own = await look();
  for (const tokens of [
    { text: "transparent" },
    { font_size_small: "0px" },
    { text: "#777777", surface: "#888888" },
    { accent_text: "rgba(255, 255, 255, 0)" },
    { accent: "#0f1419", accent_text: "#111111", radius: "4px" },
    // Values that read well as written but not as drawn.
    { surface: "currentcolor", text: "#ffffff" },
    { color_scheme: "dark", text: "canvastext", surface: "#ffffff" },
  ]) {
    await page.post({ type: "theme", v: 1, tokens });
    await page.page.waitForTimeout(150);
    assert.deepEqual(await look(), own, `refused: ${JSON.stringify(tokens)}`);
  }
  await page.post({ type: "theme", v: 1, tokens: { text: "#222222", surface: "#fafafa", font_size_small: "13px", accent: "#7c3aed" } });
  await page.page.waitForTimeout(150);
  const [color, size, , background] = await look();
  assert.deepEqual([color, size, background], ["rgb(34, 34, 34)", "13px", "rgb(124, 58, 237)"]);
  await page.page.close();
});

test("what Pay pays cut short by a narrowed saved-info frame (the amount, the quantity): a click pays nothing; the frame wide again, it pays", async () => {
  const { page } = await readyToPay("saved", teeCart({ saved: true, quantity: 5 }));
  assert.match(await page.frame.locator("#pays-to").textContent(), /× 5/);
  const frame = () => page.page.locator("#vaultframe");
  await frame().evaluate((f) => { f.style.width = "130px"; });
  await page.page.waitForTimeout(1000);
  // In plain view and seen long enough, but what Pay pays is clipped to two lines.
  const cut = await page.frame.locator("#pays-to").evaluate((p) => p.scrollHeight > p.clientHeight + 1);
  assert.ok(cut, "the line of what Pay pays for is cut short");
  const before = snapshot();
  const click = async () => {
    const box = await page.frame.locator("#pay").boundingBox();
    await page.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  };
  await click();
  await page.page.waitForTimeout(1500);
  assert.deepEqual(told(await page.messages()), [], "no Pay");
  assert.deepEqual(snapshot(), before);
  assert.match(await page.frame.locator("#status").textContent(), /cut off here/);
  await frame().evaluate((f) => { f.style.width = "420px"; });
  await page.page.waitForTimeout(1000);
  await click();
  const paid = await page.waitFor("paid");
  assert.equal(paid.receipt.status, "paid");
  await page.page.close();
});

test("a theme in viewport units judged readable in a wide frame is dropped once the frame is narrowed, before a click can count", async () => {
  const { page } = await readyToPay("card", teeCart());
  const frame = page.page.locator("#vaultframe");
  const sizes = () => page.frame.locator("#pays-to").evaluate((p) => [p, document.getElementById("pay")].map((e) => parseFloat(getComputedStyle(e).fontSize)));
  await frame.evaluate((f) => { f.style.width = "1300px"; });
  await page.page.waitForTimeout(300);
  await page.post({ type: "theme", v: 1, tokens: { font_size: "1vw", font_size_small: "1vw" } });
  await page.page.waitForTimeout(300);
  assert.deepEqual(await sizes(), [13, 13], "13 px at this width: readable, and applied");
  await frame.evaluate((f) => { f.style.width = "360px"; });
  await page.page.waitForTimeout(300);
  const [small, pay] = await sizes();
  assert.ok(small >= 12 && pay >= 12, `the frame keeps its own look, not 3.6 px text: ${small}, ${pay}`);
  await page.page.close();
});

test("the saved-info frame's height says nothing of the saved address: the same before and after it is drawn, however narrow", async () => {
  const page = await hostFrame(context, env.server.origins, "saved");
  await page.page.evaluate(() => { document.getElementById("vaultframe").style.width = "220px"; });
  await page.page.waitForTimeout(300);
  const height = async () => (await page.messages()).filter((m) => m.type === "resize").at(-1).height;
  const empty = await height();
  await page.show(teeCart({ saved: true }));
  await page.frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
  await page.page.waitForTimeout(300);
  assert.match(await page.frame.locator("#ships-to").textContent(), /Jane Doe, 1 Main St, New York/);
  assert.equal(await height(), empty, "the address's lines do not change the height");
  await page.page.close();
});

test("the buyer's own click still pays with saved info: Pay inside the frame, shipped to the saved address", async () => {
  const { page, pay } = await readyToPay("saved", teeCart({ saved: true }));
  // A script that swaps in its own email and address the moment the buyer pays changes
  // nothing: the receipt to the page still leaves the saved ones out.
  await page.page.evaluate(() => {
    addEventListener("message", (e) => {
      if (String(e.data).includes('"paying"')) {
        window.toFrame({ type: "show", v: 1, cart: { product_id: "red-tee", variant_id: "m", quantity: 1, tweet_id: null,
          email: "mallory@evil.test", shipping: { name: "M", line1: "9 Drop St", line2: "", city: "Miami", region: "FL", postal_code: "33101", country: "US" },
          share_email: true, discount_code: null } });
      }
    });
  });
  await pay.click();
  const paid = await page.waitFor("paid");
  assert.equal(paid.receipt.email, "", "the saved email stays in the frame");
  assert.equal(paid.receipt.shipping, null, "so does the saved address");
  const [row] = sql(apiDb(), "SELECT email, shipping_json, status FROM orders WHERE id = ?", [paid.receipt.order_id]);
  assert.equal(row[0], "jane@example.com");
  assert.deepEqual(JSON.parse(row[1]), { ...JANE }, "shipped to the saved address");
  assert.equal(row[2], "paid");
  await page.page.close();
});

test("the saved-info frame pays with the saved email and address only, whatever email or address the page's cart holds", async () => {
  // Each alone would have the saved other used with it: the page's email would be mailed the
  // receipt with the saved address on it; the page's address would be shipped to on the saved card.
  for (const [label, extra] of [["the page's email", { email: "mallory@evil.test", share_email: true }], ["the page's address", { shipping: THIEF }]]) {
    const { page, pay } = await readyToPay("saved", teeCart({ saved: true, ...extra }));
    assert.match(await page.frame.locator("#ships-to").textContent(), /Jane Doe, 1 Main St, New York/, label);
    assert.equal(await page.frame.locator("#shares").textContent(), "", `${label}: the saved email is not shared`);
    await pay.click();
    const paid = await page.waitFor("paid");
    const [row] = sql(apiDb(), "SELECT email, shipping_json, CASE WHEN share_email THEN 1 ELSE 0 END FROM orders WHERE id = ?", [paid.receipt.order_id]);
    assert.deepEqual([row[0], JSON.parse(row[1]), row[2]], ["jane@example.com", { ...JANE }, 0], label);
    assert.equal(paid.receipt.email, "", label);
    assert.equal(paid.receipt.shipping, null, label);
    await page.page.close();
  }
});

test("what Pay pays covered by the page while Pay is in plain view: a click pays nothing; uncovered a moment, it pays", async () => {
  const { page, pay } = await readyToPay("saved", teeCart({ saved: true }));
  const before = snapshot();
  // The page's own line laid over the one the frame shows (pointer-events: none), Pay left clear.
  const line = await page.frame.locator("#ships-to").boundingBox();
  await page.page.evaluate((r) => {
    const decoy = document.createElement("div");
    decoy.id = "decoy";
    decoy.textContent = "Ships to you";
    decoy.style.cssText = `position: absolute; left: ${r.x + scrollX}px; top: ${r.y + scrollY}px; width: ${r.width}px; height: ${r.height}px; background: #fff; pointer-events: none; z-index: 9`;
    document.body.append(decoy);
  }, line);
  await pressedUnseen(page, () => pay.click(), before);
  await page.page.evaluate(() => document.getElementById("decoy").remove());
  await page.page.waitForTimeout(800);
  await pay.click();
  assert.equal((await page.waitFor("paid")).receipt.status, "paid");
  await page.page.close();
});

test("a tick of Save made through a see-through frame is undone, and the buyer's Pay then saves nothing", async () => {
  const { page, pay } = await readyToPay("card", teeCart());
  const profiles = () => sql(vaultDb(), "SELECT count(*) FROM profiles")[0][0];
  const before = profiles();
  await page.page.evaluate(() => { document.getElementById("vaultframe").style.opacity = "0"; });
  await page.page.waitForTimeout(1000);
  const box = await page.frame.locator("#save").boundingBox();
  await page.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2); // a decoy's click
  assert.equal(await page.frame.locator("#save").isChecked(), false, "the tick is undone");
  assert.match(await page.frame.locator("#status").textContent(), /^That tick did not count/);
  await page.page.evaluate(() => { document.getElementById("vaultframe").style.opacity = "1"; });
  await page.page.waitForTimeout(1000);
  // The buyer ticks it in plain view, and thinks better of it: the message goes with the tick.
  await tickInFrame(page.frame.locator("#save"));
  assert.equal(await page.frame.locator("#status").textContent(), "");
  await page.frame.locator("#save").uncheck();
  await pay.click();
  assert.equal((await page.waitFor("paid")).receipt.status, "paid");
  await page.page.waitForTimeout(500);
  assert.equal(profiles(), before, "nothing saved");
  assert.ok(!told(await page.messages()).some((m) => m.type === "saved"), "the page heard of no save");
  await page.page.close();
});

test("a theme's font never draws what Pay pays, Pay, the saved card or the save box", async () => {
  const page = await hostFrame(context, env.server.origins, "card");
  const fonts = () => page.frame.locator("body").evaluate(() =>
    ["pays-to", "pay", "status", "saved-card", "save-label", "number"].map((id) => getComputedStyle(document.getElementById(id)).fontFamily));
  const own = await fonts();
  await page.post({ type: "theme", v: 1, tokens: { font: "Wingdings" } });
  await page.page.waitForTimeout(150);
  const themed = await fonts();
  assert.deepEqual(themed.slice(0, 5), own.slice(0, 5), "the frame's own font");
  assert.equal(themed[5], "Wingdings", "the card fields take the page's font");
  await page.page.close();
});

test("what Pay pays scrolled out of view but a strip, Pay whole in view: a click pays nothing; in view a moment, it pays", async () => {
  const { page } = await readyToPay("card", teeCart());
  const before = snapshot();
  // The page scrolls (or clips) the frame so that one pixel of those lines is left showing:
  // unobscured, and its own text could stand where the rest of them was.
  const summary = await page.frame.locator("#summary").boundingBox();
  await page.page.evaluate((bottom) => {
    const spacer = document.createElement("div");
    spacer.style.height = "3000px";
    document.body.append(spacer);
    scrollTo(0, scrollY + bottom - 1);
  }, summary.y + summary.height);
  const box = await page.frame.locator("#pay").boundingBox();
  await pressedUnseen(page, () => page.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2), before);
  await page.page.evaluate(() => scrollTo(0, 0));
  await page.page.waitForTimeout(1000);
  await page.frame.locator("#pay").click();
  assert.equal((await page.waitFor("paid")).receipt.status, "paid");
  await page.page.close();
});

test("saved info with no address, for an item that ships: the frame tells the buyer to use another address, the page learns nothing of it", async () => {
  // A buyer of a ticket (no address) saves their card on a device of their own.
  const device = await env.browser.newContext({ viewport: { width: 1024, height: 900 } });
  const ticket = { product_id: "demi-fall-tour-ticket", variant_id: "ga", quantity: 1, tweet_id: "1528000000000000003",
    email: "jane@example.com", shipping: null, share_email: false, discount_code: null };
  const { page: buyer, pay } = await readyToPay("card", ticket, device);
  await tickInFrame(buyer.frame.locator("#save"));
  await pay.click();
  await buyer.waitFor("saved");
  await buyer.page.close();
  // The tee ships: with that saved info there is no address to price it for.
  const page = await hostFrame(device, env.server.origins, "saved");
  await page.show(teeCart({ saved: true }));
  await page.frame.locator("#status", { hasText: "your saved info has no address" }).waitFor({ timeout: 15_000 });
  await page.page.waitForTimeout(500);
  assert.deepEqual(told(await page.messages()).filter((m) => m.type !== "saved"), [], "nothing told to the page while pricing");
  await device.close();
});
