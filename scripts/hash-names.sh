#!/bin/sh
# A step of Trunk's post-build hook (scripts/post-build.sh). Gives both modules' files
# names with a hash of their final bytes, so the server can send them with
# `Cache-Control: immutable` and a new build is never mixed with an old one. Trunk builds
# the checkout module as its second Rust target (of type "worker", since only one may be
# "main") and puts no hash in a worker's file names; it names the button module's files
# from their bytes before the steps before this one changed them, so those are named anew.
#
# Then write manifest.json naming the build's four files (the button module's glue and
# wasm, the checkout module's glue and wasm) and the loader's template
# (scripts/loader-template.mjs): the server reads it to fill in the loader and to know which
# files never change.
set -eu
dir="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
bin=tweetbuy-checkout
if [ -f "$dir/${bin}_bg.wasm" ] && [ -f "$dir/$bin.js" ]; then
  hash=$(cat "$dir/$bin.js" "$dir/${bin}_bg.wasm" | sha256sum | cut -c1-16)
  mv "$dir/$bin.js" "$dir/$bin-$hash.js"
  mv "$dir/${bin}_bg.wasm" "$dir/$bin-${hash}_bg.wasm"
fi

# The one file in $dir matching the pattern $1 and not $2; the build fails otherwise.
one() {
  found=
  for path in "$dir"/$1; do
    [ -f "$path" ] || continue
    name=${path##*/}
    case "$name" in $2) continue ;; esac
    if [ -n "$found" ]; then
      echo "hash-names.sh: more than one $1 in $dir: $found, $name" >&2
      exit 1
    fi
    found=$name
  done
  if [ -z "$found" ]; then
    echo "hash-names.sh: no $1 in $dir" >&2
    exit 1
  fi
  printf '%s' "$found"
}
glue=$(one 'tweetbuy-*.js' 'tweetbuy-checkout-*')
wasm=$(one 'tweetbuy-*_bg.wasm' 'tweetbuy-checkout-*')
old=${glue%.js}
new=tweetbuy-$(cat "$dir/$glue" "$dir/$wasm" | sha256sum | cut -c1-16)
if [ "$old" != "$new" ]; then
  # The glue's default wasm path and Trunk's preview page name the files.
  sed -i "s/$old/$new/g" "$dir/$glue" "$dir/index.html"
  mv "$dir/$glue" "$dir/$new.js"
  mv "$dir/$wasm" "$dir/${new}_bg.wasm"
  glue=$new.js
  wasm=${new}_bg.wasm
fi
checkout_glue=$(one "$bin-*.js" '')
checkout_wasm=$(one "$bin-*_bg.wasm" '')
loader=$(one 'embed.template.js' '')
printf '{"glue": "%s", "wasm": "%s", "checkout_glue": "%s", "checkout_wasm": "%s", "loader": "%s"}\n' \
  "$glue" "$wasm" "$checkout_glue" "$checkout_wasm" "$loader" >"$dir/manifest.json.tmp"
mv "$dir/manifest.json.tmp" "$dir/manifest.json"
