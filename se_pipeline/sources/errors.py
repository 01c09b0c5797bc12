"""Typed errors of the source stage (parsing a source's own format), and the public
text of any failure.

A failed source is reported in public files (`catalog.ttl`'s stale reason, the landing
page, `quarantine.csv`). Those texts say what is wrong and where — the file or URL, the
line, the key — and never quote the bytes that could not be read: a config pointing a
source at a private file must not publish that file's first line. `public_message`
builds that text; the full message stays in the run's private state for the steward.
"""
from __future__ import annotations

import json
import re

from se_pipeline.acquire.errors import AcquireError

_LINE = re.compile(r"\bline (\d+)\b")


class SourceError(Exception):
    """A source cannot be used this run; the message says which source and why.

    `public` is the same fact without any value taken from the data (for public files);
    when it is not given, `public_message` falls back to the kind of error and the line."""

    def __init__(self, source: str, message: str, *, public: str | None = None) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.public = public


class SourceFormatError(SourceError):
    """The bytes are not in the format the adapter reads (unparseable, wrong columns)."""


class MappingError(SourceError):
    """A source's mapping file is inconsistent with the canonical schema or the data."""


_GENERIC = {
    SourceFormatError: "the data is not in the format this source reads",
    MappingError: "the data does not fit this source's mapping (source.yaml)",
    UnicodeError: "the bytes do not decode as text",
}


def public_message(error: BaseException, source: str, where: str = "") -> str:
    """What went wrong with `source`, fit for a public file: acquisition errors are
    written never to quote the body; other errors keep their class, the place (`where`:
    the URL or file) and a line number, and drop their free text, which may quote data."""
    if isinstance(error, AcquireError):
        text = f"{type(error).__name__}: {error}"
        return f"{text} (reading {where})" if where and where not in text else text
    if isinstance(error, SourceError) and error.public:
        return f"{type(error).__name__}: {source}: {error.public}"
    what = next((text for kind, text in _GENERIC.items() if isinstance(error, kind)), "the data could not be read")
    place = f" in {where}" if where else ""
    line = _line_of(error)
    at = f" near line {line}" if line else ""
    return f"{type(error).__name__}: {source}: {what}{place}{at}"


def _line_of(error: BaseException) -> int | None:
    """A line number the error (or its cause) carries, if any: only digits get through."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, json.JSONDecodeError):
            return seen.lineno
        found = _LINE.search(str(seen))
        if found:
            return int(found.group(1))
        seen = seen.__cause__ or seen.__context__
    return None
