#!/bin/sh
# Trunk's one post-build hook. Trunk starts every hook of a stage at the same time, so the
# steps that must follow one another run from here, in order:
# 0. wasm-bindgen's start of each module replaced by ours (wasm-init.js), and its
#    description of a JS value for a Rust panic's message cut to the value's type: neither
#    module has a panic hook (src/main.rs, src/bin/checkout.rs), so no one reads it;
# 1. the button module's DOM kit (src/button/kit.js) appended to its glue, so it comes in
#    the glue's request; each module's wasm-bindgen glue minified (terser; property names
#    are kept);
# 2. short names for each module's imports from its glue and for wasm-bindgen's own exports
#    (short-names.mjs); the loader's template, minified (loader-template.mjs);
# 3. both modules' files named by a hash of their final bytes, and manifest.json
#    (hash-names.sh);
# 4. the preview page's `integrity` of each file computed again (preview-integrity.mjs);
# 5. a brotli and a gzip copy of every file, of its final bytes (precompress.mjs).
set -eu
here=$(dirname "$0")
dir="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
HERE=$(cd "$here" && pwd) node --input-type=module - <<'JS'
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const dir = process.env.TRUNK_STAGING_DIR;
for (const wasm of readdirSync(dir).filter((f) => f.endsWith("_bg.wasm"))) {
  const glue = join(dir, wasm.replace(/_bg\.wasm$/, ".js"));
  let js = readFileSync(glue, "utf8");
  // wasm-bindgen's start, from its loader of a module or a response to the end (its two
  // exports): anything else there, or a start that names what wasm-bindgen no longer writes,
  // fails the build.
  const start = js.indexOf("async function __wbg_load(");
  const tail = js.slice(start);
  const known = /^async function __wbg_load\([\s\S]*^function initSync\([\s\S]*^async function __wbg_init\(/m;
  const exports = "export { initSync, __wbg_init as default };";
  if (start < 0 || !known.test(tail) || !tail.trimEnd().endsWith(exports)) throw new Error(`${glue}: wasm-bindgen's start is not where or what post-build.sh expects`);
  js = js.slice(0, start) + readFileSync(join(process.env.HERE, "wasm-init.js"), "utf8");
  for (const name of ["__wbg_get_imports", "__wbg_finalize_init"]) {
    if (!new RegExp(`^function ${name}\\(`, "m").test(js)) throw new Error(`${glue}: no ${name} for wasm-init.js`);
  }
  // wasm-bindgen's `debugString` (0.6 KB, 233 B brotli of the checkout module's glue) serves
  // only `JsValue`'s Debug, which only a panic's message uses; the function must be whole
  // where expected (from its line to the next closing brace at the start of a line).
  const debug = /^function debugString\(val\) \{\n[\s\S]*?^\}\n/m;
  if (js.includes("debugString(")) {
    if (!debug.test(js)) throw new Error(`${glue}: wasm-bindgen's debugString is not what post-build.sh expects`);
    js = js.replace(debug, "function debugString(val) {\n    return typeof val;\n}\n");
  }
  writeFileSync(glue, js);
}
JS
for wasm in "$dir"/*_bg.wasm; do
  glue="${wasm%_bg.wasm}.js"
  case "$wasm" in
    */tweetbuy-checkout*) ;;
    */tweetbuy-*_bg.wasm) cat "$here/../src/button/kit.js" >> "$glue" ;;
  esac
  terser "$glue" --module --compress --mangle --output "$glue.min"
  mv "$glue.min" "$glue"
done
node "$here/short-names.mjs"
node "$here/loader-template.mjs"
sh "$here/hash-names.sh"
node "$here/preview-integrity.mjs"
node "$here/precompress.mjs"
