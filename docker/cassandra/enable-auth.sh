#!/bin/bash
# The cassandra service's entrypoint (docker-compose.yml): switches on
# PasswordAuthenticator in the image's cassandra.yaml, which the official image
# cannot do from an environment variable, then hands over to the image's own
# entrypoint. Refuses to start Cassandra when it cannot switch authentication on.
set -euo pipefail
conf="${CASSANDRA_CONF:-/etc/cassandra}/cassandra.yaml"
# Cassandra 5.0 writes `authenticator:` with `class_name: AllowAllAuthenticator`
# beneath it; older files write `authenticator: AllowAllAuthenticator`, or the
# fully qualified class. Any of them, on a line that is not a comment, becomes
# PasswordAuthenticator (Cassandra resolves a short name in org.apache.cassandra.auth).
sed -i -E '/^[[:space:]]*#/!s/(org\.apache\.cassandra\.auth\.)?AllowAllAuthenticator\b/PasswordAuthenticator/' "$conf"
if ! grep -Eq '^[^#]*PasswordAuthenticator' "$conf" || grep -Eq '^[^#]*AllowAllAuthenticator' "$conf"; then
  echo "enable-auth: could not switch on PasswordAuthenticator in $conf; not starting Cassandra without authentication" >&2
  exit 1
fi
echo "enable-auth: PasswordAuthenticator on in $conf"
exec docker-entrypoint.sh "$@"
