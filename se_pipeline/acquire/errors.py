"""Typed acquisition errors.

Every failure to obtain a source's bytes is an `AcquireError` naming the source, so the
ingest step can record *why* a source is stale (and keep its last good copy) instead of
crashing the run. `transient` tells a caller whether trying again later may help
(timeouts, 5xx, dropped connections) or whether a person has to act (allowlist, robots,
changed format).
"""
from __future__ import annotations


class AcquireError(Exception):
    """Base class: fetching `source` failed; `message` is meant for a human."""

    transient: bool = False

    def __init__(self, source: str, message: str, *, transient: bool | None = None) -> None:
        self.source = source
        self.message = message
        if transient is not None:
            self.transient = transient
        super().__init__(f"{source}: {message}" if source else message)


class FetchTimeout(AcquireError):
    """Connect/read timeout, or the source's total time budget is spent."""

    transient = True


class ConnectionFailed(AcquireError):
    """The host could not be resolved or reached, or dropped the connection (after retries)."""

    transient = True


class HttpStatusError(AcquireError):
    """The server answered with an error status (after retries for 5xx/429);
    `retry_after` is the wait its `Retry-After` header asked for, in seconds."""

    retry_after: float | None = None

    def __init__(self, source: str, status: int, url: str, message: str | None = None,
                 *, transient: bool | None = None) -> None:
        self.status = status
        self.url = url
        if transient is None:
            transient = status >= 500 or status in (408, 429)
        super().__init__(source, message or f"HTTP {status} from {url}", transient=transient)


class TooLarge(AcquireError):
    """The body exceeds the byte cap; the download was aborted rather than filling the disk."""

    def __init__(self, source: str, url: str, limit: int, seen: int | None = None) -> None:
        self.url = url
        self.limit = limit
        self.seen = seen
        size = f"{seen} bytes" if seen is not None else "the body"
        super().__init__(source, f"{size} from {url} exceed the cap of {limit} bytes")


class DisallowedUrl(AcquireError):
    """Scheme or host not allowed, private/loopback address, or a redirect to such a place."""

    def __init__(self, source: str, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(source, f"refusing {url}: {reason}")


class RobotsDisallowed(AcquireError):
    """The host's robots.txt disallows our user agent for this path."""

    def __init__(self, source: str, url: str, reason: str = "disallowed by robots.txt",
                 *, transient: bool = False) -> None:
        self.url = url
        self.reason = reason
        super().__init__(source, f"{url}: {reason}", transient=transient)


class ManualExportOnly(AcquireError):
    """The publisher's terms allow only a manual export: no automated HTTP fetch."""

    def __init__(self, source: str, url: str) -> None:
        self.url = url
        super().__init__(
            source,
            f"{url}: this source is manual-export-only; download the export by hand and "
            "configure its file:// path (or local path) as the source url",
        )


class ContentMismatch(AcquireError):
    """The bytes are not what the source should serve (`reason` is a short code:
    empty, truncated, length_mismatch, html, xml, binary, not_json, header_changed,
    content_encoding). `detail` never quotes the body: it may reach public files."""

    def __init__(self, source: str, reason: str, detail: str, *, transient: bool | None = None) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(source, f"content mismatch ({reason}): {detail}", transient=transient)


class EncodingError(AcquireError):
    """The bytes do not decode cleanly in the declared or a confidently detected encoding."""

    def __init__(self, source: str, detail: str, *, encoding: str | None = None) -> None:
        self.encoding = encoding
        self.detail = detail
        super().__init__(source, f"encoding: {detail}")
