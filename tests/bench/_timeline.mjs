import { startServer, launchBrowser } from "../e2e/harness.mjs";
const server = await startServer();
const browser = await launchBrowser([]);
const rows = [];
for (let i = 0; i < 12; i++) {
  const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
  await page.goto(`${server.origins.publisher}/`);
  await page.waitForFunction(() => performance.getEntriesByName("tweetbuy:first-button").length > 0);
  await page.waitForTimeout(200);
  const t = await page.evaluate(() => {
    const s = performance.getEntriesByName("tweetbuy:script-start")[0].startTime;
    const r = {};
    for (const e of performance.getEntriesByType("resource")) {
      const n = new URL(e.name).pathname.replace(/.*\//, "").slice(0, 22);
      r[n] = [Math.round(e.startTime - s), Math.round(e.responseEnd - s)];
    }
    const marks = {};
    for (const e of performance.getEntriesByType("mark")) marks[e.name] = Math.round(e.startTime - s);
    for (const e of performance.getEntriesByType("measure")) marks[e.name + "(m)"] = [Math.round(e.startTime - s), Math.round(e.duration)];
    const nav = performance.getEntriesByType("navigation")[0];
    return { r, marks, scriptStartAbs: Math.round(s), dcl: Math.round(nav.domContentLoadedEventEnd - s), load: Math.round(nav.loadEventEnd - s) };
  });
  rows.push(t);
  await page.close();
}
for (const t of rows) console.log(JSON.stringify(t));
await browser.close();
await server.stop?.();
process.exit(0);
