import { startServer, launchBrowser } from "../e2e/harness.mjs";
import { writeFileSync } from "node:fs";
const server = await startServer();
const browser = await launchBrowser([]);
for (let i = 0; i < 5; i++) {
  const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
  let cdp;
  if (true) { cdp = await page.context().newCDPSession(page); await cdp.send("Profiler.enable"); await cdp.send("Profiler.setSamplingInterval", { interval: 50 }); await cdp.send("Profiler.start"); }
  await page.goto(`${server.origins.publisher}/`);
  const done = () => performance.getEntriesByName("tweetbuy:first-button").length > 0;
  await page.waitForFunction(done, 1000, { timeout: 60_000 });
  const m = await page.evaluate(() => [...performance.getEntriesByName("tweetbuy:attach"), ...performance.getEntriesByName("tweetbuy:align")].map((e) => [e.name.slice(9), Math.round(e.startTime), +e.duration.toFixed(1), e.detail.count, +(e.detail.reserveMs||0).toFixed(1), +(e.detail.mountMs||0).toFixed(1)]));
  console.log(JSON.stringify(m));
  if (cdp) { const { profile } = await cdp.send("Profiler.stop"); writeFileSync(`/tmp/scratch/sprof${i}.cpuprofile`, JSON.stringify(profile)); }
  await page.close();
  const base = await browser.newPage({ viewport: { width: 1024, height: 900 } });
  await base.goto(`${server.origins.publisher}/bench-vanilla?n=1000`);
  await base.waitForFunction(() => performance.getEntriesByName("vanilla:attach").length > 0);
  console.log("vanilla", await base.evaluate(() => performance.getEntriesByName("vanilla:attach")[0].duration));
  await base.close();
}
await browser.close();
process.exit(0);
