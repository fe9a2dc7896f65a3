"""Where the local services keep their downloads, data, logs and PID files."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVICES_SOURCE = PROJECT_ROOT / "services"  # poms and the FerretDB Go main
# Everything generated lives under one git-ignored folder; LOCAL_SERVICES_DIR moves it.
LOCAL_DIR = Path(os.environ.get("LOCAL_SERVICES_DIR", PROJECT_ROOT / ".local"))
RUN_DIR = LOCAL_DIR / "run"
LOG_DIR = LOCAL_DIR / "logs"
SPARK_JARS_DIR = LOCAL_DIR / "spark" / "jars"
