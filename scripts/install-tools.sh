#!/usr/bin/env bash
# Installs whatever `make demo` and `make test` need and is missing. Safe to run again:
# each step checks first and is skipped when the right version is already there.
# Everything comes from package registries (crates.io, npm, Debian); nothing downloads a
# prebuilt binary.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: a real browser and its driver for the in-browser and end-to-end tests,
# and PostgreSQL's server binaries for the backend tests on PostgreSQL (scripts/postgres.sh).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# The other engines of the end-to-end suite (tests/e2e/webdriver.mjs): WebKit (Safari's, and
# every iPhone browser's), WebKitGTK's WebDriver and its MiniBrowser in a virtual X display;
# and Firefox ESR, driven by geckodriver (below).
command -v WebKitWebDriver >/dev/null 2>&1 || missing+=(webkit2gtk-driver)
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb)
command -v xauth >/dev/null 2>&1 || missing+=(xauth)
# The visual tests' reference screenshots were drawn with Liberation's metric-compatible
# Times/Arial/Courier; with only DejaVu a serif theme renders wider and the comparison fails.
compgen -G '/usr/share/fonts/truetype/liberation*/LiberationSerif-Regular.ttf' >/dev/null || missing+=(fonts-liberation)
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]} (a few minutes)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  ok "chromium $(chromium --version 2>/dev/null | awk '{print $2}'), chromedriver, fonts-liberation, $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1), WebKitGTK's WebDriver, Xvfb, $(firefox-esr --version 2>/dev/null)"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
else
  ok "wasm32-unknown-unknown target"
fi

# Trunk 0.21.x: 0.22 needs a newer rustc than this toolchain's.
if trunk --version 2>/dev/null | grep -q '^trunk 0\.21\.'; then
  ok "$(trunk --version)"
else
  step "cargo install trunk 0.21 (about 12 minutes on 2 cores; progress follows)"
  cargo install trunk --version '^0.21' --locked
fi

# wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly. `--locked` fails on
# this registry mirror, so it is installed without it.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ -z "$bindgen_version" ]; then
  echo "could not read the wasm-bindgen version from Cargo.lock" >&2
  exit 1
fi
if wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $bindgen_version"; then
  ok "wasm-bindgen $bindgen_version"
else
  step "cargo install wasm-bindgen-cli $bindgen_version (about 7 minutes)"
  cargo install wasm-bindgen-cli --version "=$bindgen_version" --force
fi
if ! grep -q "wasm_bindgen = \"$bindgen_version\"" Trunk.toml; then
  echo "Trunk.toml pins a wasm_bindgen other than Cargo.lock's $bindgen_version: update [tools]" >&2
  exit 1
fi

# geckodriver drives Firefox for the end-to-end suite; it is not in Debian, but is a crate.
# (Its version printed whole first: under pipefail, `grep -q` leaving the pipe early could
# fail the check of an installed one.)
gecko_version=$(geckodriver --version 2>/dev/null || true)
if [[ "${gecko_version%%$'\n'*}" == "geckodriver 0.37."* ]]; then
  ok "${gecko_version%%$'\n'*}"
else
  step "cargo install geckodriver 0.37 (about 4 minutes)"
  cargo install geckodriver --version '^0.37' --locked
fi

# wasm-opt from npm binaryen@132 (Debian's binaryen 108 breaks the module in Chromium).
if wasm-opt --version 2>/dev/null | grep -q 'version 132'; then
  ok "$(wasm-opt --version)"
else
  step "npm install binaryen@132 into .tools/"
  mkdir -p .tools
  npm install --no-audit --no-fund --prefix .tools binaryen@132
fi

# terser minifies the wasm-bindgen glue of both modules (scripts/post-build.sh): ~30 % of
# the glue's brotli bytes, which every host page loads.
if terser --version 2>/dev/null | grep -q '5\.51\.4'; then
  ok "$(terser --version)"
else
  step "npm install terser@5.51.4 into .tools/"
  mkdir -p .tools
  npm install --no-audit --no-fund --prefix .tools terser@5.51.4
fi

# The end-to-end suite's Node packages (playwright-core drives Debian's chromium).
if [ ! -d tests/e2e/node_modules/playwright-core ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
  step "npm ci in tests/e2e"
  npm ci --no-audit --no-fund --prefix tests/e2e
else
  ok "tests/e2e node packages"
fi
echo
echo "All tools present."
