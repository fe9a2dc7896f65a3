"""Where the local services keep their downloads, data, logs and PID files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVICES_SOURCE = PROJECT_ROOT / "services"  # poms and the FerretDB Go main
# Everything generated lives under one git-ignored folder; LOCAL_SERVICES_DIR moves it.
LOCAL_DIR = Path(os.environ.get("LOCAL_SERVICES_DIR", PROJECT_ROOT / ".local"))
RUN_DIR = LOCAL_DIR / "run"
LOG_DIR = LOCAL_DIR / "logs"
SPARK_JARS_DIR = LOCAL_DIR / "spark" / "jars"
# The Dagster instance settings (run monitoring, no telemetry) every DAGSTER_HOME of ours starts from.
INSTANCE_CONFIG = PROJECT_ROOT / "dagster.yaml"


def prepare_dagster_home(home: Path) -> Path:
    """Creates `home` with the project's dagster.yaml in it, and returns it."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(INSTANCE_CONFIG, home / "dagster.yaml")
    return home
