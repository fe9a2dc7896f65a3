"""The revision sensor's cursor: where it stands in Elhub's `/updates` feed, as versioned JSON.

Version 2 (written now):

    {"version": 2,
     "feed": {"last_updated": "2026-11-24T11:00:00+00:00", "seen": ["2021-03-01|NO2"]},
     "fingerprints": {...}}

- `feed.last_updated`: the latest `lastUpdated` the feed has shown (UTC); the next
  tick asks for what changed on or after it. `feed.seen`: the partitions already
  requested at exactly that instant, since "on or after" lists them again.
- `fingerprints`: only after a tick that fell back to look-back fingerprinting
  (the feed failed): what that tick saw, so neither the next fallback nor the feed,
  once it answers again, requests the same revision twice.

Version 1 (the look-back sensor before the feed) held only `{"fingerprints": ...}`:
it is read as fingerprints without a feed position. Anything unreadable is a lost
cursor. Neither is an error: the sensor knows what to do without a position.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ind320_assets.revisions import Fingerprints

CURSOR_VERSION = 2


@dataclass(frozen=True)
class RevisionCursor:
    feed_since: pd.Timestamp | None = None  # UTC; None: no position (first tick, lost, or version 1)
    feed_seen: frozenset[str] = field(default_factory=frozenset)
    fingerprints: Fingerprints | None = None

    @classmethod
    def parse(cls, raw: str | None) -> RevisionCursor:
        """The cursor `raw` holds; an empty one when it is missing, corrupt or of an unknown version."""
        try:
            value = json.loads(raw) if raw else None
        except ValueError:
            return cls()
        if not isinstance(value, dict):
            return cls()
        fingerprints = value.get("fingerprints")
        fingerprints = fingerprints if isinstance(fingerprints, dict) else None
        version = value.get("version", 1)
        if version == 1:
            return cls(fingerprints=fingerprints)
        if version != CURSOR_VERSION:
            return cls()
        since, seen = _feed_position(value.get("feed"))
        return cls(feed_since=since, feed_seen=seen, fingerprints=fingerprints)

    def serialize(self) -> str:
        value: dict[str, Any] = {"version": CURSOR_VERSION}
        if self.feed_since is not None:
            value["feed"] = {"last_updated": self.feed_since.isoformat(), "seen": sorted(self.feed_seen)}
        if self.fingerprints is not None:
            value["fingerprints"] = self.fingerprints
        return json.dumps(value, sort_keys=True)


def _feed_position(feed: Any) -> tuple[pd.Timestamp | None, frozenset[str]]:
    """(last_updated, seen) of a version-2 `feed` object; (None, empty) when it cannot be read."""
    if not isinstance(feed, dict):
        return None, frozenset()
    try:
        since = pd.Timestamp(feed["last_updated"])
    except (KeyError, TypeError, ValueError):
        return None, frozenset()
    if since.tzinfo is None:
        return None, frozenset()
    seen = feed.get("seen")
    keys = frozenset(key for key in seen if isinstance(key, str)) if isinstance(seen, list) else frozenset()
    return since.tz_convert("UTC"), keys
