// Shared end-to-end harness: starts the real server binary on free loopback ports with a
// fresh data folder, and Debian's chromium (driven by playwright-core) with a fresh profile.
import { spawn, execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, existsSync } from "node:fs";
import { once } from "node:events";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { before, after } from "node:test";
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, "../..");
export const SERVER = process.env.TWEETBUY_SERVER || join(ROOT, "target/release/tweetbuy-server");
export const WIDGET_DIR = process.env.TWEETBUY_WIDGET_DIR || join(ROOT, "dist");
export const ARTIFACTS = join(here, "artifacts");

/**
 * A PostgreSQL server to keep the servers' data in instead of SQLite files (`make test-e2e-pg`
 * sets it): each server gets its own pair of schemas, and `sql()` reads them with psql.
 */
export const PG_URL = process.env.TWEETBUY_E2E_PG_URL || "";
const pgPrefixes = new Map(); // data folder → schema prefix

export const CARDS = {
  visa: "4242 4242 4242 4242",
  declined: "4000 0000 0000 0002",
};

async function freePort(host = "127.0.0.1") {
  const srv = createServer();
  srv.listen(0, host);
  await once(srv, "listening");
  const { port } = srv.address();
  srv.close();
  await once(srv, "close");
  return port;
}

async function waitForHttp(url, timeoutMs = 30_000, givenUp = () => false) {
  const start = Date.now();
  while (!givenUp()) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() - start > timeoutMs) throw new Error(`server did not answer ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts `tweetbuy-server serve` with its own data folder; returns origins and a stop().
 * Secrets such as TWEETBUY_ADMIN_KEY go in `extraEnv`: the server takes them from the
 * environment, not from its command line. It runs in demo mode (TWEETBUY_DEMO), so the
 * vault keeps its generated master key in the throw-away data folder.
 */
export async function startServer(extraArgs = [], extraEnv = {}) {
  // A port can be taken between freePort() and the server's bind (a browser's or the
  // database client's outgoing connection gets the same ephemeral port): try new ports.
  const attempts = 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(extraArgs, extraEnv);
    } catch (e) {
      if (attempt >= attempts || !(e instanceof PortTaken)) throw e;
    }
  }
}

/** `env` with `{publisher}` in its values written as the publisher's origin, which is known
 * only once its port is: a suite may allow its own pages' origin beside it
 * (`TWEETBUY_ALLOWED_ORIGINS: "{publisher},http://127.0.0.1:PORT"`). */
function withOrigins(env, origins) {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replaceAll("{publisher}", origins.publisher)]));
}

/** The server could not bind one of the ports it was given. */
class PortTaken extends Error {}

async function startServerOnce(extraArgs, extraEnv) {
  const dataDir = mkdtempSync(join(tmpdir(), "tweetbuy-e2e-"));
  // Three sites, as in production: a loopback address each (Linux answers all of 127.0.0.0/8),
  // so the card frame is a cross-site frame of the page, with its storage partitioned and its
  // visibility judged as a publisher's page would have them.
  const hosts = { publisher: "127.0.0.1", api: "127.0.0.2", vault: "127.0.0.3" };
  const [pub, api, vault] = [await freePort(hosts.publisher), await freePort(hosts.api), await freePort(hosts.vault)];
  const origins = {
    publisher: `http://${hosts.publisher}:${pub}`,
    api: `http://${hosts.api}:${api}`,
    vault: `http://${hosts.vault}:${vault}`,
  };
  const logPath = join(dataDir, "server.log");
  const pgEnv = {};
  if (PG_URL) {
    const prefix = `e2e_${Math.random().toString(36).slice(2, 10)}`;
    pgPrefixes.set(dataDir, prefix);
    Object.assign(pgEnv, { DATABASE_URL: PG_URL, TWEETBUY_DB_SCHEMA_PREFIX: prefix });
  }
  const log = createWriteStream(logPath);
  const proc = spawn(
    SERVER,
    [
      "serve",
      "--publisher-addr", `${hosts.publisher}:${pub}`,
      "--api-addr", `${hosts.api}:${api}`,
      "--vault-addr", `${hosts.vault}:${vault}`,
      "--data-dir", dataDir,
      // A caller may serve another build or loader (the bench's A/B comparisons).
      ...(extraArgs.includes("--widget-dir") ? [] : ["--widget-dir", WIDGET_DIR]),
      ...(extraArgs.includes("--assets-dir") ? [] : ["--assets-dir", join(ROOT, "server/assets")]),
      ...extraArgs,
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "info", TWEETBUY_DEMO: "1", ...pgEnv, ...withOrigins(extraEnv, origins) } },
  );
  // The log ends once both streams have closed, so a failure reads every line.
  proc.stdout.pipe(log, { end: false });
  proc.stderr.pipe(log, { end: false });
  const closed = once(proc, "close").then(async ([code]) => {
    log.end();
    await once(log, "finish");
    return code;
  });
  // Whichever settles first decides; the other must not throw later, unhandled.
  let early = null;
  let started = false;
  const exitedEarly = closed.then((code) => {
    if (started) return;
    const text = readFileSync(logPath, "utf8");
    const Failure = text.includes("Address already in use") ? PortTaken : Error;
    early = new Failure(`server exited early (${code}): ${text}`);
  });
  try {
    await Promise.race([waitForHttp(`${origins.api}/healthz`, 30_000, () => early !== null), exitedEarly]);
  } catch (e) {
    proc.kill("SIGKILL");
    throw e;
  }
  if (early === null && proc.exitCode !== null) await exitedEarly;
  if (early) throw early;
  started = true;
  return {
    origins,
    dataDir,
    logPath,
    // What the seller's command line needs to find the same data (PostgreSQL's URL and schemas).
    dbEnv: pgEnv,
    log: () => readFileSync(logPath, "utf8"),
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      await closed;
    },
  };
}

/** Debian chromium, headless. playwright gives every launch a fresh, empty profile folder. */
export async function launchBrowser(extraArgs = []) {
  const executablePath = execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      ...extraArgs,
    ],
  });
  return browser;
}

/**
 * One server and one browser for a whole test file. Registers node:test's `before` (creates
 * tests/e2e/artifacts/, starts the server with `serverArgs` and `serverEnv`, launches
 * chromium with `browserArgs`, then runs `setup(env)`) and `after` (runs `teardown(env)`,
 * closes the browser, stops the server), and returns an object whose `server` and `browser`
 * are filled in by `before`: read them inside tests and hooks (`env.server.origins`), not at
 * import time.
 * A file's own set-up (a browser context, another origin) goes in `setup`, not in a second
 * top-level `before`: node:test starts a top-level `before` as soon as it is registered, so
 * a second one would not wait for the server and the browser.
 */
export function useServerAndBrowser({ serverArgs = [], serverEnv = {}, browserArgs = [], setup, teardown } = {}) {
  const env = { server: undefined, browser: undefined };
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    env.server = await startServer(serverArgs, serverEnv);
    env.browser = await launchBrowser(browserArgs);
    await setup?.(env);
  });
  after(async () => {
    await teardown?.(env);
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/**
 * Runs SQL against a server's `api.db` or `vault.db` and returns rows as arrays: the SQLite
 * file with Python's sqlite3 module, or, on PostgreSQL, that server's schema with psql. Write
 * the SQL both engines read (`TRUE`, `length(…)`, `?` placeholders).
 */
export function sql(dbPath, query, params = []) {
  const prefix = pgPrefixes.get(dirname(dbPath));
  if (prefix !== undefined) return pgSql(`${prefix}_${dbPath.endsWith("vault.db") ? "vault" : "api"}`, query, params);
  const script = "import json,sqlite3,sys\n" +
    "con=sqlite3.connect(sys.argv[1])\n" +
    "print(json.dumps(con.execute(sys.argv[2], json.loads(sys.argv[3])).fetchall()))";
  return JSON.parse(execFileSync("python3", ["-c", script, dbPath, query, JSON.stringify(params)], { encoding: "utf8" }));
}

/** Runs one write (`UPDATE`, `INSERT`, `DELETE`) on a server's `api.db` or `vault.db`, committed. */
export function sqlWrite(dbPath, query, params = []) {
  const prefix = pgPrefixes.get(dirname(dbPath));
  if (prefix !== undefined) {
    const schema = `${prefix}_${dbPath.endsWith("vault.db") ? "vault" : "api"}`;
    execFileSync("psql", [PG_URL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", `SET search_path TO ${schema}`, "-c", inline(query, params)]);
    return;
  }
  const script = "import json,sqlite3,sys\n" +
    "con=sqlite3.connect(sys.argv[1])\n" +
    "con.execute(sys.argv[2], json.loads(sys.argv[3]))\n" +
    "con.commit()";
  execFileSync("python3", ["-c", script, dbPath, query, JSON.stringify(params)]);
}

/** `?` placeholders filled with SQL literals, for psql. */
function inline(query, params) {
  let i = 0;
  const literal = (v) => (typeof v === "number" ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
  return query.replace(/\?/g, () => literal(params[i++]));
}

function pgSql(schema, query, params) {
  const inlined = inline(query, params);
  // json_agg of whole rows keeps the columns in select order.
  const out = execFileSync("psql", [PG_URL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
    "-c", `SET search_path TO ${schema}`, "-c", `SELECT coalesce(json_agg(q), '[]') FROM (${inlined}) q`], { encoding: "utf8" });
  return JSON.parse(out.trim() || "[]").map((row) => Object.values(row));
}

/**
 * Everything a server's `api.db` or `vault.db` holds, as text, for leak scans: every byte of
 * the SQLite file and its -wal and -shm, or on PostgreSQL every row of every table of that
 * schema as JSON (bytes as hex).
 */
export function dbText(dataDir, name) {
  const prefix = pgPrefixes.get(dataDir);
  if (prefix === undefined) return dbFiles(dataDir, name).map((f) => readFileSync(f).toString("latin1")).join("\n");
  const schema = `${prefix}_${name.startsWith("vault") ? "vault" : "api"}`;
  const tables = pgSql(schema, "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()", []);
  assert.ok(tables.length > 0, `no tables in ${schema}`);
  return tables.map(([t]) => JSON.stringify(pgSql(schema, `SELECT * FROM ${t}`, []))).join("\n");
}

/** Every file in the data folder whose name starts with `prefix` (the db, its -wal, -shm). */
export function dbFiles(dataDir, prefix) {
  return readdirSync(dataDir).filter((f) => f.startsWith(prefix)).map((f) => join(dataDir, f)).filter(existsSync);
}

/** A mail as a reader sees it: its headers, then its body decoded from the transfer encoding
 * the server's mailer chose (quoted-printable or base64 for text that is not ASCII). */
export function mailText(raw) {
  const cut = raw.indexOf("\r\n\r\n");
  const [head, body] = cut < 0 ? [raw, ""] : [raw.slice(0, cut), raw.slice(cut + 4)];
  const encoding = /^Content-Transfer-Encoding:\s*(\S+)/im.exec(head)?.[1].toLowerCase();
  let bytes = Buffer.from(body, "utf8");
  if (encoding === "base64") bytes = Buffer.from(body.replace(/\s+/g, ""), "base64");
  if (encoding === "quoted-printable") {
    const joined = body.replace(/=\r?\n/g, "");
    const out = [];
    for (let i = 0; i < joined.length; i++) {
      const hex = joined.slice(i + 1, i + 3);
      if (joined[i] === "=" && /^[0-9A-F]{2}$/i.test(hex)) {
        out.push(parseInt(hex, 16));
        i += 2;
      } else out.push(joined.charCodeAt(i));
    }
    bytes = Buffer.from(out);
  }
  return `${head}\r\n\r\n${bytes.toString("utf8")}`;
}

/** Waits (up to 10 s) for mails in the server's outbox under `dataDir` whose file names start
 * with `prefix`; returns their texts (`mailText`), none if none came. */
export async function outboxMails(dataDir, prefix) {
  const outbox = join(dataDir, "outbox");
  for (let i = 0; i < 100; i++) {
    const found = existsSync(outbox) ? readdirSync(outbox).filter((f) => f.startsWith(prefix) && f.endsWith(".eml")) : [];
    if (found.length) return found.map((f) => mailText(readFileSync(join(outbox, f), "utf8")));
    await new Promise((r) => setTimeout(r, 100));
  }
  return [];
}

/** Console messages and page errors, for "no errors" checks. */
export function watchConsole(page) {
  const seen = [];
  page.on("console", (m) => seen.push({ type: m.type(), text: m.text() }));
  page.on("pageerror", (e) => seen.push({ type: "pageerror", text: String(e) }));
  return seen;
}

/** The tee's checkout, from its open product sheet: size M, Jane Doe's US address, a card. */
export async function fillTeeCheckout(page, card, { cvc = "123" } = {}) {
  // In the open sheet: another button's sheet may be built already, hidden (on hover).
  const sheet = page.locator("dialog[open]:not(.tb-waiting)");
  await sheet.locator(".tb-variant", { hasText: /^M/ }).click();
  await sheet.getByRole("button", { name: "Continue" }).click();
  await fillTeeDetails(page, card, { cvc });
}

/** Jane Doe's email and US address, in the open sheet's checkout step under `scope` (a page or a host). */
export async function fillAddress(scope) {
  const sheet = scope.locator("dialog[open]:not(.tb-waiting)");
  await sheet.locator("#tb-email").fill("jane@example.com");
  await sheet.locator("#tb-name").fill("Jane Doe");
  await sheet.locator("#tb-line1").fill("1 Main St");
  await sheet.locator("#tb-city").fill("New York");
  await sheet.locator("#tb-region").selectOption("NY");
  await sheet.locator("#tb-postal_code").fill("10001");
}

/** The open checkout step's fields: Jane Doe's email and US address, and a card in the frame. */
export async function fillTeeDetails(page, card, { cvc = "123" } = {}) {
  await fillAddress(page);
  const frame = page.locator("dialog[open]:not(.tb-waiting)").frameLocator("iframe.tb-card-frame");
  await frame.locator("#number").fill(card);
  await frame.locator("#expiry").fill("12/34");
  await frame.locator("#cvc").fill(cvc);
}

/** The open sheet's payment frame (card or saved), as a Playwright frame locator. */
export function payFrame(page, kind = "card") {
  return page.locator("dialog[open]:not(.tb-waiting)").frameLocator(`iframe.tb-${kind}-frame`);
}

/** Waits until Pay inside the frame answers a click and shows the server's amount. */
export async function waitForPay(page, _tweetId, timeout = 15_000, kind = "card") {
  const pay = payFrame(page, kind).locator("#pay[aria-disabled='false']");
  await pay.waitFor({ timeout });
  const text = (await pay.textContent()).replace(/[\u00a0\u202f]/g, " ");
  assert.match(text, /\d/, `Pay shows an amount: ${text}`);
  await inView(pay);
  return pay;
}

/**
 * Scrolls a button of the vault's frame into view and lets the buyer see it: the frame counts
 * a press only on a button it has shown, whole and uncovered, for 600 ms (its clickjacking
 * defence), and a test's click comes the instant the button scrolls in.
 */
export async function inView(locator) {
  // The frame first, from the page: a cross-origin frame out of view gets no animation
  // frames (Playwright's scrolling waits for two of a still box), and its own scrollIntoView
  // does not scroll the page around it.
  const handle = await locator.elementHandle();
  const frame = await (await handle.ownerFrame()).frameElement();
  await frame.evaluate((f) => f.scrollIntoView({ block: "nearest" }));
  await locator.scrollIntoViewIfNeeded();
  await locator.page().waitForTimeout(700);
}

/** Ticks a checkbox inside the vault's frame with a real click. Chromium drops a click into
 * a frame that tracks its visibility (as ours does) for a moment after the frame moved on
 * the page, and on a busy machine the sheet can still be settling around it (its total
 * arriving) when the click comes: no event reaches the frame, and the box stays unticked. A
 * buyer clicks again; so does this, up to three times, and only while the box is unticked. */
export async function tickInFrame(locator) {
  for (let attempt = 1; ; attempt++) {
    try {
      await locator.check({ timeout: 10_000 });
      return;
    } catch (error) {
      if (attempt === 3 || !/did not change its state/.test(error.message)) throw error;
    }
    await locator.page().waitForTimeout(600);
  }
}

/** Presses Pay inside the frame (a real, trusted click) once it shows the amount. */
export async function pressPay(page, tweetId, kind = "card") {
  const pay = await waitForPay(page, tweetId, 15_000, kind);
  await pay.click();
}

/**
 * A publisher-origin page hosting the vault's payment frame directly, as the widget does.
 * `messages()` is everything the frame posted to the page; `show(cart)` posts a cart.
 */
export async function hostFrame(context, origins, mode = "card", path = "/") {
  const page = await context.newPage();
  await page.goto(`${origins.publisher}${path}`);
  await page.evaluate(({ vault, mode }) => {
    const f = document.createElement("iframe");
    f.id = "vaultframe";
    f.title = "Payment";
    f.style.cssText = "width: 420px; height: 420px; border: 0";
    f.name = `tweetbuy-${mode}`; // the frame's mode, as the widget names it
    f.src = `${vault}/frame`;
    document.body.prepend(f);
    window.fromFrame = [];
    addEventListener("message", (e) => {
      if (e.origin === vault && e.source === f.contentWindow) window.fromFrame.push(JSON.parse(e.data));
    });
    window.toFrame = (msg) => f.contentWindow.postMessage(typeof msg === "string" ? msg : JSON.stringify(msg), vault);
    return new Promise((r) => f.addEventListener("load", r));
  }, { vault: origins.vault, mode });
  const messages = () => page.evaluate(() => window.fromFrame);
  await page.waitForFunction(() => window.fromFrame.some((m) => m.type === "ready"), null, { timeout: 15_000 });
  // The frame tracks its own visibility (IntersectionObserver v2), and so Chromium drops
  // clicks into it for a moment after it appears or moves, as a buyer never clicks that fast.
  await page.waitForTimeout(700);
  return {
    page,
    frame: page.frameLocator("#vaultframe"),
    messages,
    post: (msg) => page.evaluate((m) => window.toFrame(m), msg),
    show: (cart) => page.evaluate((c) => window.toFrame({ type: "show", v: 1, cart: c }), cart),
    waitFor: (type, timeout = 20_000) =>
      page.waitForFunction((t) => window.fromFrame.find((m) => m.type === t), type, { timeout }).then((h) => h.jsonValue()),
  };
}

/** Jane Doe's US address, as the sheet sends it in a cart. */
export const JANE = { name: "Jane Doe", line1: "1 Main St", line2: "", city: "New York", region: "NY", postal_code: "10001", country: "US" };

/** A cart for the tee, size M, as the sheet sends it; `saved` leaves email and address to the vault. */
export const teeCart = ({ saved = false, ...extra } = {}) => ({
  product_id: "red-tee", variant_id: "m", quantity: 1, tweet_id: "1528000000000000001",
  email: saved ? null : "jane@example.com", shipping: saved ? null : JANE, share_email: false, discount_code: null, ...extra,
});

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** The rules every axe run here checks: WCAG 2.2 A and AA, and axe's best practices. */
export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

/** Runs axe-core on the whole document of `target`, a page or a frame of any origin: its
 * source goes in through the debugger, which no page's CSP refuses. */
export async function axeDocument(target, label, tags = AXE_TAGS) {
  await target.evaluate(AXE_SOURCE);
  const violations = await target.evaluate(async (values) => {
    const r = await window.axe.run(document, { resultTypes: ["violations"], runOnly: { type: "tag", values } });
    return r.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => `${n.target} :: ${n.failureSummary}`) }));
  }, tags);
  assert.deepEqual(violations, [], `axe violations in ${label}: ${JSON.stringify(violations, null, 2)}`);
}

/** Runs axe-core on one embed's shadow host (and so its shadow tree and dialog). */
export async function axe(page, tweet, label) {
  if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(async ([t, values]) => {
    const host = document.querySelector(`[data-tweetbuy-host="${t}"]`);
    const r = await window.axe.run(host, {
      iframes: false,
      resultTypes: ["violations"],
      runOnly: { type: "tag", values },
    });
    return r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => `${n.target} :: ${n.failureSummary}`) }));
  }, [tweet, AXE_TAGS]);
  assert.deepEqual(result, [], `axe violations on ${label}: ${JSON.stringify(result, null, 2)}`);
}
