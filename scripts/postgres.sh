#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests and the benchmark, from Debian's `postgresql`
# package (scripts/install-tools.sh installs it).
#
#   scripts/postgres.sh start DIR   initdb into DIR (emptied first), start on 127.0.0.1 on a
#                                   free port, unix socket in DIR; prints the DATABASE_URL
#   scripts/postgres.sh stop DIR    stop it and delete DIR
#   scripts/postgres.sh down DIR    stop it, keeping DIR (for restart tests)
#   scripts/postgres.sh up DIR      start it again after `down`, same data, same port
#   scripts/postgres.sh socket-url DIR
#                                   the DATABASE_URL of the same server over its Unix socket
#                                   in DIR: what a server on the same machine would use (no
#                                   TCP stack between them); `make bench-api` uses it
#
# Listens on loopback only, with trust authentication: it is for tests on this machine.
# initdb refuses to run as root, so as root the server runs as the `postgres` user that the
# Debian package creates. fsync is off (a test database need not survive a power cut) unless
# TWEETBUY_PG_FSYNC=on.
set -euo pipefail

usage() { echo "usage: $0 start|stop|down|up|socket-url DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
command=$1
dir=$2

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL server binaries not found under /usr/lib/postgresql: run scripts/install-tools.sh" >&2
  exit 1
fi

as_owner=()
if [ "$(id -u)" = 0 ]; then
  as_owner=(runuser -u postgres --)
fi

case "$command" in
  start)
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U tweetbuy --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    fsync=${TWEETBUY_PG_FSYNC:-off}
    # A free port: a random one that nothing answers on. Another process (a test server, the
    # benchmark's replicas) may bind it between that check and PostgreSQL's own bind: then
    # the start is tried again on another port.
    started=
    for _ in $(seq 1 5); do
      port=
      for _ in $(seq 1 50); do
        candidate=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
          port=$candidate
          break
        fi
      done
      [ -n "$port" ] || { echo "no free port found" >&2; exit 1; }
      if "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=$fsync -c max_connections=400" start >/dev/null 2>&1; then
        started=1
        break
      fi
      grep -q "Address already in use" "$dir/postgres.log" || break
    done
    [ -n "$started" ] || { cat "$dir/postgres.log" >&2; exit 1; }
    url="postgres://tweetbuy@127.0.0.1:$port/postgres"
    echo "$url" >"$dir/url"
    echo "$url"
    ;;
  socket-url)
    url=$(cat "$dir/url")
    port=${url##*:}
    port=${port%%/*}
    echo "postgres://tweetbuy@localhost:$port/postgres?host=$(cd "$dir" && pwd)"
    ;;
  down)
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  up)
    url=$(cat "$dir/url")
    port=${url##*:}
    port=${port%%/*}
    fsync=${TWEETBUY_PG_FSYNC:-off}
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=$fsync -c max_connections=400" start >/dev/null ||
      { cat "$dir/postgres.log" >&2; exit 1; }
    echo "$url"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
