// The card frame, on the vault origin. The card number, expiry and CVC are typed here and
// sent only to this origin's /v1/tokens; the embedding page gets a token back, never the
// card. Validation rules live in the Rust core crate and run in the vault server, so this
// script only formats input and relays the vault's answer. Which messages and theme values
// it accepts is in rules.mjs, checked against the same table as the Rust side.
import { decode, THEME } from "/frame-rules.mjs";

const allowed = new Set((document.documentElement.dataset.allowedOrigins || "").split(/\s+/).filter(Boolean));
(() => {
  const FIELDS = ["number", "expiry", "cvc"];
  const input = (name) => document.getElementById(name);

  function applyTheme(t) {
    const style = document.documentElement.style;
    for (const [key, [, property]] of Object.entries(THEME)) {
      if (typeof t[key] === "string") style.setProperty(property, t[key]);
      else style.removeProperty(property);
    }
  }

  // Saved info. The device credential lives only here, in the vault origin's localStorage
  // (which browsers partition per top-level site), and goes only to this origin's
  // /v1/profile in a header. The publisher's page gets display data and one-time tokens.
  const CREDENTIAL = "tweetbuy.credential";
  const SAVE_SECRET = (token) => `tweetbuy.save.${token}`;
  const storage = (area) => {
    try {
      return window[area];
    } catch {
      return null; // storage blocked: saved info is simply unavailable
    }
  };
  const credential = () => storage("localStorage")?.getItem(CREDENTIAL) || null;
  const forgetCredential = () => storage("localStorage")?.removeItem(CREDENTIAL);

  async function vault(method, path, body, bearer) {
    const headers = { "content-type": "application/json" };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    try {
      const response = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
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

  const failed = (requestId, message) => ({ type: "failed", v: 1, request_id: requestId, message });
  const shown = (s) => ({ brand: s.brand, last4: s.last4, exp_month: s.exp_month, exp_year: s.exp_year, ship_to: s.ship_to ?? null });

  async function lookup(requestId) {
    const cred = credential();
    if (!cred) return { type: "saved", v: 1, request_id: requestId, saved: null };
    const { status, body } = await vault("GET", "/v1/profile", null, cred);
    if (status === 200 && body) return { type: "saved", v: 1, request_id: requestId, saved: shown(body) };
    if (status === 401) {
      forgetCredential();
      return { type: "saved", v: 1, request_id: requestId, saved: null };
    }
    return failed(requestId, "Your saved info could not be loaded.");
  }

  async function paySaved(requestId) {
    const cred = credential();
    if (!cred) return failed(requestId, "Nothing is saved on this device.");
    const { status, body } = await vault("POST", "/v1/profile/tokens", null, cred);
    if (status === 201 && body) {
      const { token, brand, last4, exp_month, exp_year } = body;
      return { type: "token", v: 1, request_id: requestId, card: { token, brand, last4, exp_month, exp_year } };
    }
    if (status === 401) forgetCredential();
    return failed(requestId, "Your saved card could not be used. Enter your card details again.");
  }

  async function save(msg) {
    const secret = storage("sessionStorage")?.getItem(SAVE_SECRET(msg.card_token));
    if (!secret) return failed(msg.request_id, "This card can no longer be saved.");
    const { status, body } = await vault("POST", "/v1/profiles", {
      token: msg.card_token, save_secret: secret, email: msg.email, shipping: msg.shipping,
    });
    if (status === 201 && body && body.credential) {
      storage("localStorage")?.setItem(CREDENTIAL, body.credential);
      storage("sessionStorage")?.removeItem(SAVE_SECRET(msg.card_token));
      return { type: "saved", v: 1, request_id: msg.request_id, saved: shown(body.saved) };
    }
    return failed(msg.request_id, (body && body.message) || "Your info could not be saved.");
  }

  async function remove(requestId) {
    const cred = credential();
    if (cred) {
      const { status } = await vault("DELETE", "/v1/profile", null, cred);
      // Kept on a failure, so the visitor can try again and nothing stays behind unseen.
      if (status !== 204 && status !== 401) return failed(requestId, "Your saved info could not be removed. Try again.");
    }
    forgetCredential();
    return { type: "removed", v: 1, request_id: requestId };
  }

  function showErrors(errors) {
    for (const name of FIELDS) {
      const err = errors.find((e) => e.field === name);
      input(name).setAttribute("aria-invalid", err ? "true" : "false");
      document.getElementById(`${name}-error`).textContent = err ? err.message : "";
    }
  }

  function clear() {
    for (const name of FIELDS) input(name).value = "";
    showErrors([]);
  }

  async function tokenize(requestId) {
    let response;
    try {
      response = await fetch("/v1/tokens", {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": requestId },
        body: JSON.stringify({
          number: input("number").value,
          expiry: input("expiry").value,
          cvc: input("cvc").value,
        }),
      });
    } catch {
      return { type: "failed", v: 1, request_id: requestId, message: "We could not reach the card vault. Check your connection and try again." };
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (response.ok && body) {
      showErrors([]);
      const { token, brand, last4, exp_month, exp_year, save_secret } = body;
      // The save secret stays on the vault origin: it lets this card be saved after the
      // purchase, and the reply below (to the publisher's page) does not carry it.
      if (save_secret) storage("sessionStorage")?.setItem(SAVE_SECRET(token), save_secret);
      return { type: "token", v: 1, request_id: requestId, card: { token, brand, last4, exp_month, exp_year } };
    }
    if (response.status === 422 && body && Array.isArray(body.fields)) {
      const errors = body.fields.map(({ field, code, message }) => ({ field, code, message }));
      showErrors(errors);
      const first = errors.find((e) => FIELDS.includes(e.field));
      if (first) input(first.field).focus();
      return { type: "invalid", v: 1, request_id: requestId, errors };
    }
    return { type: "failed", v: 1, request_id: requestId, message: (body && body.message) || "The card could not be checked. Please try again." };
  }

  window.addEventListener("message", async (event) => {
    if (event.source !== window.parent || !allowed.has(event.origin)) return;
    const msg = decode(event.data);
    if (!msg) return;
    if (msg.type === "clear") {
      clear();
      return;
    }
    if (msg.type === "theme") {
      applyTheme(msg.tokens);
      return;
    }
    const handlers = {
      tokenize: () => tokenize(msg.request_id),
      lookup: () => lookup(msg.request_id),
      pay_saved: () => paySaved(msg.request_id),
      save: () => save(msg),
      remove: () => remove(msg.request_id),
    };
    const reply = await handlers[msg.type]();
    // Reply only to the exact origin that asked, which is on the allowlist.
    window.parent.postMessage(JSON.stringify(reply), event.origin);
  });

  // Escape inside the frame closes the sheet around it, as it does everywhere else in the
  // sheet: the key never reaches the embedding page on its own. Posted only to the embedding
  // origin, and only when it is on the allowlist.
  const parentOrigin = (location.ancestorOrigins && location.ancestorOrigins[0]) || "";
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && allowed.has(parentOrigin)) {
      window.parent.postMessage(JSON.stringify({ type: "escape", v: 1 }), parentOrigin);
    }
  });

  // The saved-info frame (?mode=saved) is the same page without the card form: it only
  // answers lookup, pay_saved, save and remove.
  if (new URLSearchParams(location.search).get("mode") === "saved") document.getElementById("card").hidden = true;

  // Labels in the visitor's language (?lang=es), like the sheet around the frame.
  const LABELS = {
    es: { number: "Número de tarjeta", expiry: "Caducidad (MM/AA)", cvc: "Código de seguridad", title: "Datos de la tarjeta" },
  };
  const lang = (new URLSearchParams(location.search).get("lang") || "").toLowerCase().split("-")[0];
  if (LABELS[lang]) {
    document.documentElement.lang = lang;
    document.title = LABELS[lang].title;
    for (const name of FIELDS) document.querySelector(`label[for="${name}"]`).textContent = LABELS[lang][name];
    input("expiry").placeholder = lang === "es" ? "MM/AA" : "MM/YY";
  }

  // Formatting as the visitor types: digits in groups of four, and MM/YY.
  input("number").addEventListener("input", (e) => {
    const digits = e.target.value.replace(/\D/g, "").slice(0, 19);
    e.target.value = digits.replace(/(\d{4})(?=\d)/g, "$1 ");
  });
  input("expiry").addEventListener("input", (e) => {
    const digits = e.target.value.replace(/\D/g, "").slice(0, 4);
    e.target.value = digits.length > 2 ? `${digits.slice(0, 2)}/${digits.slice(2)}` : digits;
  });
  input("cvc").addEventListener("input", (e) => {
    e.target.value = e.target.value.replace(/\D/g, "").slice(0, 4);
  });
})();
