import { startServer, launchBrowser } from "../e2e/harness.mjs";
import { writeFileSync } from "node:fs";
const server = await startServer();
const browser = await launchBrowser([]);
for (let i = 0; i < 4; i++) {
  const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
  await browser.startTracing(page, { categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "blink.user_timing", "toplevel", "v8", "disabled-by-default-v8.compile"] });
  await page.goto(`${server.origins.publisher}/`);
  await page.waitForFunction(() => performance.getEntriesByName("tweetbuy:first-button").length > 0);
  await page.waitForTimeout(300);
  const buf = await browser.stopTracing();
  writeFileSync(`/tmp/scratch/trace${i}.json`, buf);
  await page.close();
}
await browser.close();
process.exit(0);
