"""Shared helpers for the per-source tests in tests/sources.

Every source test parses its bundled sample the way `se_pipeline.sources.ingest` does
(adapter, then `canonical.normalise.conform` with the mapping's date order and HTML
setting), looks rows up by id, serves the sample over a loopback HTTP server and runs
`ingest` end to end. Those steps live here; the assertions stay in the test modules.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
import requests

from se_pipeline.canonical.normalise import conform
from se_pipeline.quarantine import QuarantineRecord
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.registry import SourceSpec

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer

    from se_pipeline.sources.ingest import IngestOutcome

Parsed = tuple[ParseResult, pd.DataFrame, list[QuarantineRecord], list[QuarantineRecord]]
"""What a parse-and-conform run returns: (adapter result, canonical rows, quarantined records, dropped values)."""

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
"""The `../shared` checkout next to the repository (real samples, ESSGlobal reference); optional."""

ESSGLOBAL_STANDARD = SHARED / "reference" / "essglobal" / "standard"
"""ESSGlobal's standard vocabularies as Turtle files, inside `../shared`."""

LOOPBACK_HOSTS = ["localhost", "127.0.0.1"]


def parse_and_conform(spec: SourceSpec, raw: bytes, *, url: str = "", encoding: str | None = None,
                      options: dict[str, Any] | None = None, mapping: dict[str, Any] | None = None) -> Parsed:
    """Parse `raw` with the source's adapter and canonicalise the frame as ingest does.

    `url`, `encoding` and `options` go into the `SourceContext`; `mapping` replaces the
    source's mapping for parsing only (conform always follows `spec.mapping`, as ingest does).
    """
    ctx = SourceContext(spec.name, spec.mapping if mapping is None else mapping, url=url, encoding=encoding,
                        options=options or {})
    res = spec.parse(raw, ctx)
    df, quarantined, dropped, _ = conform(res.frame, spec.name, date_order=spec.mapping.get("date_order", "dmy"),
                                       strip_html=bool(spec.mapping.get("html")))
    return res, df, quarantined, dropped


def module_fixture(run: Callable[[], Parsed]) -> Any:
    """A module-scoped `parsed` fixture: the bundled sample, parsed once per test module.

    Use as `parsed = module_fixture(run)` at module level.
    """

    @pytest.fixture(scope="module")
    def parsed() -> Parsed:
        return run()

    return parsed


def one_row(df: pd.DataFrame, value: str, column: str = "record_id") -> dict[str, Any]:
    """The single row of `df` whose `column` equals `value`, as a dict; fails unless exactly one matches."""
    hits = df[df[column] == value]
    assert len(hits) == 1, value
    return hits.iloc[0].to_dict()


def withheld(parsed: Parsed) -> list[QuarantineRecord]:
    """Every record withheld from a run: the adapter's quarantine, then conform's."""
    res, _, quarantined, _ = parsed
    return res.quarantine + quarantined


def accounted_for(parsed: Parsed) -> int:
    """Rows kept plus records withheld: equals the number of input records when none is lost silently."""
    return len(parsed[1]) + len(withheld(parsed))


def csv_records(raw: bytes, encoding: str = "utf-8") -> list[dict[str, str]]:
    """The CSV's data rows as dicts keyed by header (`utf-8-sig` drops a byte-order mark)."""
    return list(csv.DictReader(io.StringIO(raw.decode(encoding), newline="")))


def csv_rows(raw: bytes, encoding: str = "utf-8") -> list[list[str]]:
    """The CSV's rows as lists, header included."""
    return list(csv.reader(io.StringIO(raw.decode(encoding), newline="")))


def shared_bytes(path: Path) -> bytes:
    """The bytes of a file under `../shared`; skips the test when `../shared` is absent."""
    if not path.is_file():
        pytest.skip("../shared absent")
    return path.read_bytes()


def essglobal_text() -> str:
    """All ESSGlobal standard Turtle files, concatenated; skips the test when `../shared` is absent."""
    if not ESSGLOBAL_STANDARD.is_dir():
        pytest.skip("../shared absent")
    return "\n".join(p.read_text(encoding="utf-8") for p in ESSGLOBAL_STANDARD.glob("*.ttl"))


def code_values(codes: dict[str, Any]) -> set[str]:
    """Every target value of a mapping's code tables (`{field: {"map": {code: value | [values]}}}`)."""
    return {v for spec in codes.values() for vals in spec["map"].values()
            for v in (vals if isinstance(vals, list) else [vals])}


def ess_curies(codes: dict[str, Any]) -> set[str]:
    """The `ess-…:` CURIEs among a mapping's code-table values."""
    return {v for v in code_values(codes) if v.startswith("ess-")}


def concept_declaration(curie: str) -> str:
    """How the ESSGlobal Turtle declares the concept a CURIE names: `<Local> a skos:Concept`."""
    return f"<{curie.split(':', 1)[1]}> a skos:Concept"


def serve(httpserver: HTTPServer, path: str, body: bytes | str, content_type: str,
          query_string: dict[str, str] | None = None) -> str:
    """Have the loopback server answer `path` (and `query_string`, if given) with `body`; returns its URL."""
    httpserver.expect_request(path, query_string=query_string).respond_with_data(body, content_type=content_type)
    return httpserver.url_for(path)


def http_get(url: str) -> bytes:
    """GET `url` with plain `requests` (no pipeline client), failing on an HTTP error status."""
    got = requests.get(url, timeout=5)
    got.raise_for_status()
    return got.content


def fetch_over_loopback(httpserver: HTTPServer, path: str, body: bytes, content_type: str) -> bytes:
    """Serve `body` at `path` on the loopback server and fetch it back with `requests`."""
    return http_get(serve(httpserver, path, body, content_type))


def write_config(tmp_path: Path, sources: dict[str, dict[str, Any]], *, private_http: bool = False) -> Path:
    """Write a settings file (JSON is valid YAML) with these per-source settings.

    `private_http` adds `http.allow_private_addresses`, needed to fetch from loopback.
    """
    data: dict[str, Any] = {"sources": sources}
    if private_http:
        data["http"] = {"allow_private_addresses": True}
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps(data), encoding="utf-8")
    return config


def ingest_over_loopback(spec: SourceSpec, tmp_path: Path, url: str, *, secret: str | None = None,
                         **source_options: Any) -> IngestOutcome:
    """Run `ingest` for `spec` against `url` on the loopback server (responses registered by the caller).

    The source may fetch only from loopback hosts; the HTTP client allows plain HTTP and
    private addresses and ignores robots.txt. Skips when the acquisition layer is absent.
    """
    pytest.importorskip("se_pipeline.acquire.fetch")
    from se_pipeline.acquire.http import HttpClient
    from se_pipeline.settings import load_settings
    from se_pipeline.sources.ingest import ingest

    options = {"url": url, "allowed_hosts": LOOPBACK_HOSTS, **source_options}
    config = write_config(tmp_path, {spec.name: options}, private_http=True)
    http = HttpClient(allow_http=True, allow_private_addresses=True, respect_robots=False)
    return ingest(spec, load_settings(config, output_dir=tmp_path / "out"), http, secret)


def ingest_local_file(spec: SourceSpec, tmp_path: Path, export: Path) -> IngestOutcome:
    """Run `ingest` for `spec` with a manually downloaded export as its `file:` URL, without HTTP."""
    pytest.importorskip("se_pipeline.acquire.fetch")
    from se_pipeline.settings import load_settings
    from se_pipeline.sources.ingest import ingest

    config = write_config(tmp_path, {spec.name: {"url": export.as_uri()}})
    return ingest(spec, load_settings(config, output_dir=tmp_path / "out"), None)


def ingest_bundled_sample(spec: SourceSpec, tmp_path: Path) -> IngestOutcome:
    """Run `ingest` for `spec` with default settings (no config file, no HTTP): it reads the bundled sample."""
    pytest.importorskip("se_pipeline.acquire.fetch")
    from se_pipeline.settings import load_settings
    from se_pipeline.sources.ingest import ingest

    return ingest(spec, load_settings(None, output_dir=tmp_path), http=None)
