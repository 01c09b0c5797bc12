"""fetch(): local files, conditional requests, content checks, and the raw store."""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from se_pipeline.acquire.errors import (
    ContentMismatch,
    DisallowedUrl,
    EncodingError,
    ManualExportOnly,
    TooLarge,
)
from se_pipeline.acquire.fetch import fetch
from se_pipeline.acquire.http import HttpClient
from se_pipeline.acquire.policy import SourcePolicy
from se_pipeline.acquire.provenance import FetchRecord
from se_pipeline.acquire.store import sha256_hex

CSV = b"id,name,town\n1,Alpha Co-op,Leeds\n2,Beta Mutual,York\n"


def blobs(raw: Path) -> list[str]:
    return sorted(p.name for p in raw.glob("*.bin"))


# -- local files ---------------------------------------------------------------------------

def test_file_url_and_plain_path(tmp_path: Path) -> None:
    src = tmp_path / "my export.csv"
    src.write_bytes(CSV)
    raw = tmp_path / "raw"
    policy = SourcePolicy(expected="csv", expected_header=["id", "name"], file_roots=(tmp_path,))
    got = fetch(src.as_uri(), source="s", policy=policy, http=None, previous=None, raw_dir=raw)
    assert got.data == CSV
    r = got.record
    assert r.url == src.as_uri() and r.status is None and r.sha256 == sha256_hex(CSV)
    assert r.byte_size == len(CSV) and r.encoding == "utf-8" and r.content_type == "text/csv"
    assert r.fetched_at.endswith("Z") and r.last_modified and not r.not_modified and not r.from_cache
    again = fetch(str(src), source="s", policy=policy, http=None, previous=r, raw_dir=raw)
    assert again.data == CSV and again.record.not_modified  # same bytes as last time
    assert blobs(raw) == [f"{r.sha256}.bin"]  # content-addressed: stored once


def test_file_missing_and_too_large(tmp_path: Path) -> None:
    from se_pipeline.acquire.errors import AcquireError

    with pytest.raises(AcquireError, match="not found"):
        fetch((tmp_path / "nope.csv").as_uri(), source="s", policy=SourcePolicy(file_roots=(tmp_path,)), raw_dir=tmp_path / "raw")
    big = tmp_path / "big.csv"
    big.write_bytes(b"a\n" * 100)
    with pytest.raises(TooLarge):
        fetch(big.as_uri(), source="s", policy=SourcePolicy(max_bytes=10, file_roots=(tmp_path,)), raw_dir=tmp_path / "raw")


def test_manual_export_only(tmp_path: Path) -> None:
    src = tmp_path / "export.csv"
    src.write_bytes(CSV)
    manual = SourcePolicy(expected="csv", manual_export_only=True, allowed_hosts=["example.org"], file_roots=(tmp_path,))
    with pytest.raises(ManualExportOnly, match="manual"):
        fetch("https://example.org/export.csv", source="s", policy=manual, raw_dir=tmp_path / "raw")
    assert fetch(src.as_uri(), source="s", policy=manual, raw_dir=tmp_path / "raw").data == CSV


def test_unsupported_scheme(tmp_path: Path) -> None:
    with pytest.raises(DisallowedUrl):
        fetch("ftp://example.org/x.csv", source="s", policy=SourcePolicy(), raw_dir=tmp_path)


# -- encodings -----------------------------------------------------------------------------

def test_cp1252_detected_and_recorded(tmp_path: Path) -> None:
    text = "id,name,town\n1,Société “Coopérative” – Café,Genève\n2,Zürich Bäckerei,Besançon\n"
    src = tmp_path / "legacy.csv"
    src.write_bytes(text.encode("cp1252"))
    got = fetch(src.as_uri(), source="s", policy=SourcePolicy(expected="csv", expected_header=["name"], file_roots=(tmp_path,)),
                raw_dir=tmp_path / "raw")
    assert got.record.encoding == "cp1252"
    assert got.data.decode(got.record.encoding) == text


def test_undecodable_garbage_raises(tmp_path: Path) -> None:
    src = tmp_path / "garbage.csv"
    src.write_bytes(b"id,name\n" + bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D, 0xC3, 0x28]) * 40 + b"\n")
    with pytest.raises(EncodingError):
        fetch(src.as_uri(), source="s", policy=SourcePolicy(expected="csv", file_roots=(tmp_path,)), raw_dir=tmp_path / "raw")


def test_any_accepts_binary(tmp_path: Path) -> None:
    src = tmp_path / "data.zip"
    src.write_bytes(b"PK\x03\x04" + bytes(range(256)))
    got = fetch(src.as_uri(), source="s", policy=SourcePolicy(expected="any", file_roots=(tmp_path,)), raw_dir=tmp_path / "raw")
    assert got.record.encoding is None


def test_declared_charset_is_used(httpserver: HTTPServer, client: HttpClient, policy, tmp_path: Path) -> None:
    body = "id,name\n1,Caf\u00e9 \u20ac\n".encode("iso8859_15")  # ¤ position holds the euro sign
    httpserver.expect_request("/x.csv").respond_with_data(body, content_type="text/csv; charset=ISO-8859-15")
    got = fetch(httpserver.url_for("/x.csv"), source="s", policy=policy, http=client, raw_dir=tmp_path)
    assert got.record.encoding == "iso8859-15"


# -- http ----------------------------------------------------------------------------------

def test_http_fetch_records_provenance(httpserver: HTTPServer, client: HttpClient, policy, tmp_path: Path) -> None:
    httpserver.expect_request("/orgs.csv").respond_with_data(
        CSV, content_type="text/csv", headers={"ETag": '"v1"', "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"})
    got = fetch(httpserver.url_for("/orgs.csv"), source="coops", policy=policy, http=client, previous=None, raw_dir=tmp_path)
    r = got.record
    assert (r.status, r.etag, r.last_modified) == (200, '"v1"', "Wed, 01 Jan 2025 00:00:00 GMT")
    assert r.content_type == "text/csv" and r.final_url == httpserver.url_for("/orgs.csv")
    stored = json.loads((tmp_path / f"{r.sha256}.json").read_text())
    assert FetchRecord.from_dict(stored) == r and stored["accepted"] is True
    assert (tmp_path / f"{r.sha256}.bin").read_bytes() == CSV


def test_conditional_request_304_returns_previous_bytes(httpserver: HTTPServer, client: HttpClient, policy,
                                                        tmp_path: Path) -> None:
    lm = "Wed, 01 Jan 2025 00:00:00 GMT"
    httpserver.expect_ordered_request("/orgs.csv").respond_with_data(
        CSV, content_type="text/csv", headers={"ETag": '"v1"', "Last-Modified": lm})
    httpserver.expect_ordered_request("/orgs.csv", headers={"If-None-Match": '"v1"', "If-Modified-Since": lm}
                                      ).respond_with_response(Response(status=304, headers={"ETag": '"v1"'}))
    url = httpserver.url_for("/orgs.csv")
    first = fetch(url, source="s", policy=policy, http=client, previous=None, raw_dir=tmp_path)
    second = fetch(url, source="s", policy=policy, http=client, previous=first.record, raw_dir=tmp_path)
    httpserver.check_assertions()
    assert second.data == CSV
    assert second.record.not_modified and second.record.from_cache and second.record.status == 304
    assert second.record.sha256 == first.record.sha256 and second.record.encoding == "utf-8"
    assert blobs(tmp_path) == [f"{first.record.sha256}.bin"]
    meta = json.loads((tmp_path / f"{first.record.sha256}.json").read_text())
    assert meta["status"] == 304 and meta["first_fetched_at"] == first.record.fetched_at


def test_no_conditional_request_when_bytes_are_gone(httpserver: HTTPServer, client: HttpClient, policy,
                                                    tmp_path: Path) -> None:
    def handler(request: Request) -> Response:
        assert "If-None-Match" not in request.headers
        return Response(CSV, content_type="text/csv", headers={"ETag": '"v2"'})

    httpserver.expect_request("/orgs.csv").respond_with_handler(handler)
    stale = FetchRecord(url=httpserver.url_for("/orgs.csv"), final_url="", fetched_at="2020-01-01T00:00:00Z", status=200,
                        etag='"v1"', last_modified=None, sha256="0" * 64, byte_size=1, content_type=None, encoding=None)
    got = fetch(stale.url, source="s", policy=policy, http=client, previous=stale, raw_dir=tmp_path)
    assert got.data == CSV and not got.record.not_modified


def test_changed_bytes_stored_separately(httpserver: HTTPServer, client: HttpClient, policy, tmp_path: Path) -> None:
    httpserver.expect_ordered_request("/o.csv").respond_with_data(CSV)
    httpserver.expect_ordered_request("/o.csv").respond_with_data(CSV + b"3,Gamma,Hull\n")
    a = fetch(httpserver.url_for("/o.csv"), source="s", policy=policy, http=client, raw_dir=tmp_path)
    b = fetch(httpserver.url_for("/o.csv"), source="s", policy=policy, http=client, previous=a.record, raw_dir=tmp_path)
    assert not b.record.not_modified and len(blobs(tmp_path)) == 2


@pytest.mark.parametrize("body,content_type,reason", [
    (b"<!DOCTYPE html><html><body>Please log in</body></html>", "text/html; charset=utf-8", "html"),
    (b"<html><head><title>Maintenance</title></head></html>", "text/csv", "html"),
    (b"", "text/csv", "empty"),
    (b"  \r\n", "text/csv", "empty"),
    (b"ident,title\n1,Alpha\n", "text/csv", "header_changed"),
    (b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', "application/xml", "xml"),
    (b"PK\x03\x04\x14\x00\x00\x00", "application/octet-stream", "binary"),
])
def test_content_mismatch_over_http(httpserver: HTTPServer, client: HttpClient, tmp_path: Path,
                                    body: bytes, content_type: str, reason: str) -> None:
    httpserver.expect_request("/orgs.csv").respond_with_data(body, content_type=content_type)
    policy = SourcePolicy(allowed_hosts=["localhost"], allow_private_addresses=True, expected="csv",
                          expected_header=["id", "name"])
    with pytest.raises(ContentMismatch) as info:
        fetch(httpserver.url_for("/orgs.csv"), source="s", policy=policy, http=client, raw_dir=tmp_path)
    assert info.value.reason == reason and info.value.source == "s"
    if body:  # what the server sent is kept for a steward, marked as rejected
        meta = json.loads((tmp_path / f"{sha256_hex(body)}.json").read_text())
        assert meta["accepted"] is False and reason in meta["error"]


def test_truncated_body_over_http(httpserver: HTTPServer, client: HttpClient, policy, tmp_path: Path) -> None:
    def short(request: Request) -> Response:
        response = Response(CSV, content_type="text/csv")
        response.headers["Content-Length"] = str(len(CSV) * 2)
        return response

    httpserver.expect_request("/orgs.csv").respond_with_handler(short)
    with pytest.raises(ContentMismatch) as info:
        fetch(httpserver.url_for("/orgs.csv"), source="s", policy=policy, http=client, raw_dir=tmp_path)
    assert info.value.reason == "truncated"


def test_json_expected(httpserver: HTTPServer, client: HttpClient, tmp_path: Path) -> None:
    policy = SourcePolicy(allowed_hosts=["localhost"], allow_private_addresses=True, expected="geojson")
    httpserver.expect_ordered_request("/a.json").respond_with_data(b'{"type": "FeatureCollection", "features": []}')
    httpserver.expect_ordered_request("/a.json").respond_with_data(b"id,name\n1,x\n")
    httpserver.expect_ordered_request("/a.json").respond_with_data(b'{"type": "FeatureCollection", "features": [')
    url = httpserver.url_for("/a.json")
    assert fetch(url, source="s", policy=policy, http=client, raw_dir=tmp_path).record.encoding == "utf-8"
    with pytest.raises(ContentMismatch, match="not_json"):
        fetch(url, source="s", policy=policy, http=client, raw_dir=tmp_path)
    with pytest.raises(ContentMismatch, match="truncated"):
        fetch(url, source="s", policy=policy, http=client, raw_dir=tmp_path)


def test_http_needs_allowlist_and_https_by_default(tmp_path: Path) -> None:
    with pytest.raises(DisallowedUrl, match="https only"):
        fetch("http://example.org/x.csv", source="s", policy=SourcePolicy(allowed_hosts=["example.org"]),
              http=HttpClient(respect_robots=False), raw_dir=tmp_path)
    with pytest.raises(DisallowedUrl, match="allowlist"):
        fetch("https://example.org/x.csv", source="s", policy=SourcePolicy(), http=None, raw_dir=tmp_path)


# -- which local files may be read -------------------------------------------------------

def test_file_outside_the_roots_is_refused_unread(tmp_path: Path) -> None:
    allowed, elsewhere = tmp_path / "allowed", tmp_path / "elsewhere"
    allowed.mkdir()
    elsewhere.mkdir()
    secret = elsewhere / "secret.csv"
    secret.write_bytes(CSV)
    policy = SourcePolicy(expected="csv", file_roots=(allowed,))
    with pytest.raises(DisallowedUrl, match="outside the folders file:// sources may read"):
        fetch(secret.as_uri(), source="s", policy=policy, raw_dir=tmp_path / "raw")
    (allowed / "link.csv").symlink_to(secret)  # a link inside the root leading out of it
    with pytest.raises(DisallowedUrl, match="outside"):
        fetch((allowed / "link.csv").as_uri(), source="s", policy=policy, raw_dir=tmp_path / "raw")
    with pytest.raises(DisallowedUrl, match="outside"):
        fetch((allowed / ".." / "elsewhere" / "secret.csv").as_uri(), source="s", policy=policy,
              raw_dir=tmp_path / "raw")
    assert not (tmp_path / "raw").exists()  # nothing was read, nothing kept


def test_fifo_is_refused_before_reading(tmp_path: Path) -> None:
    """A FIFO would be read past max_bytes (its size is 0) or block for ever."""
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    written: list[int] = []

    def writer() -> None:  # a real writer: without the fix, the fetch reads all of this
        try:
            with open(fifo, "wb") as f:
                for _ in range(100):
                    written.append(f.write(b"id,name\n" * 128))
        except BrokenPipeError:
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    policy = SourcePolicy(expected="csv", max_bytes=1000, file_roots=(tmp_path,))
    try:
        with pytest.raises(DisallowedUrl, match="FIFO"):
            fetch(fifo.as_uri(), source="s", policy=policy, raw_dir=tmp_path / "raw")
    finally:
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer's open return; drain it
        give_up = time.monotonic() + 10
        while thread.is_alive() and time.monotonic() < give_up:
            try:
                os.read(reader, 65536)
            except BlockingIOError:
                thread.join(0.01)
        os.close(reader)
    assert not thread.is_alive()


def test_device_is_refused(tmp_path: Path) -> None:
    policy = SourcePolicy(expected="any", file_roots=(Path("/dev"),))
    with pytest.raises(DisallowedUrl, match="character device"):
        fetch("file:///dev/null", source="s", policy=policy, raw_dir=tmp_path / "raw")


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DisallowedUrl, match="directory"):
        fetch(tmp_path.as_uri(), source="s", policy=SourcePolicy(file_roots=(tmp_path,)), raw_dir=tmp_path / "raw")
