# The two commands are `make demo` and `make test`; both install what is missing first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

SERVER := target/release/tweetbuy-server
WASM_RUNNER := CHROMEDRIVER=$$(command -v chromedriver) CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner

.PHONY: demo test tools build widget server test-native test-wasm test-e2e test-e2e-pg lint clean test-pg bench-api fuzz bench

# A throw-away PostgreSQL (scripts/postgres.sh) lives here while test-pg or bench-api runs.
PG_DIR := $(shell mktemp -u /tmp/tweetbuy-pg.XXXXXX)

## make demo: install, build, and serve the demo publisher site at http://127.0.0.1:8080/
# Demo mode: the vault's generated master key is kept in the data directory (.data/), which
# the server refuses outside demo mode.
demo: build
	@echo "Demo publisher page: http://127.0.0.1:8080/"
	$(SERVER) serve --demo

## make test: install, build, then every test (native, in-browser, end to end)
test: build
	$(MAKE) --no-print-directory test-native
	$(MAKE) --no-print-directory test-pg
	$(MAKE) --no-print-directory test-wasm
	$(MAKE) --no-print-directory test-e2e
	$(MAKE) --no-print-directory test-e2e-pg

tools:
	@scripts/install-tools.sh

build: tools widget server

# A panic's location names its file, and a dependency's file by its path in Cargo's registry
# (~/.cargo/registry/src/...): the same prefix on every such path, which the buyer downloads
# and which differs from machine to machine. Without it the checkout module is 307 B brotli
# smaller. Only the wasm target's flags: the config's own (.cargo/config.toml) are kept.
widget:
	@echo "==> trunk build --release --offline (the widget)"
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=$${CARGO_HOME:-$$HOME/.cargo}/registry/src/=" \
		trunk build --release --offline

server:
	@echo "==> cargo build --release -p tweetbuy-server"
	cargo build --release -p tweetbuy-server

# Our copy of reactive_graph (patches/README.md) runs its own tests too, one at a time: some
# of them share the crate's global batch of effects, and fail beside each other on the
# crate as published as well.
test-native:
	@echo "==> native tests: core, widget logic, server"
	cargo test --workspace --exclude reactive_graph
	@echo "==> reactive_graph's own tests, on our copy of it"
	cargo test -p reactive_graph --features effects -- --test-threads=1

test-wasm:
	@echo "==> in-browser widget tests (wasm-bindgen-test in headless Chromium)"
	$(WASM_RUNNER) cargo test -p tweetbuy --target wasm32-unknown-unknown --test web
	$(WASM_RUNNER) cargo test -p wasm-streams --target wasm32-unknown-unknown --test web

test-e2e:
	@echo "==> end-to-end tests (playwright-core driving Debian chromium)"
	cd tests/e2e && TWEETBUY_SERVER=$(CURDIR)/$(SERVER) TWEETBUY_WIDGET_DIR=$(CURDIR)/dist node --test --test-concurrency=1 *.test.mjs

## make test-e2e-pg: the suites that hold the buyer's consent (attacks, payments, saved info,
## the buyer's purchases) and money or email of sellers' tools (discount codes, the waitlist)
## again, with the servers' data in a real PostgreSQL
E2E_PG_SUITES := attacks.test.mjs payments.test.mjs saved.test.mjs buyer.test.mjs discounts.test.mjs waitlist.test.mjs
test-e2e-pg:
	@echo "==> end-to-end consent suites on PostgreSQL (initdb into $(PG_DIR), loopback only)"
	url=$$(scripts/postgres.sh start $(PG_DIR)); \
	trap '$(CURDIR)/scripts/postgres.sh stop $(PG_DIR)' EXIT; \
	cd tests/e2e && TWEETBUY_E2E_PG_URL=$$url TWEETBUY_SERVER=$(CURDIR)/$(SERVER) TWEETBUY_WIDGET_DIR=$(CURDIR)/dist \
		node --test --test-concurrency=1 $(E2E_PG_SUITES)

## make test-pg: the server's tests again, on a real PostgreSQL (two replicas included)
# The server's integration tests (server/tests/*.rs; they read TWEETBUY_TEST_PG_URL), from the
# binaries test-native built. How Cargo compiles a shared dependency depends on what is
# selected: features are unified over the selected packages, and a crate used both at build
# time and at run time (proc-macro2, which the widget's library links) is built with debug
# info only when something selected links it. So this selects what test-native does first,
# the whole workspace but our reactive_graph, with `--lib` keeping the widget's library in:
# `-p tweetbuy-server`, or the test targets alone, would compile the dependency tree again.
# The libraries' unit tests run again with them (under a second).
SERVER_TESTS := $(patsubst server/tests/%.rs,--test %,$(wildcard server/tests/*.rs))
test-pg: server
	@echo "==> server tests on PostgreSQL (initdb into $(PG_DIR), loopback only)"
	url=$$(scripts/postgres.sh start $(PG_DIR)); \
	trap 'scripts/postgres.sh stop $(PG_DIR)' EXIT; \
	TWEETBUY_TEST_PG_URL=$$url TWEETBUY_REQUIRE_PG=1 TWEETBUY_SERVER_BIN=$(CURDIR)/$(SERVER) \
		cargo test --workspace --exclude reactive_graph --lib $(SERVER_TESTS)

## make bench-api: purchases/s and latency (intent, token, order) on SQLite and on PostgreSQL, then a
## flash sale (5,000 buyers, 500 units; two replicas on PostgreSQL, reached over its Unix socket as
## on one machine); docs/performance.md
bench-api: server
	@echo "==> cargo build --release --example bench_orders"
	cargo build --release -p tweetbuy-server --example bench_orders
	target/release/examples/bench_orders --server $(SERVER)
	TWEETBUY_PG_FSYNC=on scripts/postgres.sh start $(PG_DIR) >/dev/null || exit 1; \
	trap 'scripts/postgres.sh stop $(PG_DIR)' EXIT; \
	target/release/examples/bench_orders --server $(SERVER) --database-url "$$(scripts/postgres.sh socket-url $(PG_DIR))"

## make bench: the widget's cost to a host page in headless Chromium (bytes, start-up,
## mounting beside a vanilla-JS baseline, long tasks, layout shift, opening, memory)
bench: build
	cd tests/bench && TWEETBUY_SERVER=$(CURDIR)/$(SERVER) TWEETBUY_WIDGET_DIR=$(CURDIR)/dist node bench.mjs

## make fuzz: every cargo-fuzz target for FUZZ_SECONDS (default 60) each, on nightly
fuzz:
	scripts/fuzz.sh

lint:
	cargo fmt --all --check
	# Our copy of reactive_graph is Leptos's code as published, but for two of its types
	# (patches/README.md): not linted, neither as a member nor as the widget's dependency.
	cargo clippy --workspace --exclude reactive_graph --all-targets --no-deps -- -D warnings
	# The button module is the library without its `checkout` feature (no Leptos).
	cargo clippy -p tweetbuy --no-default-features --target wasm32-unknown-unknown --bin tweetbuy -- -D warnings
	# Our wasm-streams' browser tests build for wasm only.
	cargo clippy -p wasm-streams --target wasm32-unknown-unknown --all-targets -- -D warnings

clean:
	rm -rf dist target .tools tests/e2e/node_modules

## make docs-screenshots: retake docs/img/theming-*.png unmasked, with fixed stock (never part of make test)
.PHONY: docs-screenshots
docs-screenshots: build
	cd tests/e2e && TWEETBUY_SERVER=$(CURDIR)/$(SERVER) TWEETBUY_WIDGET_DIR=$(CURDIR)/dist node docs-screenshots.mjs
