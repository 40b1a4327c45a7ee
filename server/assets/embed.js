// tweetbuy loader: the one script a publisher adds to a page with tweet embeds.
// The build minifies it into a template (scripts/loader-template.mjs), in which the server
// fills in the content-hashed names of the current build, so this small file can be cached
// briefly while the modules and wasm it loads are cached forever.
//
// Two modules: the button module starts at once; the checkout module (sheets, card frame,
// order) is imported after the page is up, once a button is in sight and the browser is
// idle, or when a visitor is about to buy; never ahead of time on a Save-Data connection.

// For `make bench`: script start → first button is measured from this mark.
performance.mark("tweetbuy:script-start");

// The wasm is fetched at once. The module's glue is here already: the server writes it in
// as an expression whose value is the module's exports (src/api/inline_module.rs; or its
// import, for a glue of another form), which spares a request and a task of its own.
const wasm = fetch(new URL("./{{WASM}}", import.meta.url));
wasm.catch(() => {}); // a failure is reported once, below
const glue = new Promise((resolve) => resolve({{BUTTON_GLUE}}));

// The build puts lookup-rules.mjs here (scripts/loader-template.mjs).
{{LOOKUP_RULES}}

// What the loader finds of the page, which the button module starts from (its
// `WidgetConfig`): the loader's own script tag (null if not found), the api's base URL (null:
// none to ask), and a function that gives the page's visitor id, made and kept on first use
// (it gives null when the page's storage cannot keep one; the function is null when the tag
// is not found). lookup-rules.mjs holds the rules.
const page = (() => {
  const randomId = () => crypto.randomUUID?.() ?? [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
  const visitor = () => {
    try {
      return visitorId(localStorage, randomId);
    } catch {
      return null;
    }
  };
  try {
    // This very script first: a copy the publisher serves under a name of their own is found too.
    const scripts = [...document.querySelectorAll("script[src]")];
    const script = scripts.find((s) => s.src === import.meta.url) ?? scripts.find((s) => isLoaderSrc(s.src)) ?? null;
    if (script) return { script, api: apiBase(script.src, script.getAttribute("data-api")), visitor };
    // No tag of ours (its `src` redirects here, or a script imported this one): the api is
    // where this file came from, and with no `data-dnt` to read, no visitor id is kept.
    return { script, api: apiBase(import.meta.url, null), visitor: null };
  } catch {
    return { script: null, api: null, visitor };
  }
})();

// The offer lookup for the embeds already in the page goes out now, beside the module's
// download, not after it: the button module takes it if it would have asked for the same
// URL (lookup-rules.mjs). Its body is read as soon as it arrives, into the `[status, text]`
// the kit's `ask` answers with: read only once the module asks, it would cost the first
// button a wait for one more task (docs/performance.md). Any failure here only means the
// module asks itself.
const preloaded = (() => {
  try {
    if (page.api === null) return [];
    return firstLookupPaths(document, page.script, page.visitor).map((path) => {
      const answer = fetch(page.api + path, { method: "GET" }).then((r) => r.text().then((text) => [r.status, text]));
      answer.catch(() => {}); // the module sends its own on a failure
      return [page.api + path, answer];
    });
  } catch {
    return [];
  }
})();

let checkout;
let failures = 0;
// Imports and starts the checkout module once, resolving to its exports. A failed load is
// forgotten, so the next click tries again; the browser remembers a failed module URL, so
// a retry asks for it under a fresh query string.
const loadCheckout = () =>
  (checkout ??= (() => {
    const wasm = fetch(new URL("./{{CHECKOUT_WASM}}", import.meta.url));
    wasm.catch(() => {}); // reported through the import's failure or init's
    return import(`./{{CHECKOUT_GLUE}}${failures ? `?retry=${failures}` : ""}`).then(async (module) => {
      await module.default({ module_or_path: wasm });
      return module;
    });
  })()
    .catch((error) => {
      checkout = undefined;
      failures += 1;
      throw error;
    }));

// Compiling the wasm and starting the module are two tasks, not one (the kit's `pause`): on a
// slow phone each takes 60-130 ms of the page's main thread.
glue
  .then(({ default: init, boot, buttonKit }) => {
    const kit = buttonKit({ tweetIdOf, lookupPaths, dntOf, embedForms: EMBED_SELECTOR });
    return init({ module_or_path: wasm }).then(kit.pause).then(() => boot(loadCheckout, preloaded, kit, page));
  })
  .catch((error) => {
    // Never break the host page: one warning, no exception.
    console.warn("tweetbuy: could not start", error);
  });
