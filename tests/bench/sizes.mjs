// Byte sizes of the widget's assets: raw, gzip -9 and brotli q11 (as the build precompresses
// them, scripts/brotli.mjs), computed from the files the server would send. Deterministic
// for a given build, so `make test` can assert them.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { brotli } from "../../scripts/brotli.mjs";

export function sizeOf(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotli(bytes).length,
  };
}

/** The two modules' files in a build: the button module and the checkout module. */
export function buildFiles(widgetDir) {
  const files = readdirSync(widgetDir);
  const find = (re) => files.find((f) => re.test(f));
  const build = {
    glue: find(/^tweetbuy-[0-9a-f]+\.js$/),
    wasm: find(/^tweetbuy-[0-9a-f]+_bg\.wasm$/),
    checkoutGlue: find(/^tweetbuy-checkout-[0-9a-f]+\.js$/),
    checkoutWasm: find(/^tweetbuy-checkout-[0-9a-f]+_bg\.wasm$/),
  };
  if (Object.values(build).some((f) => !f)) throw new Error(`no complete widget build in ${widgetDir}`);
  return build;
}

/** The loader as the server sends it (its template filled in, the lookup rules inlined). */
export async function servedLoader(apiOrigin) {
  const response = await fetch(`${apiOrigin}/tweetbuy/embed.js`);
  if (!response.ok) throw new Error(`the loader: ${response.status}`);
  return response.text();
}

/** Whether the loader holds the button module's glue (the server inlines it) rather than
 * importing it. */
export function loaderHoldsGlue(widgetDir, loader) {
  return !loader.includes(`import("./${buildFiles(widgetDir).glue}")`);
}

/** The assets a page loads before the first click: the loader (`servedLoader`), which holds
 * the button module's glue, and the module's wasm (and the glue's own file, for a loader
 * that imports it). */
export function firstLoadAssets(widgetDir, loader) {
  const build = buildFiles(widgetDir);
  const glue = loaderHoldsGlue(widgetDir, loader) ? [] : [build.glue];
  return [
    { name: "embed.js (loader, with the glue)", ...sizeOf(Buffer.from(loader)) },
    ...[...glue, build.wasm].map((name) => ({ name, ...sizeOf(readFileSync(join(widgetDir, name))) })),
  ];
}

/** What the first click (or a hover before it) adds from the widget build: the checkout module. */
export function checkoutAssets(widgetDir) {
  const build = buildFiles(widgetDir);
  return [build.checkoutGlue, build.checkoutWasm].map((name) => ({
    name,
    ...sizeOf(readFileSync(join(widgetDir, name))),
  }));
}

export const total = (rows, key) => rows.reduce((sum, r) => sum + r[key], 0);
