// The endless feed: appends a page of tweet embeds whenever the end of the feed nears the
// viewport, as infinite-scroll news sites do. The widget is not told: it must notice.
"use strict";
(() => {
  const TWEETS = [
    ["RED", "1528000000000000001", "Our limited-edition (RED) tee is here."],
    ["jack", "20", "just setting up my twttr"],
    ["ddlovato", "1528000000000000003", "Tickets for the fall tour go on sale now."],
    ["Pharrell", "1528000000000000004", "The signature hat, back in stock."],
    ["Burberry", "1528000000000000002", "The limited-edition heritage scarf, only 25 made."],
  ];
  let page = 0;

  function embed([handle, id, text]) {
    const article = document.createElement("article");
    article.className = "feed-item";
    const quote = document.createElement("blockquote");
    quote.className = "twitter-tweet";
    const p = document.createElement("p");
    p.textContent = text;
    const link = document.createElement("a");
    link.href = `https://twitter.com/${handle}/status/${id}?ref_src=twsrc%5Etfw`;
    link.textContent = "September 8, 2014";
    quote.append(p, `— @${handle} `, link);
    article.append(quote);
    return article;
  }

  function loadPage() {
    const feed = document.getElementById("feed");
    const fragment = document.createDocumentFragment();
    for (const tweet of TWEETS) fragment.append(embed(tweet));
    feed.append(fragment);
    page += 1;
    document.body.dataset.pages = String(page);
  }

  document.addEventListener("DOMContentLoaded", () => {
    loadPage();
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && page < 20) loadPage();
    }).observe(document.getElementById("sentinel"));
  });
})();
