#!/bin/sh
# Trunk's one post-build hook. Trunk starts every hook of a stage at the same time, so the
# steps that must follow one another run from here, in order:
# 1. the button module's DOM kit (src/button/kit.js) appended to its glue, so it comes in
#    the glue's request; each module's wasm-bindgen glue minified (terser; property names
#    are kept);
# 2. short names for each module's imports from its glue (short-imports.mjs);
# 3. both modules' files named by a hash of their final bytes, and manifest.json
#    (hash-names.sh);
# 4. the preview page's `integrity` of each file computed again (preview-integrity.mjs);
# 5. a brotli and a gzip copy of every file, of its final bytes (precompress.mjs).
set -eu
here=$(dirname "$0")
dir="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
for wasm in "$dir"/*_bg.wasm; do
  glue="${wasm%_bg.wasm}.js"
  case "$wasm" in
    */tweetbuy-checkout*) ;;
    */tweetbuy-*_bg.wasm) cat "$here/../src/button/kit.js" >> "$glue" ;;
  esac
  terser "$glue" --module --compress --mangle --output "$glue.min"
  mv "$glue.min" "$glue"
done
node "$here/short-imports.mjs"
sh "$here/hash-names.sh"
node "$here/preview-integrity.mjs"
node "$here/precompress.mjs"
