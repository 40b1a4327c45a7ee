// The confirmation window of a saved-info frame, on the vault origin.
//
// Where a browser cannot say whether the frame is fully visible (no IntersectionObserver v2:
// Firefox, Safari), a page could lay its own picture over the saved-info frame and borrow a
// click for Pay or Remove: one tap, with nothing typed. There the frame opens this window
// instead (ask.mjs). The page cannot lay anything inside a window, nor frame it; it can open
// windows of its own over it, but the one in front takes focus from this one. So the button
// here counts a press only when this window has been in front, focused, for SETTLE_MS
// since what it shows last changed, and the press began after that: a window that goes
// behind another, or is pressed too soon, waits again, so a click aimed at something else
// as it opened does not land on it.
//
// It takes what it shows only from the frame that opened it (its opener, on this origin) and
// answers only to it, with the one-time word that frame gave it.
"use strict";
(() => {
  const SETTLE_MS = 600;
  // How long the window waits for its question before it says there is nothing to confirm.
  const QUESTION_MS = 3000;
  const $ = (id) => document.getElementById(id);
  const opener = window.opener;
  const origin = location.origin;
  const button = $("confirm");
  let asked = null; // {nonce, title, lines, label, again} from the opener
  let since = null; // since when the window has been in front with what it shows now
  let pressedAt = null; // when the press now under way began (pointer or key down)

  /** Says `text` in the window's status line. */
  const say = (text) => ($("status").textContent = text);
  const front = () => document.visibilityState === "visible" && document.hasFocus();

  /** Tells the opening frame `type`, with the word it gave, once. */
  function answer(type) {
    if (!asked) return;
    const nonce = asked.nonce;
    asked = null;
    opener.postMessage({ type, nonce }, origin);
  }

  /** Whether a press that began at `at` counts: something asked, and this window in front
   * with it for SETTLE_MS before. */
  const counts = (at) => !!asked && since != null && at - since >= SETTLE_MS;

  function draw() {
    button.setAttribute("aria-disabled", counts(performance.now()) ? "false" : "true");
  }

  /** Starts the wait again from now (or stops it while the window is not in front). */
  function restart() {
    since = front() ? performance.now() : null;
    draw();
    if (since != null) setTimeout(draw, SETTLE_MS + 20);
  }

  /** Follows the window going behind another, or hidden, and coming back. */
  function watchFront() {
    if (!front()) since = null;
    else if (since == null) return restart();
    draw();
  }

  const close = () => window.close();
  document.addEventListener("keydown", (e) => e.key === "Escape" && $("cancel").click());
  const nothing = () => asked || say($("confirm-panel").dataset.nothing);
  if (!opener) {
    nothing();
    $("cancel").addEventListener("click", close);
    return;
  }
  setTimeout(nothing, QUESTION_MS);
  window.addEventListener("message", (event) => {
    if (event.source !== opener || event.origin !== origin || asked) return;
    const m = event.data;
    const text = (v) => typeof v === "string" && v.length > 0 && v.length <= 1000;
    if (m?.type !== "ask" || ![m.nonce, m.title, m.label, m.again].every(text)) return;
    if (!Array.isArray(m.lines) || !m.lines.every(text) || m.lines.length > 8) return;
    asked = m;
    document.title = m.title;
    $("confirm-title").textContent = m.title;
    $("lines").replaceChildren(...m.lines.map((line) => Object.assign(document.createElement("p"), { textContent: line })));
    button.textContent = m.label;
    button.hidden = false;
    say("");
    // Enter at once cancels: the buyer tabs to the button, or clicks it, to confirm.
    $("cancel").focus();
    restart(); // what it shows just changed
  });
  for (const name of ["focus", "blur"]) window.addEventListener(name, watchFront);
  document.addEventListener("visibilitychange", watchFront);
  // A press that begins too soon starts the wait again, so pressing on and on does not reach
  // the moment it ends.
  for (const name of ["pointerdown", "keydown"]) {
    window.addEventListener(name, (event) => {
      pressedAt = event.timeStamp;
      if (!counts(event.timeStamp)) restart();
    }, true);
  }
  button.addEventListener("click", (event) => {
    if (!event.isTrusted || !asked) return;
    if (!counts(pressedAt ?? event.timeStamp)) {
      say(asked.again);
      return;
    }
    answer("confirmed");
    close();
  });
  $("cancel").addEventListener("click", () => {
    answer("cancelled");
    close();
  });
  window.addEventListener("pagehide", () => answer("cancelled"));
  opener.postMessage({ type: "ready" }, origin);
  watchFront();
})();
