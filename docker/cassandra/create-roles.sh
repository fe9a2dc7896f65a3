#!/bin/bash
# The cassandra-init one-shot service (docker-compose.yml). With authentication
# on, Cassandra starts with one superuser, `cassandra`, whose password is
# `cassandra`. This gives that superuser the password CASSANDRA_SUPERUSER_PASSWORD
# from .env, then creates the application's login role CASSANDRA_USERNAME, or sets
# its password to CASSANDRA_PASSWORD when it exists. Rerunning it is how a
# changed CASSANDRA_PASSWORD takes effect.
#
# Passwords never appear on a command line or in the output: cqlsh reads them
# from a credentials file and a statements file, both private to this script
# and deleted when it exits.
set -euo pipefail
umask 077

host="${CASSANDRA_HOST:-cassandra}"
port="${CASSANDRA_PORT:-9042}"
attempts="${CASSANDRA_INIT_ATTEMPTS:-60}"
for name in CASSANDRA_SUPERUSER_PASSWORD CASSANDRA_USERNAME CASSANDRA_PASSWORD; do
  if [ -z "${!name:-}" ]; then
    echo "cassandra-init: $name is not set (see .env.example)" >&2
    exit 1
  fi
done
for name in CASSANDRA_SUPERUSER_PASSWORD CASSANDRA_PASSWORD; do
  case "${!name}" in change-me*)
    echo "cassandra-init: $name is still the placeholder from .env.example; set a real password in .env" >&2
    exit 1
    ;;
  esac
done
if [ "$CASSANDRA_USERNAME" = cassandra ]; then
  echo "cassandra-init: CASSANDRA_USERNAME must not be the superuser 'cassandra'; give the platform a role of its own" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A cqlsh credentials file (owned by us, readable by nobody else, as cqlsh requires).
credentials() { # file, role, password
  printf '[PlainTextAuthProvider]\nusername = %s\npassword = %s\n' "$2" "$3" >"$work/$1"
}
# A CQL string literal: quotes doubled.
literal() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }
cql() { # credentials file, then cqlsh arguments
  local creds="$1"
  shift
  cqlsh --credentials "$work/$creds" "$@" "$host" "$port"
}
can_log_in() { cql "$1" -e 'SELECT release_version FROM system.local' >/dev/null 2>&1; }

credentials superuser cassandra "$CASSANDRA_SUPERUSER_PASSWORD"
credentials default cassandra cassandra
credentials application "$CASSANDRA_USERNAME" "$CASSANDRA_PASSWORD"

# Cassandra creates the default superuser a few seconds after it opens its port.
superuser=""
for ((i = 1; i <= attempts; i++)); do
  if can_log_in superuser; then
    superuser=superuser
    echo "cassandra-init: the superuser 'cassandra' already has the password from .env"
    break
  fi
  if can_log_in default; then
    printf 'ALTER ROLE cassandra WITH PASSWORD = %s;\n' "$(literal "$CASSANDRA_SUPERUSER_PASSWORD")" >"$work/superuser.cql"
    cql default -f "$work/superuser.cql"
    superuser=superuser
    echo "cassandra-init: the superuser 'cassandra' no longer has its default password"
    break
  fi
  sleep 5
done
if [ -z "$superuser" ]; then
  echo "cassandra-init: could not log in to $host:$port as 'cassandra' with the password from .env or the default one." >&2
  echo "cassandra-init: if CASSANDRA_SUPERUSER_PASSWORD was changed after the first start, set the new one with ALTER ROLE first (README, Docker)." >&2
  exit 1
fi

role="$(literal "$CASSANDRA_USERNAME")"
password="$(literal "$CASSANDRA_PASSWORD")"
{
  printf 'CREATE ROLE IF NOT EXISTS %s WITH PASSWORD = %s AND LOGIN = true;\n' "$role" "$password"
  printf 'ALTER ROLE %s WITH PASSWORD = %s AND LOGIN = true;\n' "$role" "$password"
} >"$work/application.cql"
cql superuser -f "$work/application.cql"

for ((i = 1; i <= 10; i++)); do # the credentials cache may hold the old password for a moment
  if can_log_in application; then
    echo "cassandra-init: role '$CASSANDRA_USERNAME' logs in with the password from .env"
    exit 0
  fi
  sleep 2
done
echo "cassandra-init: role '$CASSANDRA_USERNAME' was set but cannot log in" >&2
exit 1
