#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks (see docs/postgres.md).
#
#   eval "$(bash .ci/postgres.sh start DIR)"   # prints one line: export LOYALTY_POSTGRES_URL=...
#   bash .ci/postgres.sh stop DIR              # harmless when nothing is running
#
# start installs Debian's `postgresql` package if no server binaries are found, creates a cluster
# in DIR/data (trust auth, UTF8, locale C), starts it on 127.0.0.1 on a free port with its unix
# socket in DIR and its log in DIR/server.log, and creates the database `loyalty`. Only the export
# line goes to stdout; everything else goes to stderr. If DIR already holds a running server, start
# prints the export line again. As root, DIR is owned by, and the server runs as, the `postgres`
# user (initdb refuses root). Debian's own `main` cluster (port 5432), if any, is left alone.
#
# Environment: LOYALTY_PG_LIBDIR (default /usr/lib/postgresql) is where <version>/bin/pg_ctl is
# looked for; the script can also be sourced, which only defines the functions.
set -uo pipefail

PG_LIBDIR="${LOYALTY_PG_LIBDIR:-/usr/lib/postgresql}"
PG_DB=loyalty
START_TIMEOUT=30

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# The directory of a usable pg_ctl on PATH (symlinks resolved), if the other tools are beside it.
path_bindir() {
  local ctl dir tool
  ctl="$(command -v pg_ctl 2>/dev/null)" || return 0
  dir="$(dirname "$(readlink -f "$ctl")")"
  for tool in initdb pg_isready psql createdb; do
    [ -x "$dir/$tool" ] || return 0
  done
  printf '%s\n' "$dir"
}

# The major version (15, 9.6) of the pg_ctl in a bin directory.
major_of() {
  "$1/pg_ctl" --version 2>/dev/null | sed -nE 's/^[^)]*\) ([0-9]+)(\.([0-9]+))?.*/\1 \3/p' | {
    read -r a b || return 0
    if [ "$a" -ge 10 ]; then echo "$a"; else echo "$a.$b"; fi
  }
}

# The bin directory of the newest server under $PG_LIBDIR (or of the given major version), else
# that of a pg_ctl on PATH; prints nothing if there is none.
find_bindir() {
  local want="${1:-}" best dir
  if [ -n "$want" ]; then
    if [ -x "$PG_LIBDIR/$want/bin/pg_ctl" ]; then
      printf '%s\n' "$PG_LIBDIR/$want/bin"
    else
      dir="$(path_bindir)"
      [ -n "$dir" ] && [ "$(major_of "$dir")" = "$want" ] && printf '%s\n' "$dir"
    fi
    return 0
  fi
  best="$(for ctl in "$PG_LIBDIR"/*/bin/pg_ctl; do [ -x "$ctl" ] && printf '%s\n' "$ctl"; done \
    | sort -V | tail -n 1)"
  if [ -n "$best" ]; then
    dirname "$best"
  else
    path_bindir
  fi
  return 0
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    return 1
  fi
}

install_postgres() {
  command -v apt-get >/dev/null 2>&1 \
    || die "no PostgreSQL server found and no apt-get to install one; install PostgreSQL or set LOYALTY_POSTGRES_URL"
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    die "no PostgreSQL server found; installing one needs root or sudo"
  fi
  local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql)
  log "no PostgreSQL server under $PG_LIBDIR; installing Debian's postgresql package"
  if ! as_root "${install[@]}" >&2; then
    log "apt-get install failed; running apt-get update and retrying"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update >&2 || die "apt-get update failed"
    as_root "${install[@]}" >&2 || die "apt-get install postgresql failed"
  fi
}

# Runs a command as the cluster's owner: the postgres user when root, else the current user.
# The working directory is / so the postgres user never trips over an unreadable one.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
      (cd / && runuser -u postgres -- "$@")
    else
      (cd / && su postgres -s /bin/bash -c "$(printf '%q ' "$@")")
    fi
  else
    (cd / && "$@")
  fi
}

free_port() {
  local port
  if command -v python3 >/dev/null 2>&1 && port="$(python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
' 2>/dev/null)" && [ -n "$port" ]; then
    printf '%s\n' "$port"
    return 0
  fi
  for ((port = 54329; port < 54429; port++)); do
    # A refused connection means nobody listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  return 1
}

# The port of the server running on DIR/data, or nothing (status 1) if none is running.
running_port() {
  local data="$1/data" bindir
  [ -f "$data/postmaster.pid" ] && [ -f "$data/PG_VERSION" ] || return 1
  bindir="$(find_bindir "$(cat "$data/PG_VERSION")")"
  [ -n "$bindir" ] || return 1
  as_owner "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1 || return 1
  sed -n 4p "$data/postmaster.pid"
}

export_line() {
  printf 'export LOYALTY_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:%s/%s\n' "$1" "$PG_DB"
}

show_log() {
  if [ -f "$1/server.log" ]; then
    log "last lines of $1/server.log:"
    tail -n 30 "$1/server.log" >&2
  fi
}

# The absolute form of a path, which need not exist yet.
absolute() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
  esac
}

cmd_start() {
  local dir port bindir version data ready=0 i sockdir attempt log_lines
  dir="$(absolute "$1")"
  data="$dir/data"

  if port="$(running_port "$dir")" && [ -n "$port" ]; then
    log "a server is already running on $dir (port $port)"
    EXPORT_LINE="$(export_line "$port")"
    return 0
  fi

  if [ -f "$data/PG_VERSION" ]; then
    version="$(cat "$data/PG_VERSION")"
    bindir="$(find_bindir "$version")"
    [ -n "$bindir" ] || die "$data was made by PostgreSQL $version, whose binaries are not in $PG_LIBDIR"
  else
    bindir="$(find_bindir)"
    if [ -z "$bindir" ]; then
      install_postgres
      bindir="$(find_bindir)"
      [ -n "$bindir" ] || die "installed postgresql but found no pg_ctl under $PG_LIBDIR"
    fi
  fi
  log "using $bindir"

  mkdir -p "$dir" || die "cannot create $dir"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user to own the cluster"
    chown postgres: "$dir" || die "cannot chown $dir to postgres"
    chmod 700 "$dir"
    as_owner test -w "$dir" -a -x "$dir" \
      || die "the postgres user cannot reach $dir; make its parent directories world-searchable (chmod 755)"
  fi

  if [ ! -f "$data/PG_VERSION" ]; then
    log "initdb $data (trust auth, UTF8, locale C)"
    as_owner "$bindir/initdb" -D "$data" -A trust -U postgres -E UTF8 --locale=C >/dev/null \
      || die "initdb failed"
    # The unix socket lives in DIR unless its path would be too long (108 bytes); TCP is what we
    # use anyway. The settings go in the configuration, not on pg_ctl's -o, which a shell parses.
    sockdir="$dir"
    if [ "$(printf '%s/.s.PGSQL.65535' "$dir" | wc -c)" -gt 103 ]; then
      log "$dir is too long for a unix socket path; the server listens on TCP only"
      sockdir=""
    fi
    {
      printf '\n# Added by .ci/postgres.sh: a throwaway server for tests and benchmarks.\n'
      printf "listen_addresses = '127.0.0.1'\n"
      printf "unix_socket_directories = '%s'\n" "${sockdir//\'/\'\'}"
      printf 'max_connections = 100\n'
    } | as_owner tee -a "$data/postgresql.conf" >/dev/null || die "cannot write $data/postgresql.conf"
  fi

  # Another process may take the free port before the server binds it; then try another one.
  for attempt in 1 2 3; do
    port="$(free_port)" || die "found no free port on 127.0.0.1"
    log "starting PostgreSQL $(cat "$data/PG_VERSION") on 127.0.0.1:$port" \
      "(data $data, log $dir/server.log)"
    log_lines="$(as_owner cat "$dir/server.log" 2>/dev/null | wc -l)"
    if as_owner "$bindir/pg_ctl" start -D "$data" -l "$dir/server.log" -o "-p $port" \
        -w -t "$START_TIMEOUT" >&2; then
      break
    fi
    if [ "$attempt" -lt 3 ] && as_owner tail -n "+$((log_lines + 1))" "$dir/server.log" \
        | grep -q 'could not bind IPv4 address'; then
      log "port $port was taken meanwhile; trying another"
      continue
    fi
    show_log "$dir"
    die "pg_ctl start failed"
  done
  for ((i = 0; i < START_TIMEOUT * 2; i++)); do
    if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
      ready=1
      break
    fi
    sleep 0.5
  done
  if [ "$ready" -ne 1 ]; then
    show_log "$dir"
    die "the server on 127.0.0.1:$port was not ready after ${START_TIMEOUT}s"
  fi

  if [ "$(as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -XtAc \
      "select 1 from pg_database where datname = '$PG_DB'")" != 1 ]; then
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$PG_DB" >&2 \
      || { show_log "$dir"; die "createdb $PG_DB failed"; }
  fi
  log "ready: postgresql://postgres@127.0.0.1:$port/$PG_DB"
  EXPORT_LINE="$(export_line "$port")"
}

cmd_stop() {
  local dir data bindir
  dir="$(absolute "$1")"
  data="$dir/data"
  if ! running_port "$dir" >/dev/null; then
    log "no server running on $dir"
    return 0
  fi
  bindir="$(find_bindir "$(cat "$data/PG_VERSION")")"
  as_owner "$bindir/pg_ctl" stop -D "$data" -m fast -w >&2 || die "pg_ctl stop failed"
}

main() {
  [ "$#" -eq 2 ] && [ -n "$2" ] || die "usage: $0 start|stop DIR"
  # Connection settings from the caller's environment must not redirect our commands.
  unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGDATA PGOPTIONS PGSERVICE PGSERVICEFILE \
    PGPASSFILE PGSSLMODE
  # Only the export line goes to stdout, and it is printed last: the server must not inherit the
  # caller's stdout, or `$(bash .ci/postgres.sh start DIR)` would wait for the server to exit.
  case "$1" in
    start)
      EXPORT_LINE=""
      cmd_start "$2" >&2 || exit 1
      printf '%s\n' "$EXPORT_LINE"
      ;;
    stop) cmd_stop "$2" >&2 ;;
    *) die "usage: $0 start|stop DIR" ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
