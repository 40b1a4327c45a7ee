// The buyer's keyboard, watched from before the card form is parsed (a classic script in the
// page's head; frame.js reads `window.tbKeyboard`). The form is shown at once, for a slow
// link, so a buyer may tab into it before frame.js runs; with no one watching then, focus the
// page put there (a control refocused by `iframe.focus()` after the buyer tabbed through, or
// one a fragment focused and the page then cleared) would look like the buyer's.
//
// What counts as the buyer's focus (see "Whose gesture it is" in frame.js): a press in this
// frame, Tab from the page straight onto one of its controls, or Tab from one of its controls
// to another, with no text typed on a button since. Focus leaving the frame leaves nothing
// focused in it, so the page's `iframe.focus()` cannot bring it back onto a control.
"use strict";
// Which frame this is, from the name the widget gives the iframe: one page serves both, so the
// card frame after the saved-info frame is answered from the browser's copy (a 304). Set
// before the body is parsed, for the stylesheet: the saved-info frame never shows the card
// form, not even before frame.js runs, and frame.js reads it from here. Read once: a name
// changed later changes nothing.
document.documentElement.dataset.mode = window.name === "tweetbuy-saved" ? "saved" : "card";
window.tbKeyboard = (() => {
  const keyboard = { ours: false, keysSinceFocus: false, tabbing: false, focusedAt: 0 };
  const letGo = () => {
    keyboard.ours = false;
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  };
  window.addEventListener("focus", () => { keyboard.keysSinceFocus = false; });
  window.addEventListener("blur", letGo);
  window.addEventListener("hashchange", letGo);
  document.addEventListener("pointerdown", (e) => { if (e.isTrusted) keyboard.ours = true; }, true);
  document.addEventListener("keydown", (e) => {
    keyboard.keysSinceFocus = true;
    // Tab from one of this frame's controls (not from nothing focused) is the buyer moving here.
    keyboard.tabbing = e.key === "Tab" && e.target !== document.body && keyboard.ours;
    const typing = e.key.length === 1 && e.key !== " " && !e.ctrlKey && !e.metaKey && !e.altKey;
    if (typing && !(e.target instanceof HTMLInputElement && e.target.type === "text")) keyboard.ours = false;
  }, true);
  document.addEventListener("focusin", (e) => {
    keyboard.focusedAt = e.timeStamp;
    // Tab from the page lands on a control before any key reaches this document.
    if ((!keyboard.keysSinceFocus || keyboard.tabbing) && !location.hash) keyboard.ours = true;
    keyboard.tabbing = false;
  }, true);
  return keyboard;
})();
