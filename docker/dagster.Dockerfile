# The Dagster webserver and daemon for docker-compose.yml: Python 3.11, Java 17
# for Spark 3.5, and the Spark Cassandra Connector jars fetched at build time by
# the dev kit (docker/dagster-entrypoint.sh hands them to Spark as SPARK_JARS).
# No credential is baked in: docker-compose.yml passes them from .env at run time.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless maven \
 && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    LOCAL_SERVICES_DIR=/opt/ind320/local
WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
COPY services ./services
COPY ind320_assets ./ind320_assets
COPY ind320_devkit ./ind320_devkit
COPY docker/dagster-entrypoint.sh /usr/local/bin/dagster-entrypoint.sh
RUN pip install --no-cache-dir -r requirements.lock && pip install --no-cache-dir --no-deps -e . \
 && python -c "from ind320_devkit.local_services.spark_connector import fetch_connector_jars; fetch_connector_jars()" \
 && mkdir -p /opt/dagster/home
ENTRYPOINT ["sh", "/usr/local/bin/dagster-entrypoint.sh"]
