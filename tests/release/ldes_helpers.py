"""Two releases of the bundled WFTO sample for the event-stream tests, and a loopback
static file server to host them.

Release 2 is built from a copy of the sample with 3 members renamed and 1 removed (the
source withdraws it), so its stream page must hold exactly those 4 records.
"""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

from se_pipeline.gate.release_shacl import start_release_validation
from se_pipeline.gate.source import gate_source
from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.release.build import ReleaseResult, build_release
from se_pipeline.settings import Settings
from se_pipeline.sources.ingest import ingest
from se_pipeline.sources.registry import all_sources

SAMPLE = Path(__file__).resolve().parents[2] / "se_pipeline" / "sources" / "wfto" / "sample" / "wfto_members_sample.json"
RENAMED = (1021, 1025, 1033)
REMOVED = 1040
ISSUED = datetime(2026, 12, 1, 9, 0, 0, tzinfo=timezone.utc)


def record(member_id: int) -> str:
    return enterprise_iri("wfto", str(member_id))


CHANGED = {record(i) for i in RENAMED}
WITHDRAWN = record(REMOVED)


@dataclass
class TwoReleases:
    output: Path
    first: ReleaseResult
    second: ReleaseResult


def _release(output: Path, sample: Path, issued: datetime) -> ReleaseResult:
    settings = Settings(output_dir=output, file_roots=(sample.parent,), sources={"wfto": {"url": sample.as_uri()}})
    spec = all_sources()["wfto"]
    assert ingest(spec, settings, None).ok
    assert gate_source("wfto", settings).status == "promoted"
    return build_release(settings, [spec], validate=start_release_validation, now=issued)


def build_two_releases(tmp: Path) -> TwoReleases:
    """Release 1 from the sample; release 2 from a copy with 3 renamed and 1 removed."""
    output = tmp / "out"
    first = _release(output, SAMPLE, ISSUED)
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    members = []
    for m in data["members"]:
        if isinstance(m, dict) and m.get("id") == REMOVED:
            continue
        if isinstance(m, dict) and m.get("id") in RENAMED:
            m = {**m, "name": f"{m['name']} (renamed)"}
        members.append(m)
    edited = tmp / "wfto_edited.json"
    edited.write_text(json.dumps({**data, "members": members}), encoding="utf-8")
    second = _release(output, edited, ISSUED + timedelta(days=1))
    return TwoReleases(output, first, second)


class _Quiet(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".trig": "application/trig", ".ttl": "text/turtle", ".nq": "application/n-quads"}

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: requests are recorded by `log_request`."""


@contextmanager
def static_server(root: Path) -> Iterator[tuple[str, list[str]]]:
    """Serve `root` on 127.0.0.1 (ephemeral port); yields the base URL and the list of
    request paths seen (appended as requests are logged)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
