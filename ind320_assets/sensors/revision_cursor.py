"""The revision sensor's cursor: where it stands in Elhub's `/updates` feed, as versioned JSON.

Version 2 (written now):

    {"version": 2,
     "feed": {"last_updated": "2026-11-24T11:00:00+00:00",
              "declined": {"2026-11-01|NO1": "2026-11-24T10:30:00+00:00"}},
     "fingerprints": {...}}

- `feed.last_updated`: the latest `lastUpdated` the feed has shown (UTC). The next
  tick reads the feed from a little before it (`FEED_OVERLAP` in the sensor), so
  the items it requested and lists again need no bookkeeping here: their
  `run_key` is spent, and Dagster drops a run request whose `run_key` it has run.
- `feed.declined`: the (partition, `lastUpdated`) items of that window a tick
  chose not to request (loaded already, or never loaded when the cursor was
  lost), so that the next tick, reading them again, declines them too.
- `fingerprints`: only after a tick that fell back to look-back fingerprinting
  (the feed failed): what that tick saw, so neither the next fallback nor the feed,
  once it answers again, requests the same revision twice.

Earlier version-2 cursors also held `feed.seen` (the partitions requested at
exactly `last_updated`); it is ignored. Version 1 (the look-back sensor before
the feed) held only `{"fingerprints": ...}`: it is read as fingerprints without
a feed position. Anything unreadable is a lost cursor. Neither is an error: the
sensor knows what to do without a position.
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
    fingerprints: Fingerprints | None = None
    declined: dict[str, str] = field(default_factory=dict)  # {partition key: lastUpdated, ISO}

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
        feed = value.get("feed")
        declined = feed.get("declined") if isinstance(feed, dict) else None
        declined = {str(k): str(v) for k, v in declined.items()} if isinstance(declined, dict) else {}
        return cls(feed_since=_feed_position(feed), fingerprints=fingerprints, declined=declined)

    def serialize(self) -> str:
        value: dict[str, Any] = {"version": CURSOR_VERSION}
        if self.feed_since is not None:
            value["feed"] = {"last_updated": self.feed_since.isoformat()}
            if self.declined:
                value["feed"]["declined"] = self.declined
        if self.fingerprints is not None:
            value["fingerprints"] = self.fingerprints
        return json.dumps(value, sort_keys=True)


def _feed_position(feed: Any) -> pd.Timestamp | None:
    """`last_updated` of a version-2 `feed` object; None when it cannot be read."""
    if not isinstance(feed, dict):
        return None
    try:
        since = pd.Timestamp(feed["last_updated"])
    except (KeyError, TypeError, ValueError):
        return None
    return since.tz_convert("UTC") if since.tzinfo is not None else None
