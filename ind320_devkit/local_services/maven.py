"""Copy a pom's runtime dependencies from Maven Central into a local folder, once."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from ind320_devkit.local_services.process import ServiceError, file_digest


def resolve_jars(pom: Path, target: Path) -> list[Path]:
    """The pom's runtime jars in `target`; runs Maven only when the pom changed.

    Maven's own ~/.m2 cache makes a re-resolve after a pom edit cheap too. The
    folder is filled beside `target` and renamed into place, so an interrupted
    download never leaves a half-filled classpath behind.
    """
    stamp = target / ".pom-digest"
    digest = file_digest(pom)
    if stamp.exists() and stamp.read_text() == digest:
        return sorted(target.glob("*.jar"))
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        "mvn", "-q", "-B", "-f", str(pom),
        "dependency:copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
    ]
    print(f"maven:     resolving {pom.parent.name}'s jars from Maven Central (a minute or two when cold)...", flush=True)
    started = time.monotonic()
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ServiceError(f"Maven could not resolve {pom}:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    print(f"maven:     {pom.parent.name}'s jars resolved in {time.monotonic() - started:.1f}s", flush=True)
    (staging / ".pom-digest").write_text(digest)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return sorted(target.glob("*.jar"))
