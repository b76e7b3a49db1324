#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL cluster: `initdb` into a temporary folder (as
# the unprivileged `postgres` user when run as root), `pg_ctl start` on a free loopback port,
# HANDPRINT_TEST_POSTGRES set to its URL; the cluster and its folder are removed afterwards.
# Installs Debian's `postgresql` when no server binaries are found.
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
#   e.g. scripts/with-postgres.sh sh -c 'HANDPRINT_DATABASE=$HANDPRINT_TEST_POSTGRES scripts/demo.sh'
set -euo pipefail

bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return
  fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

bin=$(bindir)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "with-postgres: installing PostgreSQL from Debian" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bin=$(bindir)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/handprint-pg.XXXXXX")
as_owner=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$dir"
  as_owner=(runuser -u postgres --)
fi

stop() {
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U handprint --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# A free port: try a few from a random start. fsync stays on: the tests and benchmarks
# measure durable writes.
started=""
for _ in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 30000))
  if "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null 2>&1; then
    started=1
    break
  fi
done
[ -n "$started" ] || { echo "with-postgres: the server did not start:" >&2; cat "$dir/server.log" >&2; exit 1; }

export HANDPRINT_TEST_POSTGRES="postgres://handprint@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at $HANDPRINT_TEST_POSTGRES" >&2
"$@"
