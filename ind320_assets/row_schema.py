"""Each dataset's rows, declared once: column names, types and keys.

Everything that must agree on the rows is generated from this declaration:
the pandas dtypes the client conforms to, the dagster-pandas type of the raw
asset, the Spark schema the Cassandra write uses, the CQL `CREATE TABLE`, the
MongoDB day documents (`mongo_documents`), and the `dagster/column_schema` the UI
shows. Nothing infers a table from pandas dtypes at run time.

    raw rows     what the API gives, one per (price_area, group, start_time), or
                 per (price_area, start_time) for a dataset without groups, with
                 one double column per kWh quantity
    stored rows  the raw rows with the local `month` they belong to, without the
                 `is_unspecified_group` flag; Cassandra's primary key is
                 ((price_area, month), group, start_time), or
                 ((price_area, month), start_time) without groups
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dagster import TableColumn, TableSchema

from ind320_assets.domain import DEFAULT_QUANTITY_COLUMNS, PRICE_AREAS, UNSPECIFIED_GROUP, ElhubDataset

# kind -> (pandas dtype, CQL type)
KINDS: dict[str, tuple[str, str]] = {
    "text": ("object", "text"),
    "timestamp": ("datetime64[ns, UTC]", "timestamp"),
    "double": ("float64", "double"),
    "bigint": ("int64", "bigint"),
    "boolean": ("bool", "boolean"),
}
PARTITION_COLUMNS = ("price_area", "month")  # one Cassandra partition, one MongoDB slice
# A column's role, as its description in `dagster/column_schema`: how the IO managers read the schema back.
ROW_KEY, QUANTITY = "row key", "quantity, kWh"
# The column tag listing the only values a text column may hold, comma-separated.
ALLOWED_TAG = "allowed"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # a key of KINDS
    allowed: frozenset[str] | None = None  # the only values a text column may hold
    minimum: float | None = 0.0  # the least a number may be; None: any finite value


@dataclass(frozen=True)
class RowSchema:
    columns: tuple[Column, ...]
    row_key: tuple[str, ...]  # what identifies one row: (price_area, [group,] start_time)
    quantity_columns: tuple[str, ...] = DEFAULT_QUANTITY_COLUMNS  # the kWh columns, summed and compared

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def series_columns(self) -> tuple[str, ...]:
        """What names one series: the row key without its hour."""
        return self.row_key[:-1]

    @property
    def group_column(self) -> str | None:
        """The group column, or None for a dataset without groups."""
        return self.series_columns[1] if len(self.series_columns) > 1 else None

    @property
    def clustering_key(self) -> tuple[str, ...]:
        """The row key within one (price_area, month) partition."""
        return tuple(c for c in self.row_key if c not in PARTITION_COLUMNS)

    @property
    def primary_key(self) -> tuple[str, ...]:
        return (*PARTITION_COLUMNS, *self.clustering_key)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def pandas_dtypes(self) -> dict[str, str]:
        return {c.name: KINDS[c.kind][0] for c in self.columns}

    def spark_schema(self):  # -> pyspark.sql.types.StructType
        # Imported here: the client and the replay use this module without Spark.
        from pyspark.sql import types as T

        spark_types = {
            "text": T.StringType(), "timestamp": T.TimestampType(), "double": T.DoubleType(),
            "bigint": T.LongType(), "boolean": T.BooleanType(),
        }
        return T.StructType([
            T.StructField(c.name, spark_types[c.kind], nullable=c.name not in self.row_key) for c in self.columns
        ])

    @property
    def primary_key_cql(self) -> str:
        """`((price_area, month), production_group, start_time)`, as CQL writes it."""
        return f"(({', '.join(PARTITION_COLUMNS)}), {', '.join(self.clustering_key)})"

    def create_table_cql(self, qualified_table: str) -> str:
        columns = ", ".join(f"{c.name} {KINDS[c.kind][1]}" for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {qualified_table} ({columns}, PRIMARY KEY {self.primary_key_cql})"

    def dagster_type(self, name: str, description: str):  # -> dagster.DagsterType
        from dagster_pandas import PandasColumn, create_dagster_pandas_dataframe_type

        def pandas_column(c: Column) -> PandasColumn:
            if c.allowed is not None:
                return PandasColumn.categorical_column(c.name, categories=set(c.allowed), non_nullable=True)
            if c.kind == "timestamp":
                return PandasColumn.datetime_column(c.name, tz="UTC", non_nullable=True)
            if c.kind == "double":
                low = -float("inf") if c.minimum is None else c.minimum
                return PandasColumn.float_column(c.name, min_value=low, non_nullable=True)
            if c.kind == "bigint":
                return PandasColumn.integer_column(c.name, min_value=0, non_nullable=True)
            if c.kind == "boolean":
                return PandasColumn.boolean_column(c.name, non_nullable=True)
            return PandasColumn.string_column(c.name, non_nullable=True)

        return create_dagster_pandas_dataframe_type(
            name=name, description=description, columns=[pandas_column(c) for c in self.columns]
        )

    def table_schema(self) -> TableSchema:
        """The columns as Dagster metadata (`dagster/column_schema`), shown in the UI
        and read back by the IO managers."""
        def role(name: str) -> str | None:
            return ROW_KEY if name in self.row_key else QUANTITY if name in self.quantity_columns else None

        return TableSchema(columns=[
            TableColumn(c.name, c.kind, description=role(c.name),
                        tags={ALLOWED_TAG: ",".join(sorted(c.allowed))} if c.allowed else None)
            for c in self.columns
        ])

    @classmethod
    def from_table_schema(cls, schema: TableSchema) -> RowSchema:
        return cls(
            columns=tuple(
                Column(c.name, c.type, frozenset(c.tags[ALLOWED_TAG].split(",")) if ALLOWED_TAG in c.tags else None)
                for c in schema.columns
            ),
            row_key=tuple(c.name for c in schema.columns if c.description == ROW_KEY),
            quantity_columns=tuple(c.name for c in schema.columns if c.description == QUANTITY),
        )


def raw_schema(dataset: ElhubDataset) -> RowSchema:
    """The API's rows, as the client returns them."""
    grouped = dataset.group_column is not None
    group = (Column(dataset.group_column, "text", frozenset({*dataset.groups, UNSPECIFIED_GROUP})),) if grouped else ()
    minimum = None if dataset.signed_quantities else 0.0
    return RowSchema(
        columns=(
            Column("price_area", "text", frozenset(PRICE_AREAS)),
            *group,
            Column("start_time", "timestamp"),
            Column("end_time", "timestamp"),
            Column("last_updated_time", "timestamp"),
            *(Column(column, "double", minimum=minimum) for column in dataset.quantity_columns),
            *((Column("is_unspecified_group", "boolean"),) if grouped else ()),
            *(Column(column, "bigint") for column in dataset.extra_int_fields.values()),
        ),
        row_key=(*dataset.series_columns, "start_time"),
        quantity_columns=dataset.quantity_columns,
    )


def stored_schema(dataset: ElhubDataset) -> RowSchema:
    """The rows in Cassandra and MongoDB: the raw ones with their local `month`."""
    raw = raw_schema(dataset)
    kept = [c for c in raw.columns if c.name != "is_unspecified_group"]
    return replace(raw, columns=(kept[0], Column("month", "text"), *kept[1:]))


# Asset definition metadata that tells an IO manager where and how an asset's rows are stored.
COLUMN_SCHEMA_KEY = "dagster/column_schema"
CASSANDRA_TABLE_KEY = "cassandra/table"
MONGO_COLLECTION_KEY = "mongo/collection"


def schema_from_metadata(metadata: dict) -> RowSchema:
    """The `RowSchema` an asset declared in its definition metadata."""
    value = metadata[COLUMN_SCHEMA_KEY]
    return RowSchema.from_table_schema(getattr(value, "schema", value))
