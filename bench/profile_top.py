"""Summarize a py-spy `--format raw` profile (collapsed stacks): where the wall time goes.

    python -m bench.profile_top PROFILE [--pid PID] [--contains FRAME] [--top 25]

`bench.backfill --profile PROFILE` records with `--subprocesses --idle --threads`, so
every stack starts with `process PID:"cmdline"` (one per process level) and a thread
frame, and blocked threads (waiting on Spark over py4j, on sockets) are counted too.
`--pid` keeps one process (e.g. a step's worker pid, printed in the JSON line when
profiling); `--contains` keeps stacks that pass through a frame, e.g. `execute_step`,
which drops idle helper threads. Prints the top functions by inclusive and by self
samples, as a share of the kept samples.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_RECORD = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_PROCESS = re.compile(r'^process (?P<pid>\d+):')
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<where>.*)\)$")


def records(text: str):
    """(stack frames, samples) per record; a quoted cmdline may span lines, so join until
    the quotes balance and the line ends with a sample count."""
    pending: list[str] = []
    for line in text.splitlines():
        pending.append(line)
        joined = " ".join(pending)
        match = _RECORD.match(joined)
        if match and joined.count('"') % 2 == 0:
            yield split_frames(match["stack"]), int(match["count"])
            pending = []


def split_frames(stack: str) -> list[str]:
    # Process frames carry quoted cmdlines that may contain ';'; split outside quotes.
    frames, current, quoted = [], [], False
    for char in stack:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            frames.append("".join(current))
            current = []
        else:
            current.append(char)
    frames.append("".join(current))
    return frames


def short(frame: str) -> str:
    """`name (path/to/module.py:123)` -> `name (module.py)`, dropping the line number."""
    match = _FRAME.match(frame)
    if not match:
        return frame[:80]
    where = match["where"].rsplit(":", 1)[0]
    parts = where.split("/")
    tail = "/".join(parts[-2:]) if "site-packages" in where or "ind320_assets" in where else parts[-1]
    return f"{match['name']} ({tail})"


def summarize(path: Path, pid: int | None, contains: str | None, top: int) -> str:
    inclusive, self_time = Counter(), Counter()
    total = 0
    for frames, count in records(path.read_text(errors="replace")):
        pids = [int(m["pid"]) for f in frames if (m := _PROCESS.match(f))]
        if pid is not None and pid not in pids:
            continue
        code = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        if contains and not any(contains in f for f in code):
            continue
        if not code:
            continue
        total += count
        for name in {short(f) for f in code}:
            inclusive[name] += count
        self_time[short(code[-1])] += count
    lines = [f"{total} samples kept from {path}" + (f" (pid {pid})" if pid else "")
             + (f" (through {contains!r})" if contains else "")]
    for title, counter in (("inclusive", inclusive), ("self", self_time)):
        lines.append(f"\ntop {top} by {title} samples:")
        for name, count in counter.most_common(top):
            lines.append(f"  {100 * count / max(total, 1):5.1f}%  {count:7d}  {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--pid", type=int, default=None)
    parser.add_argument("--contains", default=None)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    print(summarize(args.profile, args.pid, args.contains, args.top))


if __name__ == "__main__":
    main()
