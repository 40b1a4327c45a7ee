import { startServer, launchBrowser } from "../e2e/harness.mjs";
const server = await startServer(process.env.W ? ["--widget-dir", process.env.W] : []);
const browser = await launchBrowser([]);
try {
  for (let i = 0; i < Number(process.env.RUNS || 3); i++) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    if (process.env.STUB) await page.route(/twitter\.com/, (r) => r.fulfill({ status: 200, contentType: r.request().url().endsWith(".js") ? "text/javascript" : "text/html", body: "" }));
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 });
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    await page.goto(`${server.origins.publisher}/`, { waitUntil: "commit" });
    await page.waitForFunction(() => performance.getEntriesByName("tweetbuy:first-button").length > 0, null, { timeout: 60000 });
    const t = await page.evaluate(() => {
      const out = { first: Math.round(performance.getEntriesByName("tweetbuy:first-button")[0].startTime) };
      const nav = performance.getEntriesByType("navigation")[0];
      out.doc = `${Math.round(nav.responseEnd)} dcl ${Math.round(nav.domContentLoadedEventEnd)}`;
      for (const e of performance.getEntriesByType("resource")) out[new URL(e.name).pathname.slice(0, 28)] = `${Math.round(e.startTime)}→${Math.round(e.responseEnd)}`;
      for (const e of performance.getEntriesByType("mark")) out[e.name] = Math.round(e.startTime);
      for (const e of performance.getEntriesByType("measure")) out[e.name] = `${Math.round(e.startTime)}+${Math.round(e.duration)}`;
      return out;
    });
    console.log(JSON.stringify(t));
    await context.close();
  }
} finally { await browser.close(); await server.stop(); }
