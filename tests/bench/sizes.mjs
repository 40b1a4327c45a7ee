// Byte sizes of the widget's assets: raw, gzip -9 and brotli q11, computed from the files
// the server would send. Deterministic for a given build, so `make test` can assert them.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";

export function sizeOf(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** The assets a page loads before the first click: the loader, the glue module and the wasm. */
export function firstLoadAssets(widgetDir, loaderTemplate) {
  const files = readdirSync(widgetDir);
  const glue = files.find((f) => /^tweetbuy-[0-9a-f]+\.js$/.test(f));
  const wasm = files.find((f) => /^tweetbuy-[0-9a-f]+_bg\.wasm$/.test(f));
  if (!glue || !wasm) throw new Error(`no widget build in ${widgetDir}`);
  const loader = readFileSync(loaderTemplate, "utf8").replaceAll("{{GLUE}}", glue).replaceAll("{{WASM}}", wasm);
  return [
    { name: "embed.js (loader)", ...sizeOf(Buffer.from(loader)) },
    { name: glue, ...sizeOf(readFileSync(join(widgetDir, glue))) },
    { name: wasm, ...sizeOf(readFileSync(join(widgetDir, wasm))) },
  ];
}

export const total = (rows, key) => rows.reduce((sum, r) => sum + r[key], 0);
