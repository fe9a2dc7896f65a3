"""An HTTP server that answers like Elhub's `/price-areas`, `/updates` and group endpoints, with optional faults.

    server = ReplayServer(port=0, faults=Faults(throttle_first_n=2)).start()
    client = ElhubClient(base_url=server.url)
    ...
    server.publish_revision("PRODUCTION_PER_GROUP_MBA_HOUR", month="2021-03", areas=["NO1"], factor=1.1)
    server.stop()

Standard library only (`http.server.ThreadingHTTPServer`), so it runs anywhere
the project does.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pandas as pd

from ind320_assets.domain import DATASETS, PRICE_AREAS, ElhubDataset
from ind320_devkit.replay.catalog import ReplayCatalog, Revision
from ind320_devkit.replay.faults import Faults, apply_data_faults
from ind320_devkit.replay.feed import FeedItem, InvalidLastUpdated, feed_items, parse_last_updated
from ind320_devkit.replay.groups import GROUP_ENTITIES
from ind320_devkit.replay.query import PeriodTooLong, requested_window
from ind320_devkit.replay.rendering import (
    errors_document,
    groups_document,
    local_iso_one,
    price_areas_document,
    to_json_bytes,
    updates_document,
)

API_PREFIX = "/energy-data/v0"
JSON_TYPE = "application/json; charset=utf-8"
UPDATES_TYPE = "application/vnd.api+json"  # as the public /updates description declares
ERROR_TYPE = "application/vnd.api+json"


@dataclass
class ReceivedRequest:
    """One request as the server saw it; `status` and `fault` are filled in when it is answered."""

    path: str
    params: dict[str, str]
    query: str
    status: int | None = None
    fault: str | None = None


@dataclass
class _Reply:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class ReplayServer:
    """A local stand-in for the Elhub Energy Data API, for tests, demos and benchmarks."""

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        faults: Faults | None = None,
        now: pd.Timestamp | str | None = None,
        catalog: ReplayCatalog | None = None,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.catalog = catalog or ReplayCatalog(now=now)
        self.verbose = verbose
        self._requested_port = port
        self._faults = faults or Faults()
        self._lock = threading.Lock()
        self._requests: list[ReceivedRequest] = []
        self._fault_index = 0
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> ReplayServer:
        self._httpd = ThreadingHTTPServer((self.host, self._requested_port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.replay = self  # type: ignore[attr-defined]  # how handlers find us
        # A short poll interval keeps stop() quick; serving itself does not poll.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="elhub-replay", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases requests sleeping in a latency or hang fault
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the replay server is not running")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The base URL to give the client, e.g. http://127.0.0.1:PORT/energy-data/v0."""
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    # --- runtime control -------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self._faults

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults; first-N counting restarts from the next request."""
        with self._lock:
            self._faults = faults
            self._fault_index = 0

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def publish_revision(
        self,
        dataset_id: str,
        month: str | date,
        areas: Iterable[str],
        factor: float,
        last_updated: pd.Timestamp | str | None = None,
    ) -> Revision:
        """Republish a month for some areas with scaled quantities and a later lastUpdatedTime."""
        return self.catalog.publish_revision(dataset_id, month, areas, factor, last_updated)

    def frame(
        self,
        dataset: ElhubDataset,
        start: date | datetime,
        end: date | datetime,
        areas: Iterable[str] = PRICE_AREAS,
    ) -> pd.DataFrame:
        """Exactly the rows this server serves for `[start, end)`, revisions included, faults excluded."""
        return self.catalog.frame(dataset, start, end, areas)

    def updates(self, since: pd.Timestamp | str, dataset: ElhubDataset | None = None) -> list[FeedItem]:
        """Exactly the items `/updates` lists for `lastUpdated=since` (an instant with an offset)."""
        stamp = pd.Timestamp(since)
        if stamp.tzinfo is None:
            raise ValueError(f"since {since!r} needs an explicit offset")
        datasets = [dataset] if dataset is not None else list(DATASETS.values())
        return feed_items(self.catalog, datasets, stamp.tz_convert("UTC"))

    # --- request handling --------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        params = {name: values[-1] for name, values in parse_qs(split.query, keep_blank_values=True).items()}
        received = ReceivedRequest(path=split.path, params=params, query=split.query)
        with self._lock:
            self._requests.append(received)
            index, faults = self._fault_index, self._faults
            self._fault_index += 1

        if faults.delay_s(index) > 0:
            self._stopping.wait(faults.delay_s(index))
        fault = faults.transport_fault(index)
        received.fault = fault
        self_link = f"http://{handler.headers.get('Host', self.host)}{split.path}" + (
            f"?{urlencode(sorted(params.items()))}" if params else ""
        )
        if fault == "hang":
            self._stopping.wait(faults.hang_s)  # the client should have timed out by now
        if fault == "throttle":
            reply = self._error(429, "Too Many Requests", "rate limit is 5 requests per second", self_link)
            reply.headers["Retry-After"] = str(faults.retry_after_s)
        elif fault == "server_error":
            status, title = (500, "Internal Server Error") if index % 2 == 0 else (503, "Service Unavailable")
            reply = self._error(status, title, "injected by the replay server", self_link)
        else:
            try:
                reply = self._route(split.path, params, self_link, faults)
            except Exception as err:  # noqa: BLE001 - a replay bug must surface as an answer, not a hang-up
                traceback.print_exc()
                reply = self._error(500, "Replay server error", f"{type(err).__name__}: {err}", self_link)

        truncate = False
        if reply.status == 200 and fault == "malformed_json":
            reply.body = reply.body[: len(reply.body) // 2]  # valid HTTP, broken JSON
        elif reply.status == 200 and fault == "truncated_body":
            truncate = True
        received.status = reply.status
        _send(handler, reply, truncate)

    def _route(self, path: str, params: dict[str, str], self_link: str, faults: Faults) -> _Reply:
        api_base = self_link.split(API_PREFIX, 1)[0] + API_PREFIX
        relative = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else None
        if relative == "/updates":
            return self._updates(params, api_base, self_link)
        if relative is not None and relative.lstrip("/") in GROUP_ENTITIES:
            entity = relative.lstrip("/")
            document = groups_document(entity, GROUP_ENTITIES[entity], self_link, self.catalog.now)
            return _Reply(200, JSON_TYPE, to_json_bytes(document))
        return self._price_areas(path, params, self_link, faults)

    def _price_areas(self, path: str, params: dict[str, str], self_link: str, faults: Faults) -> _Reply:
        all_areas_path = f"{API_PREFIX}/price-areas"
        area = path[len(all_areas_path) + 1 :] if path.startswith(all_areas_path + "/") else None
        if path != all_areas_path and (area is None or not area or "/" in area):
            return _Reply(404, "text/plain", b"404 page not found")

        dataset = DATASETS.get(params.get("dataset", "").upper())
        if dataset is None:
            title = "Invalid dataset for price-area entity"
            return self._error(400, title, f"creationTime: {self._created()}", self_link)
        if area is not None and area not in PRICE_AREAS:
            return self._error(404, "Price area not found", f"no price area {area!r}", self_link)
        try:
            start, end = requested_window(params, self.catalog, dataset)
        except PeriodTooLong as err:
            return self._error(400, "Invalid period", str(err), self_link)

        areas = PRICE_AREAS if area is None else (area,)
        group = params.get(dataset.group_field) if dataset.group_field is not None else None
        frame = self.catalog.frame(dataset, start, end, areas, group=group)
        frame = apply_data_faults(frame, dataset, faults)
        document = price_areas_document(
            frame, dataset, areas, with_pseudo_area=area is None, self_link=self_link, created=self.catalog.now
        )
        return _Reply(200, JSON_TYPE, to_json_bytes(document))

    def _updates(self, params: dict[str, str], api_base: str, self_link: str) -> _Reply:
        """`/updates`: what changed on or after `lastUpdated`, for one dataset or all."""
        raw_dataset = params.get("dataset", "")
        if raw_dataset:
            dataset = DATASETS.get(raw_dataset.upper())
            if dataset is None:
                return self._error(400, "Invalid dataset", f"no dataset {raw_dataset!r}", self_link)
            datasets = [dataset]
        else:
            datasets = list(DATASETS.values())
        now = self.catalog.now
        try:
            since = parse_last_updated(params.get("lastUpdated"), now)
        except InvalidLastUpdated as err:
            return self._error(400, "Invalid lastUpdated", str(err), self_link)
        items = feed_items(self.catalog, datasets, since)
        document = updates_document(items, api_base, self_link, created=now)
        return _Reply(200, UPDATES_TYPE, to_json_bytes(document))

    def _error(self, status: int, title: str, detail: str, self_link: str) -> _Reply:
        return _Reply(status, ERROR_TYPE, to_json_bytes(errors_document(status, title, detail, self_link)))

    def _created(self) -> str:
        return local_iso_one(self.catalog.now)


def _send(handler: BaseHTTPRequestHandler, reply: _Reply, truncate: bool) -> None:
    handler.send_response(reply.status)
    handler.send_header("Content-Type", reply.content_type)
    handler.send_header("Content-Length", str(len(reply.body)))
    for name, value in reply.headers.items():
        handler.send_header(name, value)
    if truncate:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()
    # A truncated body promises the full length and then hangs up halfway.
    handler.wfile.write(reply.body[: len(reply.body) // 2] if truncate else reply.body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client's pooled session is exercised
    server_version = "ElhubReplay/1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.replay._answer(self)  # type: ignore[attr-defined]

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            pass  # the client gave up (e.g. after a hang fault); nothing to answer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if self.server.replay.verbose:  # type: ignore[attr-defined]
            super().log_message(format, *args)
