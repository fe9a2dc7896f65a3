"""What the Cassandra table client writes, from each frame type an asset may return or want."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from ind320_assets.revisions import REVISION_COLUMN
from ind320_assets.row_schema import RowSchema


def spark_to_pandas(frame: SparkDataFrame) -> pd.DataFrame:
    """toPandas with timestamps as UTC-aware values (Spark hands back naive UTC)."""
    pdf = frame.toPandas()
    for field in frame.schema.fields:
        if isinstance(field.dataType, T.TimestampType):
            pdf[field.name] = pd.to_datetime(pdf[field.name]).dt.tz_localize("UTC")
    return pdf


class PandasFrames:
    def to_spark(self, obj: pd.DataFrame, schema: RowSchema, session: SparkSession) -> SparkDataFrame:
        return session.createDataFrame(obj[schema.names], schema=schema.spark_schema())

    def keys(self, obj: pd.DataFrame, schema: RowSchema) -> pd.DataFrame:
        """The primary key, the revision and the kWh of every row: what the guard, the
        stale-row diff and the metadata need, and nothing more."""
        return obj[[*schema.primary_key, REVISION_COLUMN, *schema.quantity_columns]]

    def from_spark(self, frame: SparkDataFrame) -> pd.DataFrame:
        return spark_to_pandas(frame)


class SparkFrames:
    def to_spark(self, obj: SparkDataFrame, schema: RowSchema, session: SparkSession) -> SparkDataFrame:
        return obj.select(*schema.names)

    def keys(self, obj: SparkDataFrame, schema: RowSchema) -> pd.DataFrame:
        return spark_to_pandas(obj.select(*schema.primary_key, REVISION_COLUMN, *schema.quantity_columns))

    def from_spark(self, frame: SparkDataFrame) -> SparkDataFrame:
        return frame


TYPE_HANDLERS: dict[type, PandasFrames | SparkFrames] = {pd.DataFrame: PandasFrames(), SparkDataFrame: SparkFrames()}


def handler_for(frame_type: object) -> PandasFrames | SparkFrames:
    """The handler of a frame type; an input without a type annotation gets pandas."""
    if not isinstance(frame_type, type) or frame_type is object:
        return TYPE_HANDLERS[pd.DataFrame]
    for handled, handler in TYPE_HANDLERS.items():
        if issubclass(frame_type, handled):
            return handler
    raise TypeError(f"The Cassandra IO manager stores pandas or Spark frames, not {frame_type.__name__}")
