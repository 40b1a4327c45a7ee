// `make bench`'s baseline: hand-written vanilla JS doing the widget's DOM work for every
// embed (measure widths, insert a host, attach a shadow root, adopt one stylesheet, add a
// styled button), timed the same way as the widget's `tweetbuy:attach` measure.
"use strict";
(() => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`.root { display: block; min-height: 52px; }
    .anchor { display: flex; justify-content: flex-end; padding-top: 8px; }
    button { min-height: 44px; padding: 0 16px; border: 0; border-radius: 12px; background: #1d4ed8; color: #fff; font: 600 16px system-ui; }`);
  const start = performance.now();
  const embeds = [...document.querySelectorAll("blockquote.twitter-tweet")];
  const widths = embeds.map((e) => e.getBoundingClientRect().width);
  embeds.forEach((embed, i) => {
    const host = document.createElement("div");
    host.style.setProperty("display", "block", "important");
    host.style.setProperty("max-width", `${widths[i]}px`, "important");
    const root = host.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = [sheet];
    const container = document.createElement("div");
    container.className = "root";
    const anchor = document.createElement("div");
    anchor.className = "anchor";
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("part", "button");
    button.textContent = "Buy · $30.00";
    button.addEventListener("click", () => {});
    anchor.append(button);
    container.append(anchor);
    root.append(container);
    embed.after(host);
  });
  performance.measure("vanilla:attach", { start, duration: performance.now() - start, detail: { count: embeds.length } });
})();
