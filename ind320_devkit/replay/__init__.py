"""A local replay of Elhub's Energy Data API: recorded real data, generated history, faults.

Serves `/price-areas`, the `/updates` change feed (consistent with every revision
published on it) and `/production-groups` / `/consumption-groups`.

Start it in-process with `ReplayServer(port=0).start()`, or from a shell with
`python -m ind320_devkit.replay --port 8080`.
"""

from ind320_devkit.replay.catalog import ReplayCatalog, Revision, replay_frame
from ind320_devkit.replay.faults import Faults
from ind320_devkit.replay.feed import FeedItem
from ind320_devkit.replay.server import ReceivedRequest, ReplayServer

__all__ = ["FeedItem", "Faults", "ReceivedRequest", "ReplayCatalog", "ReplayServer", "Revision", "replay_frame"]
