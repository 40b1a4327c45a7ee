// `make bench`'s baseline: hand-written vanilla JS doing the widget's DOM work for every
// embed (insert a host, attach a shadow root, adopt one stylesheet, add a styled button;
// then, in the next frame, size each host to its embed), timed the same way as the
// widget's `tweetbuy:attach` plus `tweetbuy:align` measures.
"use strict";
(() => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`.root { display: block; min-height: 52px; }
    .anchor { display: flex; justify-content: flex-end; padding-top: 8px; }
    button { min-height: 44px; padding: 0 16px; border: 0; border-radius: 12px; background: #1d4ed8; color: #fff; font: 600 16px system-ui; }`);
  // Like the widget: insert every host first, then line the hosts up with their embeds in
  // the next frame (reading all boxes, then writing), each part timed.
  const start = performance.now();
  const embeds = [...document.querySelectorAll("blockquote.twitter-tweet")];
  const hosts = embeds.map((embed) => {
    const host = document.createElement("div");
    host.style.setProperty("display", "block", "important");
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
    return host;
  });
  const insertMs = performance.now() - start;
  requestAnimationFrame(() => {
    const alignStart = performance.now();
    const boxes = embeds.map((e) => [e.getBoundingClientRect().width, parseFloat(getComputedStyle(e).marginLeft)]);
    hosts.forEach((host, i) => {
      host.style.setProperty("max-width", `${boxes[i][0]}px`, "important");
      host.style.setProperty("margin-left", `${boxes[i][1]}px`, "important");
    });
    const duration = insertMs + performance.now() - alignStart;
    performance.measure("vanilla:attach", { start, duration, detail: { count: embeds.length } });
  });
})();
