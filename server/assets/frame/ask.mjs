// The saved-info frame's side of the window it asks the buyer to confirm in (confirm.js).
//
// Loaded by frame.js only where the browser cannot say whether the page covered the frame
// (no IntersectionObserver v2: Firefox, Safari) and only in the saved-info frame, which pays
// or removes with nothing typed: a click the page borrowed with a picture laid over the frame
// would do. So Pay and Remove there open a window on this origin, which the page can neither
// frame, draw into nor script, showing what the press does; only the buyer's press of the
// window's own button, in front and focused for a moment (confirm.js), does it. A buyer whose
// browser tells (Chromium) never downloads this.
//
// The window answers this frame alone: its messages count only from the window it opened
// (`event.source`), on this origin, with the one-time word it was given.

/** How long the window has to ask for its question once opened. */
const ANSWER_MS = 5000;

/** Its words, in each language the frame has (server/src/vault/frame.rs). */
export const WORDS = {
  en: {
    pay: "Confirm your payment",
    remove: "Remove your saved info?",
    waiting: "Confirm in the window that opened.",
    blocked: "Your browser blocked the window to confirm in. Allow pop-ups for this site, then press again.",
    lost: "The window to confirm in closed, or could not reach this form. Press again to open it again.",
  },
  es: {
    pay: "Confirma tu pago",
    remove: "¿Eliminar tus datos guardados?",
    waiting: "Confirma en la ventana que se abrió.",
    blocked: "Tu navegador bloqueó la ventana para confirmar. Permite las ventanas emergentes en este sitio y vuelve a pulsar.",
    lost: "La ventana para confirmar se cerró o no pudo comunicarse con este formulario. Vuelve a pulsar para abrirla de nuevo.",
  },
};

/**
 * The asking of a frame in `lang`: `again` is its "press again" sentence, which the window
 * says for a press that came too soon; `say(text, error)` writes the frame's status.
 */
export function asker(lang, again, say) {
  const words = WORDS[lang] || WORDS.en;
  let asking = null; // {window, nonce, question, then, ready} while a window asks

  /** Closes the asking window, if any, and takes back what the frame said of it. */
  function drop() {
    if (!asking) return;
    asking.window.close();
    asking = null;
    say("");
  }

  /** Opens the window asking to `kind` ("pay", "remove"): it shows what the frame shows
   * beside that button, and a button labelled as that one is; `then` runs on the buyer's
   * press of it. */
  function ask(kind, then) {
    drop();
    const text = (id) => document.getElementById(id).textContent;
    const lines = (kind === "pay" ? ["pays-to", "ships-to", "shares", "saved-card"] : ["saved-card"]).map(text).filter(Boolean);
    const label = text(kind);
    const nonce = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const opened = window.open(`/confirm?lang=${encodeURIComponent(lang)}`, "", "popup,width=420,height=420");
    if (!opened) {
      say(words.blocked, true);
      return;
    }
    const question = { type: "ask", nonce, title: words[kind], lines, label, again };
    const now = (asking = { window: opened, nonce, question, then, ready: false });
    say(words.waiting);
    // A window that never asks for its question (a page whose opener policy cut it off from
    // this frame), or that is gone without an answer, is said, and nothing waits for it.
    setTimeout(() => asking === now && !now.ready && lost(), ANSWER_MS);
    // Closed for two looks in a row: its last answer, posted as it closed, has come by then.
    let closed = false;
    const watch = setInterval(() => {
      if (asking !== now) clearInterval(watch);
      else if (closed) lost();
      closed = now.window.closed;
    }, 500);
  }

  /** Gives up on a window that cannot answer, and says so. */
  function lost() {
    drop();
    say(words.lost, true);
  }

  window.addEventListener("message", (event) => {
    const now = asking;
    if (!now || event.source !== now.window || event.origin !== location.origin) return;
    const { type, nonce } = event.data || {};
    if (type === "ready") {
      now.ready = true;
      now.window.postMessage(now.question, location.origin);
    }
    if ((type !== "confirmed" && type !== "cancelled") || nonce !== now.nonce) return;
    asking = null;
    say("");
    if (type === "confirmed") now.then();
  });
  // A frame taken away (the sheet closed) leaves no window asking for it.
  window.addEventListener("pagehide", drop);
  return { ask, drop };
}
