// `make bench`: writes ?n=N tweet embeds (cycling over tweets that have offers) into #feed.
"use strict";
(() => {
  const params = new URLSearchParams(location.search);
  const n = Number(params.get("n") || 10);
  const ids = ["1528000000000000001", "1528000000000000002", "1528000000000000003", "1528000000000000004", "1528000000000000007"];
  const feed = document.getElementById("feed");
  const fill = () => {
    const fragment = document.createDocumentFragment();
    for (let i = 0; i < n; i++) {
      const quote = document.createElement("blockquote");
      quote.className = "twitter-tweet";
      const p = document.createElement("p");
      p.textContent = `Benchmark tweet ${i + 1}`;
      const link = document.createElement("a");
      link.href = `https://twitter.com/bench/status/${ids[i % ids.length]}`;
      link.textContent = "September 8, 2014";
      quote.append(p, "— @bench ", link);
      fragment.append(quote);
    }
    feed.append(fragment);
  };
  fill();
  // The memory figure adds and removes the embeds again, to tell a leak from a one-time
  // high-water mark.
  window.benchRefill = fill;
})();
