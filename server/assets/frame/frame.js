// The card frame, on the vault origin. The card number, expiry and CVC are typed here and
// sent only to this origin's /v1/tokens; the embedding page gets a token back, never the
// card. Validation rules live in the Rust core crate and run in the vault server, so this
// script only formats input and relays the vault's answer.
"use strict";
(() => {
  const allowed = new Set((document.documentElement.dataset.allowedOrigins || "").split(/\s+/).filter(Boolean));
  const FIELDS = ["number", "expiry", "cvc"];
  const MAX_MESSAGE = 16 * 1024;
  const input = (name) => document.getElementById(name);

  // Exactly the v1 shapes, nothing more: anything else is dropped without a reply.
  const hasExactKeys = (msg, keys) =>
    Object.keys(msg).length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(msg, k));
  function decode(data) {
    if (typeof data !== "string" || data.length > MAX_MESSAGE) return null;
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return null;
    }
    if (!msg || typeof msg !== "object" || Array.isArray(msg) || msg.v !== 1) return null;
    if (msg.type === "tokenize" && hasExactKeys(msg, ["type", "v", "request_id"])
        && typeof msg.request_id === "string" && msg.request_id.length > 0 && msg.request_id.length <= 100) {
      return msg;
    }
    if (msg.type === "clear" && hasExactKeys(msg, ["type", "v"])) return msg;
    return null;
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
      const { token, brand, last4, exp_month, exp_year } = body;
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
    const reply = await tokenize(msg.request_id);
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
