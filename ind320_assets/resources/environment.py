"""Which environment variable sets which resource field: the whole configuration contract.

`definitions.py` binds each field to its variable with `EnvVar`; `errors.py` names
the variable when its value points at something that does not answer. Only the
names live here: nothing reads the environment at import.
"""

# resource -> {field: environment variable}; int fields are listed in INT_FIELDS.
ENVIRONMENT: dict[str, dict[str, str]] = {
    "elhub": {"base_url": "ELHUB_API_URL"},
    "cassandra": {
        "hosts": "CASSANDRA_HOSTS",
        "port": "CASSANDRA_PORT",
        "username": "CASSANDRA_USERNAME",
        "password": "CASSANDRA_PASSWORD",
        "keyspace": "CASSANDRA_KEYSPACE",
        "replication": "CASSANDRA_REPLICATION",
        "local_datacenter": "CASSANDRA_LOCAL_DC",
        "write_consistency": "CASSANDRA_WRITE_CONSISTENCY",
        "read_consistency": "CASSANDRA_READ_CONSISTENCY",
    },
    "spark": {
        "master": "SPARK_MASTER",
        "driver_memory": "SPARK_DRIVER_MEMORY",
        "driver_host": "SPARK_DRIVER_HOST",
        "executor_memory": "SPARK_EXECUTOR_MEMORY",
        "executor_cores": "SPARK_EXECUTOR_CORES",
        "jars": "SPARK_JARS",
        "packages": "SPARK_PACKAGES",
        "java_home": "SPARK_JAVA_HOME",
        "event_log_dir": "SPARK_EVENT_LOG_DIR",
    },
    "mongo": {"uri": "MONGO_URI", "database": "MONGO_DB"},
    "parquet_io_manager": {"base_dir": "ELHUB_RAW_DIR"},
}
INT_FIELDS = {"port", "executor_cores"}
