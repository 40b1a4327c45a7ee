// The size budget: bytes are deterministic for a build, so they can be asserted, unlike
// times. Issue 8's target is 40 KB brotli before the first click; today's build is far above
// it (see docs/performance.md), so this ceiling guards against growth while the split into a
// small button module and a lazily loaded checkout module is built. Raised once on purpose,
// from 225 KB to 256 KB, when theming and saved info landed (200.8 KB → 243.3 KB brotli).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, WIDGET_DIR } from "./harness.mjs";
import { firstLoadAssets, total } from "../bench/sizes.mjs";

const CEILING_BROTLI = 256 * 1024;
const TARGET_BROTLI = 40 * 1024;

test("the assets loaded before the first click stay under the size ceiling", () => {
  const assets = firstLoadAssets(WIDGET_DIR, join(ROOT, "server/assets/embed.js"));
  const brotli = total(assets, "brotli");
  for (const a of assets) console.log(`${a.name}: raw ${a.raw} B, gzip ${a.gzip} B, brotli ${a.brotli} B`);
  console.log(`before first click: ${brotli} B brotli (ceiling ${CEILING_BROTLI} B, target ${TARGET_BROTLI} B)`);
  assert.ok(brotli <= CEILING_BROTLI, `${brotli} B brotli exceeds the ${CEILING_BROTLI} B ceiling`);
  assert.equal(assets.length, 3, "loader, glue module and wasm: nothing else loads before the first click");
});
