// A single-page app: client-side navigation swaps the content of <main> and then asks the
// widget to rescan the new view with window.tweetbuy.scan(root), as the publisher docs say.
"use strict";
(() => {
  const ROUTES = {
    music: [["ddlovato", "1528000000000000003", "Tickets for the fall tour go on sale now."]],
    fashion: [
      ["Burberry", "1528000000000000002", "The limited-edition heritage scarf, only 25 made."],
      ["Pharrell", "1528000000000000004", "The signature hat, back in stock."],
    ],
  };

  function render(route) {
    const view = document.getElementById("view");
    view.replaceChildren();
    const title = document.createElement("h1");
    title.textContent = route[0].toUpperCase() + route.slice(1);
    view.append(title);
    for (const [handle, id, text] of ROUTES[route] || []) {
      const quote = document.createElement("blockquote");
      quote.className = "twitter-tweet";
      const p = document.createElement("p");
      p.textContent = text;
      const link = document.createElement("a");
      link.href = `https://x.com/${handle}/status/${id}`;
      link.textContent = "September 8, 2014";
      quote.append(p, `— @${handle} `, link);
      view.append(quote);
    }
    document.body.dataset.route = route;
    if (window.tweetbuy) window.tweetbuy.scan(view);
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-route]");
    if (!link) return;
    event.preventDefault();
    history.pushState(null, "", `#${link.dataset.route}`);
    render(link.dataset.route);
  });
})();
