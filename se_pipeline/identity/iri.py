"""Minting enterprise IRIs: from source + source record id, never from names.

An IRI must stay the same as long as the source keeps its record id, and must be a valid
absolute IRI whatever the id contains (spaces, slashes, `#`, control characters,
non-ASCII). Record ids are percent-encoded byte-wise (UTF-8) keeping only RFC 3986
unreserved characters, so the mapping is injective and reversible.

One exception: a record harvested from a partner's catalog keeps the partner's own IRI
(IRI stability is the partner's to keep). Its record id is that IRI in angle brackets,
`<https://…>` (`foreign_id`), and `enterprise_iri` returns the IRI itself.
"""
from __future__ import annotations

from urllib.parse import quote, unquote

from se_pipeline.namespaces import DEFAULT_DATA_BASE
from se_pipeline.rdf.terms import clean_iri

_SAFE = "-._~"


def check_base(base: str) -> str:
    """A data base IRI must be absolute http(s) and end with '/'."""
    if not base.endswith("/"):
        base += "/"
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"data base IRI must be http(s): {base!r}")
    return clean_iri(base)


def encode_id(record_id: str) -> str:
    """Percent-encode a record id for use as one IRI path segment."""
    return quote(record_id, safe=_SAFE)


def foreign_id(iri: str) -> str:
    """The record id of a record that keeps its publisher's IRI `iri`."""
    return f"<{iri}>"


def foreign_iri(record_id: str) -> str | None:
    """The publisher's IRI of a `foreign_id`, else None."""
    if record_id.startswith("<") and record_id.endswith(">") and record_id[1:].startswith(("http://", "https://")):
        return record_id[1:-1]
    return None


def enterprise_iri(source: str, record_id: str, base: str = DEFAULT_DATA_BASE) -> str:
    """The IRI of the enterprise record `record_id` of `source` (a `foreign_id` is its IRI)."""
    return foreign_iri(record_id) or f"{base}{encode_id(source)}/{encode_id(record_id)}"


def parse_enterprise_iri(iri: str, base: str = DEFAULT_DATA_BASE) -> tuple[str, str] | None:
    """Inverse of `enterprise_iri`: (source, record_id), or None if not one of ours."""
    if not iri.startswith(base):
        return None
    rest = iri[len(base):].split("#", 1)[0]
    source, sep, rid = rest.partition("/")
    if not sep or not rid:
        return None
    return unquote(source), unquote(rid)
