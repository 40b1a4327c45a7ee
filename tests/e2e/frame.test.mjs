// The payment frame on its own, hosted by a publisher-origin page as the widget hosts it:
// axe-core inside the frame (card and saved modes, English and Spanish), the vault's
// refusals in the visitor's language, the keyboard alone (Tab into the frame, Enter on
// Pay), the theme reaching the Pay button, and a phone-sized layout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { useServerAndBrowser, hostFrame, inView, teeCart, axeDocument, ARTIFACTS } from "./harness.mjs";

let context;
const env = useServerAndBrowser({
  setup: async ({ browser }) => {
    context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
  },
});

/** A frame hosted with `?lang=`; hostFrame builds `/frame`, so the page adds the language. */
async function hostIn(lang, mode) {
  const host = await hostFrame(context, env.server.origins, mode);
  if (lang !== "en") {
    await host.page.evaluate((l) => {
      const f = document.getElementById("vaultframe");
      window.fromFrame = [];
      f.src = `${f.src}?lang=${l}`;
      return new Promise((r) => f.addEventListener("load", r, { once: true }));
    }, lang);
    await host.waitFor("ready");
  }
  return host;
}

function frameOf(host) {
  return host.page.frames().find((f) => f.url().startsWith(env.server.origins.vault));
}

async function axeInFrame(host, label) {
  await axeDocument(frameOf(host), `the frame, ${label}`);
}

for (const lang of ["en", "es"]) {
  test(`axe finds nothing inside the card frame (${lang}), before and after a refused card`, async () => {
    const host = await hostIn(lang, "card");
    await host.show(teeCart());
    await host.frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
    await axeInFrame(host, `${lang}, priced`);
    await host.frame.locator("#number").fill("4242 4242 4242 4241");
    await host.frame.locator("#expiry").fill("13/20");
    await host.frame.locator("#cvc").fill("1");
    await inView(host.frame.locator("#pay"));
    await host.frame.locator("#pay").click();
    await host.frame.locator("#number[aria-invalid='true']").waitFor({ timeout: 15_000 });
    await axeInFrame(host, `${lang}, with field errors`);
    const error = (await host.frame.locator("#number-error").textContent()).trim();
    if (lang === "es") assert.match(error, /tarjeta/i, `the vault's refusal in Spanish: ${error}`);
    else assert.match(error, /card number/i, error);
    assert.equal(await host.frame.locator("#number").evaluate((e) => document.activeElement === e), true, "focus on the first bad field");
    await host.page.close();
  });
}

test("a declined card is explained in Spanish to a Spanish visitor, until the visitor changes the card", async () => {
  const host = await hostIn("es", "card");
  await host.show(teeCart());
  await host.frame.locator("#number").fill("4000 0000 0000 0002");
  await host.frame.locator("#expiry").fill("12/34");
  await host.frame.locator("#cvc").fill("123");
  const pay = host.frame.locator("#pay[aria-disabled='false']");
  await pay.waitFor({ timeout: 15_000 });
  assert.match((await pay.textContent()).replace(/[\u00a0\u202f]/g, " "), /^Pagar \d+,\d\d US\$$|^Pagar US\$ ?\d+,\d\d$|^Pagar \$?\d+[.,]\d\d/);
  assert.match(await host.frame.locator("#ships-to").textContent(), /^Se envía a Jane Doe/);
  await inView(pay);
  await pay.click();
  const failed = await host.waitFor("failed");
  assert.equal(failed.code, "payment_declined");
  assert.match(failed.message, /rechazada/);
  assert.match(await host.frame.locator("#status").textContent(), /rechazada/);
  await host.frame.locator("#number").fill("4242 4242 4242 4242");
  assert.equal(await host.frame.locator("#status").textContent(), "", "the refusal of the card before is gone");
  await host.page.close();
});

test("details that go wrong and come back as they were: Pay answers again once they have stood still", async () => {
  const host = await hostIn("en", "card");
  await host.show(teeCart());
  const pay = host.frame.locator("#pay");
  await host.frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
  // A field briefly wrong: the sheet takes its cart back; Pay then asks for the details.
  await host.show(null);
  await host.frame.locator("#pays-to:empty").waitFor({ state: "attached" });
  await inView(pay);
  await pay.click();
  assert.match(await host.frame.locator("#status").textContent(), /Fill in your details/);
  // Put back as it was: the cart priced before, shown again.
  await host.show(teeCart());
  await host.frame.locator("#pay[aria-disabled='false']", { hasText: /Pay .*37\.66/ }).waitFor({ timeout: 3_000 });
  assert.equal(await host.frame.locator("#status").textContent(), "", "the details came");
  await host.page.close();
});

test("keyboard alone: Tab into the frame's fields, Enter on Pay pays once it has had focus a moment; Escape is passed to the page", async () => {
  const host = await hostIn("en", "card");
  await host.show(teeCart());
  // Focus on a control of the page just before the frame: Tab goes straight in.
  await host.page.evaluate(() => {
    const before = document.createElement("button");
    before.textContent = "Before";
    document.getElementById("vaultframe").before(before);
    before.focus();
  });
  await host.page.keyboard.press("Tab");
  let focused = await frameOf(host).evaluate(() => document.activeElement?.id);
  assert.equal(focused, "number", "Tab lands on the card number");
  await host.page.keyboard.type("4242424242424242");
  await host.page.keyboard.press("Tab");
  await host.page.keyboard.type("1234");
  await host.page.keyboard.press("Tab");
  await host.page.keyboard.type("123");
  await host.frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
  await host.page.keyboard.press("Tab"); // the save box
  await host.page.keyboard.press("Tab"); // Pay
  focused = await frameOf(host).evaluate(() => document.activeElement?.id);
  assert.equal(focused, "pay");
  // Enter the instant Pay has focus (as from a Tab meant for the page) asks for another press.
  await host.page.keyboard.press("Enter");
  await host.page.waitForTimeout(300);
  assert.equal(await host.frame.locator("#status").textContent(), "Press again to confirm.");
  assert.deepEqual((await host.messages()).filter((m) => m.type === "paying"), [], "not paid");
  // Text typed on Pay (a buyer typing elsewhere, as far as the frame can tell): Enter says how
  // to pay; Tab out of the frame and back, as it says, and Enter pays.
  await host.page.keyboard.type("x");
  await host.page.waitForTimeout(700);
  await host.page.keyboard.press("Enter");
  assert.match(await host.frame.locator("#status").textContent(), /Tab out of the payment form and back/);
  await host.page.keyboard.press("Tab"); // out of the frame, onto the page
  await host.page.keyboard.press("Shift+Tab"); // back onto Pay
  assert.equal(await frameOf(host).evaluate(() => document.activeElement?.id), "pay");
  await host.page.waitForTimeout(700);
  await host.page.keyboard.press("Enter");
  const paid = await host.waitFor("paid");
  assert.equal(paid.receipt.card_last4, "4242");
  await host.page.keyboard.press("Escape");
  await host.waitFor("escape");
  await host.page.close();
});

/** Holds back `page`'s requests for `url` (a Playwright route pattern) until the returned
 * function is called: the frame's page parsed and drawn, its scripts not yet run. */
async function holdBack(page, url) {
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route(url, async (route) => { await held; await route.continue(); });
  return release;
}

test("one page for both frames: named for saved info, it never shows the card form, not even before its script runs; the card frame then needs no new page", async () => {
  const page = await context.newPage();
  const { vault, publisher } = env.server.origins;
  const release = await holdBack(page, `${vault}/frame.js`);
  await page.goto(`${publisher}/`);
  // Its script held back, the frame never fires `load`: waited for by its controls instead.
  const frameNamed = (name) => page.evaluate(({ vault, name }) => {
    const f = document.createElement("iframe");
    f.name = name;
    f.className = name;
    f.src = `${vault}/frame?lang=en`;
    document.body.prepend(f);
  }, { vault, name });
  try {
    await frameNamed("tweetbuy-saved");
    const saved = await (await page.waitForSelector("iframe.tweetbuy-saved")).contentFrame();
    await saved.locator("#pay").waitFor({ state: "attached" });
    // Its stylesheet applied (requests through a route are slower), its script still held.
    await saved.waitForFunction(() => document.querySelector("link[rel=stylesheet]").sheet);
    assert.equal(await saved.evaluate(() => document.documentElement.dataset.mode), "saved");
    assert.equal(await saved.locator("#card").isVisible(), false, "no card form in the saved-info frame");
    assert.equal(await saved.locator("#number").evaluate((e) => e.checkVisibility()), false, "nothing to tab into");
    // The same page, named for the card: the form is there before the script runs.
    await frameNamed("tweetbuy-card");
    const card = await (await page.waitForSelector("iframe.tweetbuy-card")).contentFrame();
    await card.locator("#number").waitFor();
    assert.equal(await card.evaluate(() => document.documentElement.dataset.mode), "card");
    // A name the widget does not give is the card frame, as it was.
    await frameNamed("other");
    const other = await (await page.waitForSelector("iframe.other")).contentFrame();
    await other.locator("#number").waitFor();
    // Once its script runs, the saved-info frame hides the form itself too (for a stylesheet
    // that did not load).
    release();
    await saved.waitForFunction(() => document.getElementById("card").hidden, null, { timeout: 10_000 });
  } finally {
    release();
    await page.close();
  }
  // Without interception (which turns the browser's cache off), the card frame after the
  // saved-info frame gets its page as a 304, with no body.
  const fresh = await context.browser().newContext();
  const plain = await fresh.newPage();
  const pages = [];
  plain.on("requestfinished", async (r) => {
    if (new URL(r.url()).pathname === "/frame") pages.push((await r.sizes()).responseBodySize);
  });
  await plain.goto(`${publisher}/`);
  for (const name of ["tweetbuy-saved", "tweetbuy-card"]) {
    await plain.evaluate(({ vault, name }) => {
      const f = document.createElement("iframe");
      f.name = name;
      f.src = `${vault}/frame?lang=en`;
      document.body.prepend(f);
      return new Promise((r) => f.addEventListener("load", r, { once: true }));
    }, { vault, name });
  }
  await plain.waitForTimeout(200);
  console.log(`the frame's page over the wire, for each frame: ${pages.join(" B, ")} B`);
  assert.equal(pages.length, 2);
  assert.ok(pages[0] > 300 && pages[1] === 0, "the second frame's page came from the browser's copy");
  await fresh.close();
});

test("on a slow link the card form is in the buyer's language before the frame's scripts run", async () => {
  const page = await context.newPage();
  const { vault, publisher } = env.server.origins;
  const release = await holdBack(page, /\/frame(-words-\w+)?\.js$/);
  await page.goto(`${publisher}/`);
  await page.evaluate((vault) => {
    const f = document.createElement("iframe");
    f.id = "vaultframe";
    f.style.cssText = "width: 420px; height: 420px; border: 0";
    f.name = "tweetbuy-card";
    f.src = `${vault}/frame?lang=es-MX`;
    document.body.prepend(f);
  }, vault);
  try {
    const frame = await (await page.waitForSelector("#vaultframe")).contentFrame();
    await frame.locator("#number").waitFor();
    assert.equal(await frame.evaluate(() => typeof window.tbWords), "undefined", "no script of the frame's has run");
    assert.equal(await frame.evaluate(() => document.documentElement.lang), "es");
    assert.equal(await frame.evaluate(() => document.title), "Pago");
    assert.equal(await frame.locator('label[for="number"]').textContent(), "Número de tarjeta");
    assert.equal(await frame.locator("#expiry").getAttribute("placeholder"), "MM/AA");
    assert.equal(await frame.locator("#save-label").textContent(), "Guardar mi tarjeta y dirección para la próxima vez");
    assert.equal(await frame.locator("#pay").textContent(), "Pagar");
    release();
    // Then the scripts bring the rest of the words, in Spanish only.
    await frame.waitForFunction(() => window.tbWords, null, { timeout: 10_000, polling: 100 });
    assert.equal(await frame.evaluate(() => window.tbWords.paying), "Pagando…");
    assert.equal(await frame.locator('label[for="number"]').textContent(), "Número de tarjeta");
  } finally {
    release();
    await page.close();
  }
});

test("keyboard alone on a slow link: a buyer who tabs into the card form before the frame's script runs pays by Enter all the same; a tick of Save made before it runs is asked again", async () => {
  const page = await context.newPage();
  const { vault, publisher } = env.server.origins;
  // The frame's page arrives, its script does not yet: the form is there to type into.
  const release = await holdBack(page, `${vault}/frame.js`);
  await page.goto(`${publisher}/`);
  await page.evaluate((vault) => {
    const before = document.createElement("button");
    before.textContent = "Before";
    document.body.prepend(before);
    const f = document.createElement("iframe");
    f.id = "vaultframe";
    f.title = "Payment";
    f.style.cssText = "width: 420px; height: 420px; border: 0";
    f.name = "tweetbuy-card";
    f.src = `${vault}/frame`;
    before.after(f);
    window.fromFrame = [];
    addEventListener("message", (e) => {
      if (e.origin === vault && e.source === f.contentWindow) window.fromFrame.push(JSON.parse(e.data));
    });
    before.focus();
  }, vault);
  const inFrame = () => page.frames().find((f) => f.url().startsWith(vault));
  const frame = page.frameLocator("#vaultframe");
  await frame.locator("#pay").waitFor({ state: "attached" });
  await page.keyboard.press("Tab");
  assert.equal(await inFrame().evaluate(() => document.activeElement?.id), "number", "Tab lands on the card number");
  await page.keyboard.type("4242424242424242");
  await page.keyboard.press("Tab");
  await page.keyboard.type("12/34");
  await page.keyboard.press("Tab");
  await page.keyboard.type("123");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Space"); // the save box, ticked while nothing can judge the tick
  assert.equal(await frame.locator("#save").isChecked(), true);
  await page.keyboard.press("Tab");
  assert.equal(await inFrame().evaluate(() => document.activeElement?.id), "pay");
  assert.deepEqual(await page.evaluate(() => window.fromFrame), [], "the frame's script has not run");

  release();
  await page.waitForFunction(() => window.fromFrame.some((m) => m.type === "ready"), null, { timeout: 15_000 });
  assert.equal(await frame.locator("#save").isChecked(), false, "the early tick is undone");
  assert.match(await frame.locator("#status").textContent(), /before the payment form was ready\. Tick it again/);
  await page.evaluate(([c, vault]) => document.getElementById("vaultframe").contentWindow.postMessage(JSON.stringify({ type: "show", v: 1, cart: c }), vault), [teeCart(), vault]);
  await frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
  assert.equal(await inFrame().evaluate(() => document.activeElement?.id), "pay", "focus is still on Pay");
  await page.waitForTimeout(800); // the buyer reads the amount
  await page.keyboard.press("Enter");
  const paid = await page.waitForFunction(() => window.fromFrame.find((m) => m.type === "paid"), null, { timeout: 20_000 }).then((h) => h.jsonValue());
  assert.equal(paid.receipt.card_last4, "4242");
  assert.deepEqual((await page.evaluate(() => window.fromFrame)).filter((m) => m.type === "saved"), [], "nothing saved");
  await page.close();
});

test("where the browser keeps no cookie of the frame's, Save is not offered (it would save what no one could use), and the card still pays", async () => {
  const blocked = await env.browser.newContext({ viewport: { width: 1024, height: 900 } });
  // Such a browser, as the frame sees it: the vault origin's cookie writes are dropped.
  await blocked.addInitScript((vault) => {
    if (location.origin !== vault) return;
    const real = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
    Object.defineProperty(Document.prototype, "cookie", { get: () => "", set: () => {}, configurable: real.configurable });
  }, env.server.origins.vault);
  const host = await hostFrame(blocked, env.server.origins, "card");
  assert.equal(await host.frame.locator("#save").isHidden(), true, "no Save box");
  await host.show(teeCart());
  await host.frame.locator("#number").fill("4242 4242 4242 4242");
  await host.frame.locator("#expiry").fill("12/34");
  await host.frame.locator("#cvc").fill("123");
  const pay = host.frame.locator("#pay[aria-disabled='false']");
  await pay.waitFor({ timeout: 15_000 });
  await inView(pay);
  await pay.click();
  assert.equal((await host.waitFor("paid")).receipt.status, "paid");
  assert.deepEqual((await host.messages()).filter((m) => m.type === "saved"), []);
  await blocked.close();
  // And a browser that keeps them offers it.
  const kept = await hostIn("en", "card");
  assert.equal(await kept.frame.locator("#save").isVisible(), true);
  await kept.page.close();
});

test("a compact theme (no space between lines): Pay's focus ring does not cover what it pays, and Enter pays", async () => {
  const host = await hostIn("en", "card");
  await host.post({ type: "theme", v: 1, tokens: { space: "0px", focus_ring: "4px" } });
  await host.show(teeCart());
  await host.frame.locator("#number").fill("4242 4242 4242 4242");
  await host.frame.locator("#expiry").fill("12/34");
  await host.frame.locator("#cvc").fill("123");
  await host.frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
  await inView(host.frame.locator("#pay"));
  await host.frame.locator("#cvc").click(); // the buyer's own press in the frame
  await host.page.keyboard.press("Tab"); // the save box
  await host.page.keyboard.press("Tab"); // Pay
  assert.equal(await frameOf(host).evaluate(() => document.activeElement?.id), "pay");
  await host.page.waitForTimeout(1000);
  await host.page.keyboard.press("Enter");
  const paid = await host.waitFor("paid");
  assert.equal(paid.receipt.status, "paid");
  await host.page.close();
});

test("theme tokens reach the Pay button; the phone layout fits", async () => {
  const card = await hostIn("en", "card");
  await card.post({ type: "theme", v: 1, tokens: { accent: "#7c3aed", accent_text: "#ffffff", radius: "4px" } });
  await card.page.waitForTimeout(300);
  const style = await card.frame.locator("#pay").evaluate((b) => {
    const s = getComputedStyle(b);
    return { bg: s.backgroundColor, color: s.color, radius: s.borderTopLeftRadius };
  });
  assert.deepEqual(style, { bg: "rgb(124, 58, 237)", color: "rgb(255, 255, 255)", radius: "4px" });
  await card.page.setViewportSize({ width: 375, height: 740 });
  await card.page.evaluate(() => { document.getElementById("vaultframe").style.width = "343px"; });
  await card.show(teeCart());
  await card.frame.locator("#pay[aria-disabled='false']").waitFor({ timeout: 15_000 });
  const widths = await frameOf(card).evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(widths.scroll <= widths.client, `no sideways scroll in the frame at 343 px: ${JSON.stringify(widths)}`);
  const box = await card.frame.locator("#pay").boundingBox();
  assert.ok(box.height >= 44, `Pay is a 44 px target (${box.height})`);
  await card.page.screenshot({ path: join(ARTIFACTS, "frame-phone.png") });
  await card.page.close();
});
