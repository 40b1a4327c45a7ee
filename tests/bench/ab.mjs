// Two widget builds side by side, for a change to the button module's speed: on this shared
// machine a figure moves a lot between runs, so the two builds take turns on the same
// /bench?n=N page (with the vanilla baseline after each pair) and the medians are compared.
// Not a test and not part of `make bench`.
//   A=/tmp/dist-before B=dist N=1000 RUNS=9 node tests/bench/ab.mjs
// Each build brings its own loader (its embed.template.js, named in its manifest.json);
// A_ASSETS and B_ASSETS serve other publisher pages and frame files (a copy of
// server/assets) with a build; PAGE measures another page (`PAGE=/` for the demo page's
// start-up).
// Prints, for each build: the mount figure `make bench` reports (attach + align measures)
// and its ratio to the baseline, script start → first button on that page, and the attach
// and align measures apart.
import { startServer, launchBrowser } from "../e2e/harness.mjs";
const dirs = { A: process.env.A, B: process.env.B };
if (!dirs.A || !dirs.B) throw new Error("set A and B to two widget build folders (trunk's dist)");
const n = Number(process.env.N || 1000);
const runs = Number(process.env.RUNS || 7);
const servers = {};
const assets = { A: process.env.A_ASSETS, B: process.env.B_ASSETS };
const path = process.env.PAGE || `/bench?n=${n}`;
const count = process.env.PAGE ? 1 : n;
for (const [k, d] of Object.entries(dirs)) servers[k] = await startServer(["--widget-dir", d, ...(assets[k] ? ["--assets-dir", assets[k]] : [])]);
const browser = await launchBrowser([]);
const res = { A: [], B: [], V: [], Afirst: [], Bfirst: [], Aattach: [], Battach: [], Aalign: [], Balign: [] };
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
try {
  for (let i = 0; i < runs; i++) {
    // Each round the other build goes first: the second page of a round measured slower
    // (by ~10 ms of a 60 ms mount with the same build in both places).
    for (const k of i % 2 ? ["B", "A"] : ["A", "B"]) {
      const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
      await page.goto(`${servers[k].origins.publisher}${path}`);
      const done = (n) => ["tweetbuy:attach", "tweetbuy:align"].every((name) => performance.getEntriesByName(name).reduce((c, e) => c + e.detail.count, 0) >= n);
      await page.waitForFunction(done, count, { timeout: 60_000 });
      res[k].push(await page.evaluate(() => [...performance.getEntriesByName("tweetbuy:attach"), ...performance.getEntriesByName("tweetbuy:align")].reduce((t, e) => t + e.duration, 0)));
      res[k + "attach"].push(await page.evaluate(() => performance.getEntriesByName("tweetbuy:attach").reduce((t, e) => t + e.duration, 0)));
      res[k + "align"].push(await page.evaluate(() => performance.getEntriesByName("tweetbuy:align").reduce((t, e) => t + e.duration, 0)));
      res[k + "first"].push(await page.evaluate(() => performance.getEntriesByName("tweetbuy:first-button")[0].startTime - performance.getEntriesByName("tweetbuy:script-start")[0].startTime));
      await page.close();
    }
    const base = await browser.newPage({ viewport: { width: 1024, height: 900 } });
    await base.goto(`${servers.A.origins.publisher}/bench-vanilla?n=${n}`);
    await base.waitForFunction(() => performance.getEntriesByName("vanilla:attach").length > 0);
    res.V.push(await base.evaluate(() => performance.getEntriesByName("vanilla:attach")[0].duration));
    await base.close();
  }
  const f = (x) => x.toFixed(1);
  console.log(`n=${n} runs=${runs} mount A ${f(med(res.A))} B ${f(med(res.B))} vanilla ${f(med(res.V))} ratio A ${(med(res.A) / med(res.V)).toFixed(2)} B ${(med(res.B) / med(res.V)).toFixed(2)}; start→first button A ${f(med(res.Afirst))} B ${f(med(res.Bfirst))}; attach A ${f(med(res.Aattach))} B ${f(med(res.Battach))} align A ${f(med(res.Aalign))} B ${f(med(res.Balign))}`);
} finally { await browser.close(); for (const s of Object.values(servers)) await s.stop(); }
