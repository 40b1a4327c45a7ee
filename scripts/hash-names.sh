#!/bin/sh
# Trunk post-build hook. Trunk builds the checkout module as its second Rust target (of
# type "worker", since only one may be "main") and does not put a content hash in a
# worker's file names. Give it hashed names like the button module's, so the server can
# send both with `Cache-Control: immutable` and a new build is never mixed with an old one.
set -eu
dir="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
bin=tweetbuy-checkout
if [ -f "$dir/${bin}_bg.wasm" ] && [ -f "$dir/$bin.js" ]; then
  hash=$(cat "$dir/$bin.js" "$dir/${bin}_bg.wasm" | sha256sum | cut -c1-16)
  mv "$dir/$bin.js" "$dir/$bin-$hash.js"
  mv "$dir/${bin}_bg.wasm" "$dir/$bin-${hash}_bg.wasm"
fi
