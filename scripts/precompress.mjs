// The last step of Trunk's post-build hook (scripts/post-build.sh), on the final names and
// bytes: writes a brotli (q11, scripts/brotli.mjs) and a gzip (-9) copy beside every JS,
// wasm and CSS file of the build, so the server sends them precompressed
// (`Content-Encoding`) with no work per request.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { brotli } from "./brotli.mjs";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error("run by trunk as a post_build hook (TRUNK_STAGING_DIR is not set)");
for (const name of readdirSync(dir)) {
  // The loader's template is filled in and compressed by the server (server/src/api/widget.rs).
  if (!/\.(js|wasm|css)$/.test(name) || name === "embed.template.js") continue;
  const bytes = readFileSync(join(dir, name));
  writeFileSync(join(dir, `${name}.br`), brotli(bytes));
  writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes, { level: 9 }));
}
