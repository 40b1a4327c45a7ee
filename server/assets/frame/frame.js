// The payment frame, on the vault origin. Pay lives here and nowhere else.
//
// The publisher's page is not ours: its ads, analytics and any XSS run with the widget's own
// powers. So the page may tell this frame what the buyer is buying (a cart), its theme, to
// clear; it can never make it pay, save or remove, nor put the buyer's clicks and keys here.
// Those happen only on a trusted click or key press inside this frame, with the browser's
// user activation on this origin (see "Whose gesture it is" below). What is paid is what this frame shows beside Pay: the amount, the seller and the
// address come from a payment intent the api priced, never from the page's message. A card
// number is typed only here and sent only to this origin; the token the vault mints pays
// that one intent and never leaves this frame. Saved info (card, email, address) is read
// only here; the page learns that it exists and nothing more.
//
// Validation rules live in the Rust core crate and run on the servers; this script formats
// input and relays their answers. Which page messages and theme values it accepts is in
// rules.mjs, checked against the same table of vectors as the Rust side.
import { decode, THEME } from "/frame-rules.mjs";

const root = document.documentElement;
const allowed = new Set((root.dataset.allowedOrigins || "").split(/\s+/).filter(Boolean));
const API = (root.dataset.apiOrigin || "").replace(/\/$/, "");
const params = new URLSearchParams(location.search);
// Set by frame-keys.js, from the iframe's name.
const MODE = root.dataset.mode === "saved" ? "saved" : "card";
const LANG = root.lang;
// The embedding page: the only origin this frame posts to, when it is on the allowlist.
// Browsers without `location.ancestorOrigins` (Firefox) learn it from the parent's first
// message instead, whose origin the browser vouches for; what the frame says before then
// waits for it.
let parentOrigin = (location.ancestorOrigins && location.ancestorOrigins[0]) || "";
const waiting = [];
// How long Pay waits after what it pays changed, so a change cannot slip in under a click.
const SETTLE_MS = 600;

const $ = (id) => document.getElementById(id);
const FIELDS = ["number", "expiry", "cvc"];

// ---- Words, in the visitor's language ----

// The vault chose the frame's language from its `lang` and put it on the page, with the
// words of that language only (words/*.js, loaded before this script).
const W = window.tbWords;
// The page's own words that this script changes and puts back, as the vault sent them.
const PAGE = { save: $("save-label").textContent, pay: $("pay").textContent, remove: $("remove").textContent };
const BRANDS = {
  visa: "Visa", mastercard: "Mastercard", amex: "American Express", discover: "Discover",
  jcb: "JCB", diners_club: "Diners Club", union_pay: "UnionPay",
};

/** An amount in the visitor's language: `{minor: 2718, currency: "USD"}` → "$27.18". */
export function formatMoney(money, lang = LANG) {
  const format = new Intl.NumberFormat(lang, { style: "currency", currency: money.currency });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(money.minor / 10 ** digits);
}

/** "Jane Doe, 1 Main St, Apt 2, New York, NY 10001, US". */
export function addressLine(a) {
  const place = [a.region, a.postal_code].filter(Boolean).join(" ");
  return [a.name, a.line1, a.line2, a.city, place, a.country].filter((part) => part && part.trim()).join(", ");
}

// ---- Talking to the page ----

function post(message) {
  if (window.parent === window) return;
  if (!parentOrigin) {
    waiting.push(message);
    return;
  }
  if (!allowed.has(parentOrigin)) return;
  window.parent.postMessage(JSON.stringify({ ...message, v: 1 }), parentOrigin);
}

// ---- Talking to the servers ----

const storage = (area) => {
  try {
    return window[area];
  } catch {
    return null; // blocked, as many browsers block a third-party frame's storage
  }
};
// The device credential is a cookie of this origin that no script reads (HttpOnly), kept by
// the browser for this frame under the page's site (partitioned) even where third-party
// storage is blocked; the vault sets and forgets it. Beside it, a readable cookie with no
// secret says that something is saved.
const SAVED_COOKIE = "__Host-tb_saved";
// What the frame's own cookies are: this origin's, for the page's site only.
const COOKIE_ATTRIBUTES = "Path=/; Secure; SameSite=None; Partitioned";
/** The value of this origin's readable cookie `name`, or null (also when it does not decode). */
function cookie(name) {
  const pair = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  try {
    return pair ? decodeURIComponent(pair.slice(name.length + 1)) : null;
  } catch {
    return null;
  }
}
const hasSaved = () => cookie(SAVED_COOKIE) === "1";

/** Whether this browser keeps this frame's cookies, and so could keep a credential: some
 * block every third-party cookie, partitioned or not. */
function keepsCookies() {
  const probe = "__Host-tb_probe";
  document.cookie = `${probe}=1; ${COOKIE_ATTRIBUTES}`;
  const kept = cookie(probe) === "1";
  document.cookie = `${probe}=; Max-Age=0; ${COOKIE_ATTRIBUTES}`;
  return kept;
}

async function call(url, { method = "POST", body, key, timeoutMs } = {}) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (key) headers["idempotency-key"] = key;
  const controller = timeoutMs ? new AbortController() : null;
  if (controller) setTimeout(() => controller.abort(), timeoutMs);
  const signal = controller?.signal;
  try {
    const response = await fetch(url, { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) });
    let json = null;
    try {
      json = response.status === 204 ? null : await response.json();
    } catch {
      json = null;
    }
    return { status: response.status, body: json };
  } catch {
    return { status: 0, body: null };
  }
}

/** How long the confirmation waits for "Save my card" after a payment; past it, the frame
 * stops waiting and says it was not saved (a vault that answers later may still save it). */
const SAVE_WAIT_MS = 10_000;

const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);

// ---- State ----

const state = {
  cart: null, // from the page
  profile: null, // saved mode: {card, email, shipping}, read here only
  intent: null, // the priced intent shown beside Pay
  intentFor: "", // the cart it was priced for, as JSON
  changedAt: 0, // when what Pay pays last changed
  pricing: 0, // the number of the latest pricing request, so an older answer is dropped
  repricings: 0, // pricing tries since the api last answered, for the wait before the next
  busy: false,
  paid: false,
  checking: false, // asking again about an order whose answer was lost
  saveSecret: null,
  statusAboutCard: false, // the status is a refusal of the card typed here
};

// ---- Drawing ----

/** Says `text` beside Pay; `aboutCard`: a refusal of the card typed here, which goes once the
 * buyer changes the card. */
function setStatus(text, error = false, aboutCard = false) {
  $("status").textContent = text || "";
  $("status").classList.toggle("error", !!error);
  state.statusAboutCard = aboutCard;
}

function showFieldErrors(errors) {
  for (const name of FIELDS) {
    const err = errors.find((e) => e.field === name);
    $(name).setAttribute("aria-invalid", err ? "true" : "false");
    $(`${name}-error`).textContent = err ? W.field[err.code] || err.message : "";
  }
  const first = errors.find((e) => FIELDS.includes(e.field));
  if (first) $(first.field).focus();
}

function payReady() {
  return !!state.intent && !state.busy && !state.paid && state.intentFor === JSON.stringify(effectiveCart());
}

function draw() {
  const pay = $("pay");
  const intent = state.intent;
  const current = intent && state.intentFor === JSON.stringify(effectiveCart());
  const settled = Date.now() - state.changedAt >= SETTLE_MS;
  if (state.paid) pay.textContent = W.paid;
  else if (state.checking) pay.textContent = W.checking;
  else if (state.busy) pay.textContent = W.paying;
  else pay.textContent = current ? W.payAmount(formatMoney(intent.quote.total)) : PAGE.pay;
  // Pay answers a click once what it pays has stood still for a moment, or, with no cart yet,
  // to ask the page for the buyer's details (the card frame's only: saved info holds them all,
  // so there no cart means nothing can be bought).
  const answers = (payReady() && settled) || (MODE !== "saved" && !state.busy && !state.paid && !state.cart);
  pay.setAttribute("aria-disabled", answers ? "false" : "true");
  pay.setAttribute("aria-busy", state.busy ? "true" : "false");
  const item = intent && `${intent.product_title} (${intent.variant_label})${intent.quantity > 1 ? ` × ${intent.quantity}` : ""}`;
  const code = intent?.quote.discount;
  const discount = code ? W.withCode(code.code, formatMoney(code.amount)) : "";
  $("pays-to").textContent = current ? W.paysTo(intent.seller, item) + discount : "";
  const shared = current && JSON.parse(state.intentFor).share_email;
  $("shares").textContent = shared ? W.shares(intent.email, intent.seller) : "";
  $("save-label").textContent = intent && !intent.shipping ? W.saveCardOnly : PAGE.save;
  $("ships-to").textContent = !current ? "" : intent.shipping ? W.shipsTo(addressLine(intent.shipping)) : W.deliveredTo(intent.email);
  if (MODE === "saved" && state.profile) {
    const card = state.profile.card;
    $("saved-card").textContent = W.savedCard(BRANDS[card.brand] || card.brand, card.last4);
  }
}

// ---- The intent shown beside Pay ----

/** The cart as priced: in saved mode, always with the saved email and address, whatever the
 * page sent. A page that could send one of them would have the other used with it: its own
 * email with the saved address would mail the buyer's receipt, address and all, to the page;
 * its own address with the saved card would ship to it. The consent box is on the page, which
 * never saw the saved email: it is not shared. */
function effectiveCart() {
  const cart = state.cart;
  if (!cart || MODE !== "saved") return cart;
  return state.profile && { ...cart, email: state.profile.email, shipping: state.profile.shipping, share_email: false };
}

let pricingTimer = 0;
function schedulePricing() {
  clearTimeout(pricingTimer);
  pricingTimer = setTimeout(price, 250);
}

async function price() {
  // Saved info is priced only once it has been read, with its own email and address.
  if (MODE === "saved" && !state.profile) return draw();
  const cart = effectiveCart();
  const wanted = JSON.stringify(cart);
  if (!cart || wanted === state.intentFor) return draw();
  const ticket = ++state.pricing;
  setStatus(W.pricing);
  const { product_id, variant_id, quantity, tweet_id, email, shipping, share_email, discount_code } = cart;
  const body = { product_id, variant_id, quantity, email: email ?? "", shipping, share_email, tweet_id, discount_code };
  const { status, body: answer } = await call(`${API}/api/v1/intents`, { body });
  if (ticket !== state.pricing) return; // a newer cart is being priced
  state.changedAt = Date.now();
  if (status === 201 && answer) {
    state.intent = answer;
    state.intentFor = wanted;
    state.repricings = 0;
    setStatus("");
    setTimeout(draw, SETTLE_MS + 20);
  } else {
    state.intent = null;
    state.intentFor = "";
    explainRefusal(status, answer, { pricing: true });
    // No answer, or the api's own trouble: the same cart is priced again after a while (2 s,
    // doubling to 30 s), and when the device is back online, so Pay comes back by itself.
    if (status === 0 || status === 429 || status >= 500) {
      const wait = Math.min(30_000, 2_000 * 2 ** state.repricings++);
      setTimeout(() => ticket === state.pricing && price(), wait);
    }
  }
  draw();
}
addEventListener("online", () => state.intent || price());

// The fields of the saved email and address, as the api's field errors name them.
const SAVED_FIELDS = ["email", "shipping", "name", "line1", "line2", "city", "region", "postal_code", "country"];

/** Says why the api or the vault refused, here and to the page. */
function explainRefusal(status, body, { pricing = false } = {}) {
  const code = body?.code || (status === 0 ? "payment_error" : "internal");
  if (code === "validation_failed" && Array.isArray(body.fields)) {
    const cardErrors = body.fields.filter((f) => FIELDS.includes(f.field));
    if (cardErrors.length) {
      showFieldErrors(cardErrors);
      setStatus("");
      post({ type: "failed", code, message: cardErrors[0] && (W.field[cardErrors[0].code] || cardErrors[0].message) });
      return;
    }
    // Saved details the page never saw: said here only; the page learns no more than a code.
    // A refused discount code is the page's own field, told to it as any other; but whether
    // the saved buyer has used a code already is about them, and stays here.
    // While pricing, not even that it failed: the page could ask product after product and
    // learn the saved address's country, or whether the saved email has used a code. After
    // the buyer's own Pay, the page hears it failed (its sheet stops waiting), and no more.
    const aboutSaved = body.fields.some((f) => SAVED_FIELDS.includes(f.field) || f.code === "discount_already_used");
    if (MODE === "saved" && aboutSaved) {
      const used = body.fields.every((f) => f.code === "discount_already_used");
      const none = body.fields.some((f) => f.field === "shipping");
      setStatus(used ? W.codeUsed : none ? W.noSavedAddress : W.notShippable, true);
      if (!pricing) post({ type: "failed", code, message: W.generic });
      return;
    }
    // The details the page holds (email, address, option): the page shows them by its fields.
    setStatus(pricing ? W.details : W.generic, !pricing);
    post({ type: "invalid", errors: body.fields.map(({ field, code, message }) => ({ field, code, message })) });
    return;
  }
  const message = {
    sold_out: W.soldOut,
    not_enough_stock: W.fewerLeft,
    sale_ended: W.saleEnded,
    sale_not_started: W.notStarted,
    payment_declined: W.declined[body?.decline_code] || W.declined.card_declined,
    payment_error: W.unreachable,
    token_invalid: MODE === "saved" ? W.savedFailed : W.cardAgain,
    token_mismatch: W.expired,
    intent_invalid: W.expired,
    rate_limited: W.rateLimited,
  }[code] || (status === 0 ? W.unreachable : W.generic);
  setStatus(message, true, code === "payment_declined" && MODE === "card");
  post({ type: "failed", code, message });
}

// ---- Pay ----

// ---- Whose gesture it is ----
//
// The page cannot click here, but it can try to bring here clicks and keys the buyer meant
// for the page: by covering this frame or making it see-through (clickjacking), or by
// putting focus here while the buyer types (`iframe.focus()` sends the next keys to this
// document; a `#fragment` in the frame's address can focus one of its controls; a page field
// just before the frame hands focus on at the buyer's next Tab). So a Pay or a Remove counts
// only when:
// - it is a trusted event with this origin's user activation;
// - from the keyboard (Enter or Space on the button), focus came here by the buyer's own
//   doing (keys.js: a press in this frame, Tab from the page straight onto one of its
//   controls, or Tab from one of its controls to another), the buyer has typed no text on a
//   button since (someone typing a name is not paying), and the button has had focus for
//   SETTLE_MS (a press sooner asks for another). Focus leaving the frame leaves nothing
//   focused in it, so the page's `iframe.focus()` cannot bring it back onto a control;
// - where the browser can tell (IntersectionObserver v2, in Chromium), the button and what it
//   consents to were fully visible (unobscured, opaque, not transformed) for SETTLE_MS before
//   the gesture: beside Pay, the lines of what it pays (a page could lay its own address over
//   the one shipped to, leaving Pay in view) and the saved card; beside Remove, the saved card.
// Ticking "Save my card" is a consent too, held to the same rules: a tick that is not the
// buyer's is undone.

// Watched from the page's head by keys.js, before the form could take focus. Without it (it
// failed to load), no key press on a button counts: the buyer clicks, as the status says.
const keyboard = window.tbKeyboard || { ours: false, keysSinceFocus: true, tabbing: false, focusedAt: 0 };
// A tick of Save made before this script ran was judged by nothing: start() undoes it.

// When each consent control, and what it consents to, became fully visible (null: it is not),
// once the browser says.
const visibleSince = new Map();
const visibilityKnown = "isVisible" in (window.IntersectionObserverEntry?.prototype || {});
if (visibilityKnown) {
  const watch = new IntersectionObserver((entries) => {
    for (const e of entries) {
      // Whole, too: a page that clips the frame to a strip of a line (or scrolls it half
      // out of view) leaves it unobscured, but not seen.
      if (!e.isVisible || e.intersectionRatio < 0.99) visibleSince.set(e.target, null);
      else if (visibleSince.get(e.target) == null) visibleSince.set(e.target, e.time);
    }
  }, { trackVisibility: true, delay: 100, threshold: [0, 0.99, 1] });
  for (const id of ["pay", "remove", "summary", "saved-card", "save"]) watch.observe($(id));
}

/** What a press of Pay consents to, seen beside it: what it pays, and the saved card it pays with. */
const payShows = () => [$("pay"), $("summary"), ...(MODE === "saved" ? [$("saved-card")] : [])];

/** Whether every one of `shown` had been fully visible for SETTLE_MS when `event` happened. */
function seenLongEnough(shown, event) {
  if (!visibilityKnown) return true; // no way to tell here (not Chromium)
  return shown.every((element) => {
    const since = visibleSince.get(element); // none reported yet: not seen
    return since != null && event.timeStamp - since >= SETTLE_MS;
  });
}

/** Only the buyer's own click or key press on a control, inside this frame, with everything
 * it consents to (`shown`, the control first) in view, counts. */
function fromTheBuyer(event, shown) {
  if (!event.isTrusted) return false;
  const activation = navigator.userActivation;
  if (activation && !activation.isActive) return false;
  // A keyboard's Enter or Space on a button is a click with no pointer (detail 0). When focus
  // may not be the buyer's doing, the press says how to pay; when it came to the button a
  // moment ago, the press asks for another, which a buyer who meant it gives.
  if (event.detail === 0 && !keyboard.ours) {
    setStatus(W.keysNotHere);
    return false;
  }
  if (event.detail === 0 && event.timeStamp - keyboard.focusedAt < SETTLE_MS) {
    keyboard.focusedAt = event.timeStamp;
    setStatus(W.pressAgain);
    return false;
  }
  if (!seenLongEnough(shown, event)) {
    setStatus(W.notVisible, true);
    return false;
  }
  // Seen is not read: text shrunk since the theme was judged shows less than the press
  // agrees to.
  if (dropUnreadableTheme()) {
    themeChanged();
    setStatus(W.notVisible, true);
    return false;
  }
  return true;
}

// Where visibility cannot be told (no IntersectionObserver v2: Firefox, Safari), a press in
// the saved-info frame is not enough: it pays or removes with nothing typed, so a click the
// page borrowed with a picture laid over the frame would do. There the press opens a window
// on this origin to confirm in, which no page can frame or draw into (ask.mjs, loaded only
// there; confirm.js says how it holds against windows the page opens over it).
const inWindow = () => MODE === "saved" && !visibilityKnown;
let asker = null; // ask.mjs's, once loaded

/** Runs `then` for a press that counted: at once, or where the press must be confirmed in a
 * window, on the buyer's confirmation there of `kind` ("pay", "remove"), if `still()` holds. */
function consented(kind, then, still) {
  if (!inWindow()) return then();
  if (!asker) return setStatus(W.pressAgain);
  asker.ask(kind, () => (still() ? then() : setStatus(W.pressAgain)));
}

/** Whether the text of `element`, or of a line in it, does not fit its box: clipped, cut
 * with an ellipsis, or spilling out of it. (A line wider than the frame itself is caught by
 * the document's width, where Pay is pressed.) */
function cutShort(element) {
  return [element, ...element.children].some((e) => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1);
}

async function pay(event) {
  if (!event.isTrusted || state.busy || state.paid) return;
  // With no cart yet, Pay only asks the page for the buyer's details: nothing to consent to.
  if (!state.cart) {
    if (MODE === "saved") return;
    post({ type: "needs_details" });
    setStatus(W.details);
    return;
  }
  if (!fromTheBuyer(event, payShows())) return;
  if (!payReady()) return;
  // A line cut short by the frame's width or a large font (the amount, a quantity, an
  // address) shows less than the press agrees to.
  if (payShows().some(cutShort) || root.scrollWidth > root.clientWidth + 1) {
    setStatus(MODE === "saved" ? W.cutOff : W.notVisible, true);
    return;
  }
  // What Pay pays changed a moment ago: the buyer has not read it yet.
  if (Date.now() - state.changedAt < SETTLE_MS) {
    setStatus(W.pressAgain);
    return;
  }
  // Where a window asks, what it shows is what was priced at the click: paid only if it still is.
  const shown = state.intent;
  consented("pay", payNow, () => state.intent === shown && payReady());
}

/** Pays the intent priced now, once the buyer's press has counted. */
async function payNow() {
  // What was priced at the moment of the click: a cart sent while paying changes nothing.
  const intent = state.intent;
  const item = state.cart.product_id; // the purchase it is, so that only the same one settles it
  state.busy = true;
  setStatus(W.paying);
  draw();
  post({ type: "paying" });
  try {
    // An earlier payment of the same product whose outcome is unknown (this frame's, or
    // another sheet's) is asked about again, with its own key and token, before anything new
    // is paid.
    const earlier = loadPending(item);
    const before = earlier ? await settle(earlier, { quiet: true }) : "failed";
    if (before === "failed") await payIntent(intent, item);
  } finally {
    state.busy = false;
    draw();
  }
}

// ---- An order whose answer may be lost ----

// The attempt in flight, kept in the vault origin's sessionStorage (this tab, this publisher
// site) until its outcome is known, so a frame that goes away with it (the sheet closed, the
// same tweet's other sheet) settles it instead of paying again. Where the browser blocks that
// storage (a third-party frame, in many browsers), it is kept in a partitioned cookie for the
// browser's session (this publisher site, every tab), sent with nothing but the frame's page;
// and where cookies are blocked too, in this frame's memory, so this frame's next Pay still
// asks about it before paying anything new.
const PENDING = "tweetbuy.pending";
const PENDING_COOKIE = "__Host-tb_pending";
let pendingHere = null; // this frame's own attempt, while its outcome is unknown
const ATTEMPT_FIELDS = ["item", "intent_id", "client_secret", "token", "key"];
/** The stored attempts, by product: one per product, so that buying another never loses one. */
function storedPending() {
  try {
    const fromStorage = storage("sessionStorage")?.getItem(PENDING);
    const all = JSON.parse(fromStorage || cookie(PENDING_COOKIE) || "{}");
    const valid = Object.entries(all || {}).filter(([item, a]) => a?.item === item && ATTEMPT_FIELDS.every((f) => typeof a[f] === "string"));
    return Object.fromEntries(valid);
  } catch {
    return {}; // unreadable: as if none
  }
}
function storePending(all) {
  const text = JSON.stringify(all);
  try {
    storage("sessionStorage").setItem(PENDING, text);
    return;
  } catch {}
  const empty = Object.keys(all).length === 0;
  document.cookie = `${PENDING_COOKIE}=${empty ? "" : encodeURIComponent(text)}; ${empty ? "Max-Age=0; " : ""}${COOKIE_ATTRIBUTES}`;
}
/** An attempt for `item` (a product) whose outcome is unknown: only the same purchase is
 * settled before paying, never another product's, from another sheet or tab. */
function loadPending(item) {
  return pendingHere?.item === item ? pendingHere : storedPending()[item] || null;
}
function savePending(attempt) {
  pendingHere = attempt;
  storePending({ ...storedPending(), [attempt.item]: attempt });
}
/** Forgets `attempt` once its outcome is known, and the stored one only if it is the same
 * (another tab's may have taken its place). */
function clearPending(attempt) {
  if (pendingHere?.key === attempt.key) pendingHere = null;
  const all = storedPending();
  if (all[attempt.item]?.key !== attempt.key) return;
  delete all[attempt.item];
  storePending(all);
}

// Waits between asking again about an order whose answer was lost: about 15 s in all.
const CHECK_DELAYS_MS = [0, 1000, 2000, 4000, 8000];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function payIntent(intent, item) {
  const token = await mintToken(intent);
  if (!token) return;
  const attempt = {
    item,
    intent_id: intent.intent_id,
    client_secret: intent.client_secret,
    token,
    key: newKey(),
    // The language the buyer paid in, for the emailed receipt: the widget's tag for the sheet, kept
    // with the attempt so that asking again sends the same body under the same key.
    lang: params.get("lang") || undefined,
    // Whether the receipt shown to the page must leave out the saved email and address.
    from_saved: MODE === "saved",
  };
  savePending(attempt);
  await settle(attempt, { intent });
}

/** Whether an answer leaves the payment's outcome open: no answer, a server error, or the
 * same key still at work. `payment_error` is the api's own word that nothing was charged
 * (the payment service was out of reach): final, and asking again gets the same answer. */
const outcomeUnknown = (status, body) =>
  status === 0 || (status >= 500 && body?.code !== "payment_error") || body?.code === "idempotency_in_progress";

/**
 * Sends an attempt's order, and again with the same key and token while its outcome is
 * unknown (`outcomeUnknown`). Returns "paid", "failed" (a definite answer: nothing was
 * charged) or "unknown" (still no answer: kept for the next Pay).
 */
async function settle(attempt, { quiet = false, intent = null } = {}) {
  let status = 0;
  let body = null;
  for (const delay of CHECK_DELAYS_MS) {
    if (delay) {
      state.checking = true;
      draw();
      await sleep(delay);
    }
    ({ status, body } = await call(`${API}/api/v1/orders`, {
      key: attempt.key,
      body: { intent_id: attempt.intent_id, client_secret: attempt.client_secret, card_token: attempt.token, lang: attempt.lang },
    }));
    if (!outcomeUnknown(status, body)) break;
  }
  state.checking = false;
  if (outcomeUnknown(status, body)) {
    setStatus(W.unknown, true);
    post({ type: "failed", code: body?.code || "payment_error", message: W.unknown });
    return "unknown";
  }
  if (status === 201 && body) {
    // Forgotten once the page has been told: a sheet closed while the card is saved leaves
    // the attempt to the next Pay, which settles it rather than paying again.
    await paid(attempt, body, intent);
    clearPending(attempt);
    return "paid";
  }
  clearPending(attempt);
  if (quiet) return "failed";
  if (body?.code === "intent_invalid" || body?.code === "token_mismatch") {
    // Priced again, shown again: the buyer presses Pay on what is now beside it.
    state.intent = null;
    state.intentFor = "";
    schedulePricing();
  }
  explainRefusal(status, body);
  return "failed";
}

async function mintToken(intent) {
  if (MODE === "saved") {
    const { status, body } = await call("/v1/profile/tokens", { body: { intent_id: intent.intent_id } });
    if (status === 201 && body) return body.token;
    explainRefusal(status, body?.code === "rate_limited" ? body : { code: "token_invalid" });
    return null;
  }
  const { status, body } = await call("/v1/tokens", {
    key: newKey(),
    body: { number: $("number").value, expiry: $("expiry").value, cvc: $("cvc").value, intent_id: intent.intent_id },
  });
  if (status === 201 && body) {
    showFieldErrors([]);
    // The save secret stays in this frame: with it, and only on the buyer's tick, the card
    // is saved after the purchase.
    state.saveSecret = body.save_secret || null;
    return body.token;
  }
  explainRefusal(status, body);
  return null;
}

async function paid(attempt, receipt, intent) {
  state.paid = true;
  setStatus("");
  // Saved only for this frame's own payment, on the buyer's tick, with the secret only it holds.
  if (intent && MODE === "card" && $("save").checked && state.saveSecret) await saveForNextTime(intent, attempt.token);
  clearCard();
  // What was saved stays on this origin: the page's receipt leaves out the saved email and
  // address it never had.
  const shown = { ...receipt, email: attempt.from_saved ? "" : receipt.email, shipping: attempt.from_saved ? null : receipt.shipping };
  post({ type: "paid", receipt: shown });
}

async function saveForNextTime(intent, token) {
  // Bounded: the buyer's confirmation waits for it.
  const { status, body } = await call("/v1/profiles", {
    body: { token, save_secret: state.saveSecret, email: intent.email, shipping: intent.shipping },
    timeoutMs: SAVE_WAIT_MS,
  });
  state.saveSecret = null;
  if (status === 201 && hasSaved()) {
    setStatus(W.savedNow);
    post({ type: "saved", saved: true });
  } else {
    setStatus(W.saveFailed, true);
  }
}

// ---- Remove (saved mode) ----

function remove(event) {
  if (!fromTheBuyer(event, [$("remove"), $("saved-card")]) || state.busy) return;
  consented("remove", removeNow, () => !state.busy && state.profile);
}

/** Erases the saved info at the vault, once the buyer's press has counted. */
async function removeNow() {
  state.busy = true;
  $("remove").textContent = W.removing;
  const { status } = await call("/v1/profile", { method: "DELETE" });
  state.busy = false;
  $("remove").textContent = PAGE.remove;
  // Kept on a failure, so the buyer can try again and nothing stays behind unseen.
  if (status !== 204 && status !== 401) {
    setStatus(W.removeFailed, true);
    return;
  }
  state.profile = null;
  state.intent = null;
  state.intentFor = "";
  setStatus(W.removed);
  draw();
  post({ type: "saved", saved: false });
}

// ---- Page messages: show, theme, clear. Nothing else is understood. ----

function applyTheme(t) {
  for (const [key, [, property]] of Object.entries(THEME)) {
    if (typeof t[key] === "string") root.style.setProperty(property, t[key]);
    else root.style.removeProperty(property);
  }
  dropUnreadableTheme();
}

/** What Pay pays for must stay readable whatever the page sends: a theme that makes any of
 * it see-through, faint or tiny is undone whole, and the frame keeps its own look. Judged
 * again whenever the frame is resized: a length in `vw` or `vh` that was big enough at one
 * size of the frame can be tiny at another. Whether it was undone. */
function dropUnreadableTheme() {
  // With no theme of the page's set, there is nothing to drop: the frame's own look stands.
  const themed = Object.values(THEME).some(([, property]) => root.style.getPropertyValue(property) !== "");
  if (!themed || readable()) return false;
  for (const [, property] of Object.values(THEME)) root.style.removeProperty(property);
  console.warn("tweetbuy: the payment frame kept its own look: the theme made its text hard to read");
  return true;
}

/** What Pay looks like changed: a press counts again once it has stood still. */
function themeChanged() {
  state.changedAt = Date.now();
  draw();
  setTimeout(draw, SETTLE_MS + 20);
}

// WCAG's contrast for normal text, and a floor for the small print beside Pay.
const MIN_CONTRAST = 4.5;
const MIN_TEXT_PX = 12;
let palette = null;

/** Any CSS colour as the browser paints it: [r, g, b, alpha], each 0 to 255. */
function painted(colour) {
  palette ??= document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  palette.clearRect(0, 0, 1, 1);
  palette.fillStyle = "#000";
  palette.fillStyle = colour;
  palette.fillRect(0, 0, 1, 1);
  return [...palette.getImageData(0, 0, 1, 1).data];
}

/** WCAG 2's contrast ratio of two opaque colours. */
function contrast(a, b) {
  const luminance = ([r, g, b]) => {
    const [R, G, B] = [r, g, b].map((c) => {
      const s = c / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** A stand-in for an enabled Pay: its colours as drawn, whatever state Pay is in now. */
let payProbe = null;

/** Whether the frame's text, as now themed, is opaque, in contrast with what is under it, and
 * big enough. Colours are read as the elements draw them (`currentcolor`, system colours and
 * the colour scheme resolved), not as the tokens are written. */
function readable() {
  if (!payProbe) {
    payProbe = document.createElement("span");
    payProbe.className = "pay";
    payProbe.hidden = true;
    document.body.append(payProbe);
  }
  const drawn = (el, property) => painted(getComputedStyle(el)[property]);
  const surface = drawn(document.body, "backgroundColor");
  const pairs = [
    [drawn($("pays-to"), "color"), surface],
    [drawn($("number-error"), "color"), surface],
    [drawn(payProbe, "color"), drawn(payProbe, "backgroundColor")],
  ];
  if (pairs.some(([f, b]) => f[3] < 255 || b[3] < 255 || contrast(f, b) < MIN_CONTRAST)) return false;
  return ["pay", "pays-to", "saved-card", "remove", "status"].every((id) => parseFloat(getComputedStyle($(id)).fontSize) >= MIN_TEXT_PX);
}

function clearCard() {
  for (const name of FIELDS) $(name).value = "";
  $("save").checked = false;
  showFieldErrors([]);
}

function clear() {
  asker?.drop();
  clearCard();
  Object.assign(state, { cart: null, intent: null, intentFor: "", paid: false, saveSecret: null });
  setStatus("");
  draw();
}

window.addEventListener("message", (event) => {
  if (event.source !== window.parent || !allowed.has(event.origin)) return;
  if (!parentOrigin) {
    parentOrigin = event.origin;
    waiting.splice(0).forEach(post);
  }
  const msg = decode(event.data);
  if (!msg) return;
  switch (msg.type) {
    case "theme":
      applyTheme(msg.tokens);
      themeChanged();
      break;
    case "clear":
      clear();
      break;
    case "show": {
      if (state.busy || JSON.stringify(msg.cart) === JSON.stringify(state.cart)) break;
      if (state.paid && msg.cart) state.paid = false; // a new purchase in the same sheet
      asker?.drop(); // what its window shows is no longer what a press would do
      state.cart = msg.cart;
      state.changedAt = Date.now();
      // The buyer's details came: no longer asked for.
      if (msg.cart && $("status").textContent === W.details) setStatus("");
      draw();
      // Pay answers again once this has stood still, also when the cart is one already priced.
      setTimeout(draw, SETTLE_MS + 20);
      schedulePricing();
      break;
    }
  }
});

// Escape inside the frame closes the sheet around it, as it does everywhere else in the sheet.
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") post({ type: "escape" });
});

// ---- Start ----


function formatAsTyped() {
  // Another card, or the same corrected: a refusal of the one before no longer applies.
  for (const name of FIELDS) $(name).addEventListener("input", () => state.statusAboutCard && setStatus(""));
  $("number").addEventListener("input", (e) => {
    const digits = e.target.value.replace(/\D/g, "").slice(0, 19);
    e.target.value = digits.replace(/(\d{4})(?=\d)/g, "$1 ");
  });
  $("expiry").addEventListener("input", (e) => {
    const digits = e.target.value.replace(/\D/g, "").slice(0, 4);
    e.target.value = digits.length > 2 ? `${digits.slice(0, 2)}/${digits.slice(2)}` : digits;
  });
  $("cvc").addEventListener("input", (e) => {
    e.target.value = e.target.value.replace(/\D/g, "").slice(0, 4);
  });
}

async function lookUpSaved() {
  if (!hasSaved()) return false;
  const { status, body } = await call("/v1/profile", { method: "GET" });
  if (status === 200 && body?.card) {
    state.profile = body;
    return true;
  }
  return false; // a 401 made the vault forget the cookies
}

async function start() {
  $("pay").addEventListener("click", pay);
  // Enter in a card field does not pay: keys can reach a field the page put focus near.
  $("card").addEventListener("submit", (e) => e.preventDefault());
  $("remove").addEventListener("click", remove);
  // A tick of "Save my card" that is not the buyer's own is undone ("Whose gesture it is").
  if ($("save").checked) {
    $("save").checked = false;
    setStatus(W.tickEarly, true);
  }
  $("save").addEventListener("click", (event) => {
    if (!$("save").checked) return;
    if (fromTheBuyer(event, [$("save")])) {
      if ([W.tickAgain, W.tickEarly].includes($("status").textContent)) setStatus("");
      return;
    }
    event.preventDefault();
    setStatus(W.tickAgain, true); // Pay's words ("to pay…", "the button…") would not fit
  });
  // The content's own height: the document's would never shrink below the iframe's size.
  const panel = $("pay-panel");
  new ResizeObserver(() => post({ type: "resize", height: Math.ceil(panel.getBoundingClientRect().height) })).observe(panel);
  addEventListener("resize", () => dropUnreadableTheme() && themeChanged());
  let saved = false;
  if (inWindow()) import("/frame-ask.mjs").then((m) => (asker = m.asker(LANG, W.pressAgain, setStatus)));
  if (MODE === "saved") {
    // The stylesheet hid the form from the first paint; hidden here too, where it did not
    // load: this frame pays with the saved card, whatever a card form would say.
    $("card").hidden = true;
    saved = await lookUpSaved();
    $("saved-card").hidden = !saved;
    $("remove").hidden = !saved;
  } else {
    formatAsTyped();
    // Where nothing could be kept, the box would save info no one could use.
    $("save").closest("label").hidden = !keepsCookies();
  }
  draw();
  post({ type: "ready", saved });
}

start();
