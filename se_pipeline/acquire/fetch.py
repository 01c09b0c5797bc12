"""`fetch()`: one source URL -> checked bytes + provenance, kept in the raw store.

Local files (`file://` URLs or plain paths: bundled samples and manual exports) are read
directly, only inside the policy's `file_roots` and only when they are regular files; `http(s)://` goes through the shared `HttpClient`, conditionally when the
previous fetch left an ETag/Last-Modified and its bytes are still in the raw store, so
an unchanged upstream costs one small request and no re-processing.
"""
from __future__ import annotations

import mimetypes
import os
import stat as stat_mode
from dataclasses import dataclass, replace
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from se_pipeline.acquire.errors import (
    AcquireError,
    ContentMismatch,
    DisallowedUrl,
    EncodingError,
    HttpStatusError,
    ManualExportOnly,
    TooLarge,
)
from se_pipeline.acquire.http import HttpClient
from se_pipeline.acquire.policy import SourcePolicy
from se_pipeline.acquire.provenance import FetchRecord, utc_now_iso
from se_pipeline.acquire.sniff import charset_of, check_content, detect_encoding
from se_pipeline.acquire.store import load_raw, sha256_hex, store_raw


@dataclass(frozen=True)
class Fetched:
    """The bytes of one fetch and where they came from."""

    data: bytes
    record: FetchRecord


def is_local(url: str) -> bool:
    """`file://` URLs and plain paths (including Windows `C:\\…`) are local."""
    scheme = urlsplit(url).scheme.lower()
    return scheme == "file" or len(scheme) <= 1


def local_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme.lower() != "file":
        return Path(url)
    if parts.netloc not in ("", "localhost"):
        raise DisallowedUrl("", url, f"file URL on a remote host {parts.netloc!r}")
    return Path(url2pathname(unquote(parts.path)))


def fetch(url: str, *, source: str, policy: SourcePolicy, http: HttpClient | None = None,
          previous: FetchRecord | None = None, raw_dir: Path) -> Fetched:
    """Fetch `url` for `source` under `policy`, check and decode-test the bytes, keep them
    in `raw_dir`, and return them with their `FetchRecord`.

    Raises an `AcquireError` subclass on any failure; rejected bytes are still kept in
    the raw store (marked `accepted: false`) so a steward can see what the server sent.
    """
    raw_dir = Path(raw_dir)
    if is_local(url):
        return _fetch_local(url, source, policy, previous, raw_dir)
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise DisallowedUrl(source, url, f"scheme {scheme!r} is not supported")
    if policy.manual_export_only:
        raise ManualExportOnly(source, url)
    return _fetch_http(url, source, policy, http or HttpClient(), previous, raw_dir)


def _fetch_local(url: str, source: str, policy: SourcePolicy, previous: FetchRecord | None,
                 raw_dir: Path) -> Fetched:
    try:
        path = local_path(url)
    except DisallowedUrl as e:
        raise DisallowedUrl(source, url, e.reason) from None
    data, stat = _read_file(path, url, policy, source)
    content_type = mimetypes.guess_type(path.name)[0]
    record = FetchRecord(
        url=url, final_url=path.resolve().as_uri(), fetched_at=utc_now_iso(), status=None, etag=None,
        last_modified=formatdate(stat.st_mtime, usegmt=True), sha256=sha256_hex(data), byte_size=len(data),
        content_type=content_type, encoding=None,
    )
    # A file that changed size while we read it is as broken as a truncated download.
    return _accept(data, record, policy, source, previous, raw_dir, content_length=stat.st_size)


_SPECIAL = ((stat_mode.S_ISDIR, "a directory"), (stat_mode.S_ISFIFO, "a FIFO (named pipe)"),
            (stat_mode.S_ISSOCK, "a socket"), (stat_mode.S_ISCHR, "a character device"),
            (stat_mode.S_ISBLK, "a block device"))


def _read_file(path: Path, url: str, policy: SourcePolicy, source: str) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file inside `policy.file_roots`, at most `max_bytes` of them.

    The path is resolved (symlinks followed) before the roots are checked, so a link
    cannot lead outside them. The file is opened non-blocking and checked with `fstat`
    on the open descriptor, so a FIFO, socket or device is refused before a single byte
    is read (a FIFO would block or never end; /dev/zero never ends), and the read stops
    one byte past the cap whatever the file claims its size is."""
    resolved = path.resolve()
    if not policy.file_allowed(resolved):  # the roots themselves are not named: the text may be published
        raise DisallowedUrl(source, url, f"{path} is outside the folders file:// sources may read "
                                         "(file_roots in the run config)")
    try:
        _refuse_special(os.stat(resolved), path, url, source)  # a socket cannot even be opened
        fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise AcquireError(source, f"file not found: {path}") from None
    except PermissionError:
        raise AcquireError(source, f"permission denied: {path}") from None
    except OSError as e:
        raise AcquireError(source, f"cannot open {path}: {e.strerror}") from None
    with os.fdopen(fd, "rb", buffering=0) as f:
        info = os.fstat(fd)
        _refuse_special(info, path, url, source)  # the file opened is the one checked
        if info.st_size > policy.max_bytes:
            raise TooLarge(source, url, policy.max_bytes, info.st_size)
        data = bytearray()
        while len(data) <= policy.max_bytes:
            chunk = f.read(policy.max_bytes + 1 - len(data))
            if not chunk:
                break
            data += chunk
        if len(data) > policy.max_bytes:
            raise TooLarge(source, url, policy.max_bytes)
    return bytes(data), info


def _refuse_special(info: os.stat_result, path: Path, url: str, source: str) -> None:
    for test, kind in _SPECIAL:
        if test(info.st_mode):
            raise DisallowedUrl(source, url, f"{path} is {kind}, not a regular file")


def _fetch_http(url: str, source: str, policy: SourcePolicy, http: HttpClient, previous: FetchRecord | None,
                raw_dir: Path) -> Fetched:
    headers: dict[str, str] = {}
    cached: bytes | None = None
    if previous is not None and previous.url == url and (previous.etag or previous.last_modified):
        cached = load_raw(raw_dir, previous.sha256)
        if cached is not None:  # only ask "changed?" if we can still serve "no" from the store
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
    result = http.get(url, policy=policy, headers=headers, source=source)
    if result.status_code == 304:
        if cached is None or previous is None:
            raise HttpStatusError(source, 304, result.url, "304 Not Modified to an unconditional request")
        record = replace(previous, final_url=result.url, fetched_at=utc_now_iso(), status=304,
                         etag=result.headers.get("ETag") or previous.etag,
                         last_modified=result.headers.get("Last-Modified") or previous.last_modified,
                         not_modified=True, from_cache=True)
        store_raw(raw_dir, cached, record)
        return Fetched(cached, record)
    if not 200 <= result.status_code < 300 or result.status_code == 206:
        raise HttpStatusError(source, result.status_code, result.url, f"unexpected HTTP {result.status_code} from {result.url}")
    data = result.content
    encoded = result.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
    length = result.headers.get("Content-Length")
    record = FetchRecord(
        url=url, final_url=result.url, fetched_at=utc_now_iso(), status=result.status_code,
        etag=result.headers.get("ETag"), last_modified=result.headers.get("Last-Modified"),
        sha256=sha256_hex(data), byte_size=len(data), content_type=result.headers.get("Content-Type"), encoding=None,
    )
    content_length = int(length) if length and length.isdigit() and not encoded else None
    return _accept(data, record, policy, source, previous, raw_dir, content_length=content_length)


def _accept(data: bytes, record: FetchRecord, policy: SourcePolicy, source: str, previous: FetchRecord | None,
            raw_dir: Path, *, content_length: int | None) -> Fetched:
    """Check and decode-test the bytes, then store them. A content mismatch wins over an
    encoding error (an HTML page is the real problem, not its charset); for `any`, bytes
    that are not text are fine and get `encoding=None`."""
    encoding: str | None = None
    decode_error: EncodingError | None = None
    try:
        encoding = detect_encoding(data, charset_of(record.content_type), source=source)
    except EncodingError as e:
        decode_error = e
    try:
        check_content(data, expected=policy.expected, expected_header=policy.expected_header,
                      content_type=record.content_type, content_length=content_length, encoding=encoding, source=source)
        if decode_error is not None and policy.expected != "any":
            raise decode_error
    except (ContentMismatch, EncodingError) as e:
        store_raw(raw_dir, data, record, error=f"{type(e).__name__}: {e}")
        raise
    unchanged = previous is not None and previous.sha256 == record.sha256
    record = replace(record, encoding=encoding, not_modified=unchanged)
    store_raw(raw_dir, data, record)
    return Fetched(data, record)
