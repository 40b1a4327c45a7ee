// The confirmation window of a saved-info frame, on the vault origin.
//
// Where a browser cannot say whether the frame is fully visible (no IntersectionObserver v2:
// Firefox, Safari), a page could lay its own picture over the saved-info frame and borrow a
// click for Pay or Remove: one tap, with nothing typed. There the frame opens this window
// instead. A page can cover a frame, not another window: what this window shows is what the
// buyer sees, and its button counts only once the window has been in front, focused, for a
// moment, so a click aimed at something else as it opened does not land on it.
//
// It takes what it shows only from the frame that opened it (its opener, on this origin) and
// answers only to it, with the one-time word that frame gave it.
"use strict";
(() => {
  const SETTLE_MS = 600;
  const $ = (id) => document.getElementById(id);
  const opener = window.opener;
  const origin = location.origin;
  const button = $("confirm");
  let asked = null; // {nonce, title, lines, label, again} from the opener
  let frontSince = null; // when this window last came in front, focused and shown

  /** Says `text` in the window's status line. */
  const say = (text) => ($("status").textContent = text);

  /** Tells the opening frame `type`, with the word it gave, once. */
  function answer(type) {
    if (!asked) return;
    const nonce = asked.nonce;
    asked = null;
    opener.postMessage({ type, nonce }, origin);
  }

  /** Whether the button answers: something asked, and this window in front long enough. */
  const settled = (now) => !!asked && frontSince != null && now - frontSince >= SETTLE_MS;

  function draw() {
    button.setAttribute("aria-disabled", settled(performance.now()) ? "false" : "true");
  }

  /** Restarts the wait whenever the window goes behind another, or is hidden. */
  function watchFront() {
    const front = document.visibilityState === "visible" && document.hasFocus();
    if (!front) frontSince = null;
    else if (frontSince == null) frontSince = performance.now();
    draw();
    if (front) setTimeout(draw, SETTLE_MS + 20);
  }

  if (!opener) {
    say($("confirm-panel").dataset.nothing);
    $("cancel").addEventListener("click", () => window.close());
    return;
  }
  window.addEventListener("message", (event) => {
    if (event.source !== opener || event.origin !== origin) return;
    const m = event.data;
    const text = (v) => typeof v === "string" && v.length > 0 && v.length <= 500;
    if (m?.type !== "ask" || ![m.nonce, m.title, m.label, m.again].every(text)) return;
    if (!Array.isArray(m.lines) || !m.lines.every(text) || m.lines.length > 6) return;
    asked = m;
    document.title = m.title;
    $("confirm-title").textContent = m.title;
    $("lines").replaceChildren(...m.lines.map((line) => Object.assign(document.createElement("p"), { textContent: line })));
    button.textContent = m.label;
    button.hidden = false;
    say("");
    watchFront();
  });
  for (const name of ["focus", "blur"]) window.addEventListener(name, watchFront);
  document.addEventListener("visibilitychange", watchFront);
  button.addEventListener("click", (event) => {
    if (!event.isTrusted || !asked) return;
    if (!settled(event.timeStamp)) {
      say(asked.again);
      watchFront();
      return;
    }
    answer("confirmed");
    window.close();
  });
  $("cancel").addEventListener("click", () => {
    answer("cancelled");
    window.close();
  });
  window.addEventListener("pagehide", () => answer("cancelled"));
  document.addEventListener("keydown", (e) => e.key === "Escape" && $("cancel").click());
  opener.postMessage({ type: "ready" }, origin);
  watchFront();
})();
