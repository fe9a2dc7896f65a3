#!/bin/sh
# The Dagster services' entrypoint (docker/dagster.Dockerfile): points Spark at the
# connector jars fetched at build time, starts DAGSTER_HOME from the project's
# dagster.yaml (run monitoring), then runs the service's command.
set -eu
if [ -z "${SPARK_JARS:-}" ]; then
  SPARK_JARS="$(ls "$LOCAL_SERVICES_DIR"/spark/jars/*.jar | paste -sd, -)"
  export SPARK_JARS
fi
mkdir -p "$DAGSTER_HOME"
if [ -f /app/dagster.yaml ]; then
  cp /app/dagster.yaml "$DAGSTER_HOME/dagster.yaml"
fi
exec "$@"
