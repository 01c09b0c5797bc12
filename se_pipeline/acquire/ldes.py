"""Read a partner's Linked Data Event Stream incrementally: only the pages newer than what was seen.

Given the stream's URL (its `ldes:EventStream` document, or a DCAT catalog whose
`dcat:DataService` conforms to the LDES specification) and the newest member time already
seen, `read_changes` fetches the stream's view, follows its TREE relations, skips every
page whose `tree:LessThanOrEqualToRelation` / `tree:LessThanRelation` bound on the
stream's `ldes:timestampPath` says it holds nothing newer, and returns the members of the
pages it fetched: upserts (the member's named graph is the record's new description) and
withdrawals (`ldes:versionDeleteObject` on `ldes:versionDeletePath`). Every request goes
through the shared `HttpClient` under the source's `SourcePolicy` (allowlist, size cap,
time budget, retries), pages are capped in number, and a document that does not parse, a
relation to an unreadable IRI or a member without a version-of or timestamp is reported
in `problems` and skipped, never fatal to the members that are fine.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Collection
from urllib.parse import urldefrag, urlsplit

import pyoxigraph as ox

from se_pipeline.acquire.errors import AcquireError
from se_pipeline.acquire.http import HttpClient
from se_pipeline.acquire.policy import SourcePolicy

LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LDES_SPEC = "https://w3id.org/ldes/specification"
ACCEPT = "application/trig, text/turtle;q=0.9, application/n-quads;q=0.8, application/n-triples;q=0.7"
#: Pages fetched in one call at most: a stream that links more is read in several calls.
MAX_PAGES = 1000
_UPPER = {TREE + "LessThanOrEqualToRelation": True, TREE + "LessThanRelation": False}
_LOWER = {TREE + "GreaterThanOrEqualToRelation": True, TREE + "GreaterThanRelation": False}
_EXTENSIONS = {".trig": ox.RdfFormat.TRIG, ".ttl": ox.RdfFormat.TURTLE, ".nq": ox.RdfFormat.N_QUADS,
               ".nt": ox.RdfFormat.N_TRIPLES, ".jsonld": ox.RdfFormat.JSON_LD}


class StreamError(AcquireError):
    """The URL leads to no event stream we can read."""


@dataclass
class Member:
    """One member: a version of `version_of` at `time`; `statements` its description
    (the member graph's triples, subjects as the publisher wrote them); `deleted` for a
    withdrawal."""

    iri: str
    version_of: str
    time: datetime
    deleted: bool
    types: frozenset[str]
    statements: list[ox.Triple]


@dataclass
class Changes:
    """What one `read_changes` call found: members oldest first, the pages fetched, and
    `latest`, the newest member time seen (pass it as `since` next time)."""

    stream: str
    members: list[Member] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    latest: datetime | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class _Bounds:
    lower: datetime | None = None
    upper: datetime | None = None
    upper_inclusive: bool = True


def _time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _format(content_type: str | None, url: str) -> ox.RdfFormat | None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    fmt = ox.RdfFormat.from_media_type(media) if media else None
    if fmt is None:
        path = urlsplit(url).path
        fmt = next((f for ext, f in _EXTENSIONS.items() if path.endswith(ext)), None)
    return fmt


class _Reader:
    def __init__(self, http: HttpClient, policy: SourcePolicy, source: str) -> None:
        self.http, self.policy, self.source = http, policy, source

    def fetch(self, url: str) -> tuple[str, ox.Store]:
        """GET and parse one document, relative IRIs resolved against its final URL."""
        result = self.http.get(url, policy=self.policy, headers={"Accept": ACCEPT}, source=self.source)
        fmt = _format(result.headers.get("Content-Type"), result.url)
        if fmt is None:
            raise StreamError(self.source, f"{result.url}: not an RDF document "
                                           f"(Content-Type {result.headers.get('Content-Type')!r})")
        store = ox.Store()
        try:
            store.load(result.content, format=fmt, base_iri=result.url)
        except (SyntaxError, ValueError) as e:
            raise StreamError(self.source, f"{result.url}: does not parse as {fmt.name}: {e}") from None
        return result.url, store


def _one(store: ox.Store, s: ox.NamedNode | ox.BlankNode, p: str) -> ox.NamedNode | ox.Literal | None:
    for q in store.quads_for_pattern(s, ox.NamedNode(p), None, None):
        return q.object  # type: ignore[return-value]
    return None


def _stream_in(store: ox.Store, url: str) -> ox.NamedNode | None:
    """The event stream the document describes: one whose view is this document, else the only one."""
    streams = [q.subject for q in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(LDES + "EventStream"), None)]
    viewing = [s for s in streams if any(urldefrag(q.object.value)[0] == urldefrag(url)[0]
                                         for q in store.quads_for_pattern(s, ox.NamedNode(TREE + "view"), None, None))]
    chosen = viewing or streams
    return chosen[0] if len(chosen) == 1 and isinstance(chosen[0], ox.NamedNode) else None


def _catalog_endpoint(store: ox.Store) -> str | None:
    """The endpoint of a DCAT data service conforming to LDES, if the document is a catalog."""
    for q in store.quads_for_pattern(None, ox.NamedNode(DCTERMS + "conformsTo"), ox.NamedNode(LDES_SPEC), None):
        endpoint = _one(store, q.subject, DCAT + "endpointURL")
        if isinstance(endpoint, ox.NamedNode):
            return endpoint.value
    return None


def _relations(store: ox.Store, node: str, timestamp_path: str, problems: list[str]) -> dict[str, _Bounds]:
    """Pages linked from `node`, with their bounds on the timestamp path (several relations
    to one page all hold: their bounds combine)."""
    pages: dict[str, _Bounds] = defaultdict(_Bounds)
    for q in store.quads_for_pattern(ox.NamedNode(node), ox.NamedNode(TREE + "relation"), None, None):
        r = q.object
        target = _one(store, r, TREE + "node")
        if not isinstance(target, ox.NamedNode) or urlsplit(target.value).scheme not in ("http", "https"):
            problems.append(f"{node}: a relation without an http(s) tree:node is ignored")
            continue
        bounds = pages[target.value]
        path, value = _one(store, r, TREE + "path"), _one(store, r, TREE + "value")
        kind = _one(store, r, RDF_TYPE)
        if path is None or path.value != timestamp_path or not isinstance(value, ox.Literal) or kind is None:
            continue  # a relation on another path: the page is followed, unbounded
        when = _time(value.value)
        if when is None:
            problems.append(f"{node}: relation value {value.value!r} is not a dateTime; the page is followed")
        elif kind.value in _UPPER:
            if bounds.upper is None or when < bounds.upper:
                bounds.upper, bounds.upper_inclusive = when, _UPPER[kind.value]
        elif kind.value in _LOWER:
            bounds.lower = when if bounds.lower is None else max(bounds.lower, when)
    return pages


def _newer(bounds: _Bounds, since: datetime | None) -> bool:
    """Can the page hold a member newer than `since`?"""
    return since is None or bounds.upper is None or bounds.upper > since


def _members(store: ox.Store, stream: ox.NamedNode, url: str, paths: dict[str, str], since: datetime | None,
             problems: list[str]) -> list[Member]:
    found = []
    for q in store.quads_for_pattern(stream, ox.NamedNode(TREE + "member"), None, ox.DefaultGraph()):
        m = q.object
        if not isinstance(m, ox.NamedNode):
            problems.append(f"{url}: a member that is not an IRI is skipped")
            continue
        version_of, stamp = _one(store, m, paths["version"]), _one(store, m, paths["timestamp"])
        when = _time(stamp.value) if isinstance(stamp, ox.Literal) else None
        if not isinstance(version_of, ox.NamedNode) or when is None:
            problems.append(f"{url}: member {m.value} has no {'version-of IRI' if when else 'timestamp'}; skipped")
            continue
        if since is not None and when <= since:
            continue
        types = frozenset(x.object.value for x in store.quads_for_pattern(m, ox.NamedNode(RDF_TYPE), None, ox.DefaultGraph()))
        deleted = paths["delete_object"] is not None and any(
            x.object.value == paths["delete_object"] for x in store.quads_for_pattern(m, ox.NamedNode(paths["delete_path"]), None, None))
        statements = [ox.Triple(x.subject, x.predicate, x.object) for x in store.quads_for_pattern(None, None, None, m)]
        found.append(Member(m.value, version_of.value, when, deleted, types, statements))
    return found


def read_changes(url: str, *, http: HttpClient, policy: SourcePolicy, source: str = "",
                 since: datetime | None = None, seen_pages: Collection[str] = (), max_pages: int = MAX_PAGES) -> Changes:
    """Members of the stream at `url` newer than `since` (all when None), from the pages
    not in `seen_pages` that can hold them; raises `AcquireError` when the stream itself
    cannot be read (a page that fails is a problem, not an error)."""
    reader = _Reader(http, policy, source)
    final, store = reader.fetch(url)
    stream = _stream_in(store, final)
    if stream is None and (endpoint := _catalog_endpoint(store)):
        final, store = reader.fetch(endpoint)
        stream = _stream_in(store, final)
    if stream is None:
        raise StreamError(source, f"{final}: no single ldes:EventStream described (nor a catalog pointing to one)")
    changes = Changes(stream.value)
    delete_object = _one(store, stream, LDES + "versionDeleteObject")
    paths = {
        "timestamp": (_one(store, stream, LDES + "timestampPath") or ox.NamedNode(DCTERMS + "modified")).value,
        "version": (_one(store, stream, LDES + "versionOfPath") or ox.NamedNode(DCTERMS + "isVersionOf")).value,
        "delete_path": (_one(store, stream, LDES + "versionDeletePath") or ox.NamedNode(RDF_TYPE)).value,
        "delete_object": delete_object.value if delete_object is not None else None,
    }
    views = [q.object.value for q in store.quads_for_pattern(stream, ox.NamedNode(TREE + "view"), None, None)
             if isinstance(q.object, ox.NamedNode)]
    queue: list[tuple[str, ox.Store | None]] = [(v, store if urldefrag(v)[0] == urldefrag(final)[0] else None) for v in views]
    visited: set[str] = set()
    skip = set(seen_pages)
    while queue:
        node, known = queue.pop(0)
        doc = urldefrag(node)[0]
        if doc in visited:
            continue
        visited.add(doc)
        if known is None:
            if len(changes.pages) >= max_pages:
                changes.problems.append(f"stopped after {max_pages} pages; call again with `since` to go on")
                break
            try:
                _, known = reader.fetch(doc)
            except AcquireError as e:
                changes.problems.append(f"{doc}: {e.message}")
                continue
            changes.pages.append(doc)
        changes.members += _members(known, stream, doc, paths, since, changes.problems)
        linked = _relations(known, node, paths["timestamp"], changes.problems)
        for target, bounds in sorted(linked.items(), key=lambda kv: (kv[1].lower or datetime.min.replace(tzinfo=timezone.utc), kv[0])):
            if urldefrag(target)[0] not in visited and target not in skip and _newer(bounds, since):
                queue.append((target, None))
    changes.members.sort(key=lambda m: (m.time, m.iri))
    changes.latest = max((m.time for m in changes.members), default=since)
    return changes
