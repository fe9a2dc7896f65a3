"""Raw Elhub frames as one Parquet file per (month, area) partition.

Built on Dagster's `UPathIOManager`, which owns the path layout
(`<base>/<asset>/<month>/<area>.parquet`). We add what a single-run backfill
needs: one output frame holding many partitions is split and written file by
file, and loading many partitions returns one concatenated frame. A file is
never replaced by an older revision of its partition (`revisions.py`).
"""

from __future__ import annotations

import fcntl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
from dagster import ConfigurableIOManagerFactory, InputContext, OutputContext, UPathIOManager
from upath import UPath

from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.revisions import REVISION_COLUMN


class PartitionedParquetIOManager(UPathIOManager):
    extension = ".parquet"

    def dump_to_path(self, context: OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        with _exclusive(path):
            if _stored_is_newer(path, obj):
                context.log.info(f"{path} holds a newer revision than this run fetched: kept")
                return
            # Write beside the target and rename into place, so a reader never
            # opens a half-written file.
            partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
            obj.to_parquet(partial, index=False)
            partial.rename(path)  # atomic on a local file system; a move on object stores

    def load_from_path(self, context: InputContext, path: UPath) -> pd.DataFrame:
        return pd.read_parquet(path)

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        if not context.has_asset_partitions or len(context.asset_partition_keys) == 1:
            return super().handle_output(context, obj)
        paths = self._get_paths_for_partitions(context)
        rows_by_key = PartitionSlice.from_keys(context.asset_partition_keys).split(obj)
        for key, path in paths.items():
            self.make_directory(path.parent)
            self.dump_to_path(context, rows_by_key[key], path)
        context.add_output_metadata({"partitions_written": len(paths)})

    def load_input(self, context: InputContext) -> pd.DataFrame:
        loaded = super().load_input(context)
        if isinstance(loaded, dict):
            frames = [loaded[key] for key in sorted(loaded)]
            return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return loaded


@contextmanager
def _exclusive(path: UPath) -> Iterator[None]:
    """Holds an advisory lock beside a local `path` while a writer checks it and renames over
    it, so two writers cannot both pass the check; the kernel releases it when its holder
    dies, so a crash never strands it. An object store has no such lock: there two racing
    writers may leave the older file (the stores downstream still keep the newer revision
    another run wrote them)."""
    if path.protocol not in ("", "file"):
        yield
        return
    with open(f"{path.path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _stored_is_newer(path: UPath, obj: pd.DataFrame) -> bool:
    """Whether the file at `path` holds a later `last_updated_time` than `obj`."""
    if obj.empty or REVISION_COLUMN not in obj or not path.exists():
        return False
    stored = pd.read_parquet(path, columns=[REVISION_COLUMN])[REVISION_COLUMN]
    return not stored.empty and stored.max() > obj[REVISION_COLUMN].max()


class ParquetIOManager(ConfigurableIOManagerFactory):
    """Stores partitioned pandas frames as Parquet under `base_dir` (local path or fsspec URL)."""

    base_dir: str = ".local/elhub_raw"  # relative to the working directory, or any fsspec URL

    def create_io_manager(self, context) -> PartitionedParquetIOManager:  # noqa: ANN001
        return PartitionedParquetIOManager(base_path=UPath(self.base_dir))
