"""Find a Java 17 runtime: Cassandra 5.0 and Spark 3.5 both refuse newer JDKs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

REQUIRED_MAJOR = 17


class JavaNotFoundError(RuntimeError):
    pass


def java_major_version(java_home: Path) -> int | None:
    java = java_home / "bin" / "java"
    if not java.exists():
        return None
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else None


def _candidates() -> list[Path]:
    found = []
    if os.environ.get("JAVA_HOME"):
        found.append(Path(os.environ["JAVA_HOME"]))
    found += sorted(Path("/usr/lib/jvm").glob("*17*"))
    found += sorted(Path("/opt").glob("*jdk*17*"))
    on_path = shutil.which("java")
    if on_path:
        found.append(Path(on_path).resolve().parents[1])
    return found


def find_java17_home() -> Path:
    """JAVA_HOME if it is Java 17, else the first Java 17 found on the machine."""
    seen = []
    for home in _candidates():
        major = java_major_version(home)
        seen.append(f"{home} ({major or 'no java'})")
        if major == REQUIRED_MAJOR:
            return home
    raise JavaNotFoundError(
        f"Java {REQUIRED_MAJOR} is required (Cassandra 5.0 and Spark 3.5 do not run on newer JDKs). "
        f"Checked: {', '.join(seen) or 'nothing'}. Install openjdk-17-jdk or set JAVA_HOME."
    )
