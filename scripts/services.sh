#!/usr/bin/env bash
# Local Postgres + Redis for development and tests, on loopback, for this checkout.
#   scripts/services.sh up     start (idempotent), wait until both answer, print the URLs
#   scripts/services.sh down   stop what `up` started
#   scripts/services.sh env    print the URLs as shell assignments
# If DATABASE_URL / REDIS_URL are set and answer, they are used as they are.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/.data"
# Ports away from the defaults (5432, 6379) of a developer's own servers, and different for
# each checkout (two clones can run their services side by side).
# The ports chosen the first time are kept in .data/ports, so the URLs stay the same.
SLOT=$(( $(echo "$ROOT" | cksum | cut -d' ' -f1) % 500 ))
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -f "$DATA/ports" ]; then . "$DATA/ports"; fi
if [ -z "${PG_PORT:-}" ]; then
  PG_PORT=$(( 54000 + SLOT ))
  while ! port_free "$PG_PORT"; do PG_PORT=$(( PG_PORT + 1 )); done
  REDIS_PORT=$(( 63000 + SLOT ))
  while ! port_free "$REDIS_PORT"; do REDIS_PORT=$(( REDIS_PORT + 1 )); done
fi
PG_PORT="${SWITCHBOARD_PG_PORT:-$PG_PORT}"
REDIS_PORT="${SWITCHBOARD_REDIS_PORT:-$REDIS_PORT}"
PG_USER=switchboard
PG_PASSWORD=switchboard
LOCAL_DATABASE_URL="postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/switchboard"
LOCAL_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

log() { echo "[services] $*" >&2; }

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/pg_ctl" ] && { echo "$dir"; return; }; done
  return 1
}

as_pg() {
  # The Postgres server refuses to run as root: run it as the `postgres` system user then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then log "missing $*: install them (apt-get install $*)"; exit 1; fi
  log "installing $* from apt"
  [ -n "$(find /var/lib/apt/lists -name '*Packages' -newermt '-1 day' 2>/dev/null | head -1)" ] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_answers() { # $1 = url
  command -v psql >/dev/null && psql "$1" -Atqc 'select 1' >/dev/null 2>&1
}

redis_answers() { # $1 = url
  command -v redis-cli >/dev/null && [ "$(redis-cli -u "$1" ping 2>/dev/null)" = PONG ]
}

ensure_packages() {
  local need=()
  pg_bin >/dev/null || need+=(postgresql)
  command -v psql >/dev/null || need+=(postgresql-client)
  command -v redis-server >/dev/null || need+=(redis-server)
  [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
}

pg_home() {
  # Data lives under .data/ of the checkout. As root the server runs as `postgres`, which may
  # not be able to reach a checkout under a private home folder: then it lives under
  # /var/lib/switchboard/<checkout hash>.
  mkdir -p "$DATA"
  if [ "$(id -u)" != 0 ]; then echo "$DATA"; return; fi
  chmod 0711 "$DATA"
  if runuser -u postgres -- test -x "$DATA"; then echo "$DATA"; return; fi
  local alt="/var/lib/switchboard/$(echo "$ROOT" | md5sum | cut -c1-12)"
  mkdir -p "$alt"; chmod 0711 /var/lib/switchboard "$alt"
  log "postgres cannot reach $DATA: keeping its data in $alt"
  echo "$alt"
}

start_postgres() {
  local bin; bin="$(pg_bin)"
  local home; home="$(pg_home)"
  local pgdata="$home/postgres" run="$home/run"
  mkdir -p "$run"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$run"; fi
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    log "initialising Postgres in $pgdata"
    mkdir -p "$pgdata"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$pgdata"; fi
    local pw="$run/pwfile"; echo "$PG_PASSWORD" > "$pw"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$pw"; fi
    as_pg "$bin/initdb" -D "$pgdata" -U "$PG_USER" --pwfile="$pw" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pw"
  fi
  if ! as_pg "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    log "starting Postgres on 127.0.0.1:$PG_PORT"
    as_pg "$bin/pg_ctl" -D "$pgdata" -l "$run/postgres.log" -w -t 30 start \
      -o "-p $PG_PORT -k $run -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" >/dev/null
  fi
  for db in switchboard switchboard_test; do
    as_pg "$bin/psql" -h "$run" -p "$PG_PORT" -U "$PG_USER" -d postgres -Atqc "select 1 from pg_database where datname='$db'" | grep -q 1 \
      || as_pg "$bin/createdb" -h "$run" -p "$PG_PORT" -U "$PG_USER" "$db"
  done
}

start_redis() {
  mkdir -p "$DATA/redis"
  if redis_answers "$LOCAL_REDIS_URL"; then return; fi
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  # AOF + noeviction, as in production: BullMQ loses jobs under any eviction policy.
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
    --pidfile "$DATA/redis.pid" --logfile "$DATA/redis.log" --dir "$DATA/redis" \
    --appendonly yes --appendfsync everysec --maxmemory-policy noeviction --save ''
}

wait_for() { # $1 = name, $2.. = command
  local name="$1"; shift
  for _ in $(seq 1 100); do "$@" && return 0; sleep 0.2; done
  log "$name did not answer in 20 s"; exit 1
}

up() {
  local db_url="${DATABASE_URL:-}" redis_url="${REDIS_URL:-}"
  if [ -n "$db_url" ] && [ -n "$redis_url" ] && pg_answers "$db_url" && redis_answers "$redis_url"; then
    log "using DATABASE_URL and REDIS_URL from the environment"
  else
    ensure_packages
    mkdir -p "$DATA"
    printf 'PG_PORT=%s\nREDIS_PORT=%s\n' "$PG_PORT" "$REDIS_PORT" > "$DATA/ports"
    start_postgres
    start_redis
    db_url="$LOCAL_DATABASE_URL"; redis_url="$LOCAL_REDIS_URL"
    wait_for Postgres pg_answers "$db_url"
    wait_for Redis redis_answers "$redis_url"
  fi
  echo "DATABASE_URL=$db_url"
  echo "REDIS_URL=$redis_url"
}

down() {
  local bin; bin="$(pg_bin 2>/dev/null || true)"
  local home; home="$(pg_home)"
  if [ -n "$bin" ] && [ -f "$home/postgres/PG_VERSION" ]; then
    as_pg "$bin/pg_ctl" -D "$home/postgres" -m fast -w stop >/dev/null 2>&1 && log "Postgres stopped" || true
  fi
  if [ -f "$DATA/redis.pid" ] && kill -0 "$(cat "$DATA/redis.pid")" 2>/dev/null; then
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$DATA/redis.pid")"
    log "Redis stopped"
  fi
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  env) echo "DATABASE_URL=$LOCAL_DATABASE_URL"; echo "REDIS_URL=$LOCAL_REDIS_URL" ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
