"""Reading a partner's DCAT catalog: which dump to take, its checksum, licence, provenance, stream.

Any DCAT(-AP) catalog will do, ours (`release/catalog.py`) or another publisher's: among
its datasets that have an RDF distribution (N-Quads, N-Triples, Turtle, JSON-LD; gzip
allowed), the newest (`dct:issued`, else `dct:modified`) is taken, and of its
distributions the one cheapest to read exactly (N-Quads, then N-Triples, Turtle,
JSON-LD). The format is read from `dcat:mediaType`, `dct:format` (EU file-type
authority) or the file's extension; its expected SHA-256 from `spdx:checksum`, else from
a `SHA256SUMS` file beside it (`harvest` fetches that). An event stream is the
distribution or data service that `dct:conformsTo` the LDES specification.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Optional
from urllib.parse import urlsplit

import pyoxigraph as ox

from se_pipeline.sources.errors import SourceFormatError

DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SPDX = "http://spdx.org/rdf/terms#"
PROV = "http://www.w3.org/ns/prov#"
SEP_ATTRIBUTION = "https://w3id.org/se-pipeline/ontology/attribution"
SEP_NAMED_GRAPH = "https://w3id.org/se-pipeline/ontology/namedGraph"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LDES_SPEC = "https://w3id.org/ldes/specification"
SHA256 = SPDX + "checksumAlgorithm_sha256"

#: RDF formats we import, best first: (name, media types, EU file-type codes, extensions)
FORMATS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("nquads", ("application/n-quads",), ("RDF_N_QUADS", "NQUADS"), (".nq",)),
    ("ntriples", ("application/n-triples",), ("RDF_N_TRIPLES", "NTRIPLES"), (".nt",)),
    ("turtle", ("text/turtle",), ("RDF_TURTLE", "TURTLE"), (".ttl",)),
    ("jsonld", ("application/ld+json",), ("JSON_LD",), (".jsonld",)),
)
OX_FORMAT = {"nquads": ox.RdfFormat.N_QUADS, "ntriples": ox.RdfFormat.N_TRIPLES,
             "turtle": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD}


@dataclass(frozen=True)
class Offer:
    """What the partner's catalog offers: the dump to import and how to trust it."""

    catalog_url: str
    dataset: str  # the dataset's IRI (for our provenance: prov:wasDerivedFrom)
    issued: Optional[datetime]
    url: str  # the distribution's download URL
    format: str  # a FORMATS name
    gzip: bool
    sha256: Optional[str]  # from spdx:checksum; None: look for SHA256SUMS beside the file
    title: str
    publisher: str
    homepage: str
    licence: str
    attribution: str
    stream: Optional[str] = None  # the LDES the catalog links, if any
    derived_from: tuple[str, ...] = field(default_factory=tuple)
    #: The partner's datasets that it harvested from another catalog (`republished`).
    republished: tuple[str, ...] = field(default_factory=tuple)


def _value(store: ox.Store, s: ox.NamedNode | ox.BlankNode, p: str) -> Optional[ox.NamedNode | ox.Literal | ox.BlankNode]:
    for q in store.quads_for_pattern(s, ox.NamedNode(p), None, None):
        return q.object  # type: ignore[return-value]
    return None


def _values(store: ox.Store, s: ox.NamedNode | ox.BlankNode, p: str) -> list:
    return [q.object for q in store.quads_for_pattern(s, ox.NamedNode(p), None, None)]


def _text(store: ox.Store, s: ox.NamedNode | ox.BlankNode | None, *ps: str) -> str:
    """The first literal of the first property that has one (English preferred), or ''."""
    if s is None:
        return ""
    for p in ps:
        lits = [o for o in _values(store, s, p) if isinstance(o, ox.Literal)]
        if lits:
            lits.sort(key=lambda lit: (lit.language not in (None, "en"), lit.value))
            return " ".join(lits[0].value.split())
    return ""


def _iri(store: ox.Store, s: ox.NamedNode | ox.BlankNode | None, *ps: str) -> str:
    if s is None:
        return ""
    for p in ps:
        for o in _values(store, s, p):
            if isinstance(o, ox.NamedNode) and urlsplit(o.value).scheme in ("http", "https"):
                return o.value
    return ""


def _time(store: ox.Store, s: ox.NamedNode | ox.BlankNode) -> Optional[datetime]:
    for p in (DCTERMS + "issued", DCTERMS + "modified"):
        v = _value(store, s, p)
        if isinstance(v, ox.Literal):
            try:
                t = datetime.fromisoformat(v.value)
            except ValueError:
                continue
            return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return None


def _format_of(store: ox.Store, dist: ox.NamedNode | ox.BlankNode, url: str) -> tuple[Optional[str], bool]:
    """(FORMATS name or None, gzip?) from the media type, the format code or the extension."""
    said = [o.value for p in (DCAT + "mediaType", DCTERMS + "format") for o in _values(store, dist, p)]
    said_lower = [v.lower() for v in said]
    path = urlsplit(url).path.lower()
    gz = path.endswith(".gz") or any(v.endswith("gzip") for v in
                                     (o.value.lower() for o in _values(store, dist, DCAT + "compressFormat")))
    bare = path[:-3] if path.endswith(".gz") else path
    for name, media, codes, exts in FORMATS:
        if any(v.endswith(m) for v in said_lower for m in media) or any(
                v.rsplit("/", 1)[-1].upper() in codes for v in said) or bare.endswith(exts):
            return name, gz
    return None, gz


def _checksum(store: ox.Store, dist: ox.NamedNode | ox.BlankNode) -> Optional[str]:
    for c in _values(store, dist, SPDX + "checksum"):
        algo = _value(store, c, SPDX + "algorithm")
        value = _value(store, c, SPDX + "checksumValue")
        if isinstance(algo, ox.NamedNode) and algo.value == SHA256 and isinstance(value, ox.Literal):
            return value.value.strip().lower()
    return None


def _stream(store: ox.Store, dataset: ox.NamedNode | ox.BlankNode) -> Optional[str]:
    """The event stream of `dataset` (a distribution or service conforming to LDES), else any in the catalog."""
    def endpoint(node: ox.NamedNode | ox.BlankNode) -> str:
        for service in _values(store, node, DCAT + "accessService"):
            if url := _iri(store, service, DCAT + "endpointURL"):
                return url
        return _iri(store, node, DCAT + "endpointURL", DCAT + "downloadURL", DCAT + "accessURL")

    conforming = [q.subject for q in store.quads_for_pattern(None, ox.NamedNode(DCTERMS + "conformsTo"),
                                                               ox.NamedNode(LDES_SPEC), None)]
    own = set(_values(store, dataset, DCAT + "distribution"))
    for node in sorted(conforming, key=lambda n: (n not in own, str(n))):
        if url := endpoint(node):
            return url
    return None


def parsed(data: bytes, fmt: ox.RdfFormat, what: str, base: str, source: str) -> ox.Store:
    """`data` in a new store, or a `SourceFormatError` naming `what` (the parser's message,
    which may quote the partner's bytes, stays out of the public text)."""
    store = ox.Store()
    try:
        store.bulk_load(data, format=fmt, base_iri=base)
    except (SyntaxError, ValueError) as e:
        raise SourceFormatError(source, f"{what} does not parse as {fmt.name}: {e}",
                                public=f"{what} does not parse as {fmt.name}") from None
    return store


def read_offer(data: bytes, catalog_url: str, media_type: Optional[str], source: str) -> Offer:
    """The newest RDF dump the catalog at `catalog_url` offers; a catalog without one, or
    one that does not parse, is a `SourceFormatError` naming the URL."""
    media = (media_type or "").split(";", 1)[0].strip().lower()
    head = data.lstrip()[:1]
    fmt = (ox.RdfFormat.JSON_LD if head in (b"{", b"[") else
           ox.RdfFormat.from_media_type(media) if media and ox.RdfFormat.from_media_type(media) else ox.RdfFormat.TURTLE)
    store = parsed(data, fmt, f"catalog {catalog_url}", catalog_url, source)
    catalogs = [q.subject for q in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(DCAT + "Catalog"), None)]
    catalog = catalogs[0] if catalogs else None
    datasets = list(dict.fromkeys(
        [o for c in catalogs for o in _values(store, c, DCAT + "dataset")]
        + [q.subject for q in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(DCAT + "Dataset"), None)]))
    # (newest dataset, best format, gzipped, stable tie-break) -> the distribution to take
    candidates: list[tuple[tuple, ox.NamedNode | ox.BlankNode, ox.NamedNode | ox.BlankNode, str, str, bool]] = []
    best_first = [f[0] for f in FORMATS]
    for ds in datasets:
        for dist in _values(store, ds, DCAT + "distribution"):
            url = _iri(store, dist, DCAT + "downloadURL", DCAT + "accessURL")
            name, gz = _format_of(store, dist, url) if url else (None, False)
            if name is None:
                continue
            when = _time(store, ds) or datetime.min.replace(tzinfo=timezone.utc)
            candidates.append(((when, -best_first.index(name), gz, str(ds), url), ds, dist, url, name, gz))
    if not candidates:
        text = (f"catalog {catalog_url} offers no dataset with an RDF distribution "
                "(N-Quads, N-Triples, Turtle or JSON-LD)")
        raise SourceFormatError(source, text, public=text)
    _, ds, dist, url, name, gz = max(candidates, key=lambda c: c[0])
    publisher = next((p for p in [*_values(store, ds, DCTERMS + "publisher"), *_values(store, ds, DCTERMS + "rightsHolder"),
                                  *(_values(store, catalog, DCTERMS + "publisher") if catalog is not None else [])]), None)
    publisher_name = _text(store, publisher, FOAF + "name", RDFS + "label") if not isinstance(publisher, ox.Literal) \
        else publisher.value
    licence = (_iri(store, dist, DCTERMS + "license") or _iri(store, ds, DCTERMS + "license")
               or _iri(store, catalog, DCTERMS + "license"))
    title = _text(store, catalog, DCTERMS + "title") or _text(store, ds, DCTERMS + "title")
    attribution = _text(store, ds, SEP_ATTRIBUTION, DCTERMS + "rights", DCTERMS + "bibliographicCitation") or (
        f"Contains data published by {publisher_name or title or catalog_url} ({catalog_url})"
        + (f", licence {licence}" if licence else "") + ".")
    dataset_iri = ds.value if isinstance(ds, ox.NamedNode) else url
    return Offer(
        catalog_url=catalog_url, dataset=dataset_iri, issued=_time(store, ds), url=url, format=name, gzip=gz,
        sha256=_checksum(store, dist), title=title, publisher=publisher_name,
        homepage=(_iri(store, publisher, FOAF + "homepage") if publisher is not None and not isinstance(publisher, ox.Literal)
                  else "") or _iri(store, catalog, FOAF + "homepage") or catalog_url,
        licence=licence, attribution=attribution, stream=_stream(store, ds),
        derived_from=tuple(dict.fromkeys([dataset_iri, *(
            [catalog.value] if isinstance(catalog, ox.NamedNode) else [])])),
        republished=republished(store),
    )


def republished(store: ox.Store) -> tuple[str, ...]:
    """The datasets of a catalog that are parts of its release (`sep:namedGraph`, as an
    se-pipeline instance describes each source) derived from another publisher's dataset
    (`prov:wasDerivedFrom`, as it describes a partner it harvests). Their records are
    that other publisher's: we take them from it, if we harvest it, not second-hand."""
    parts = {q.subject for q in store.quads_for_pattern(None, ox.NamedNode(SEP_NAMED_GRAPH), None, None)}
    return tuple(sorted({q.subject.value for q in store.quads_for_pattern(None, ox.NamedNode(PROV + "wasDerivedFrom"), None, None)
                         if q.subject in parts and isinstance(q.subject, ox.NamedNode)}))


def checksum_from_sums(sums: bytes, file_name: str) -> Optional[str]:
    """The SHA-256 a `SHA256SUMS` file (`<hex>  <name>` lines, `*` for binary mode) gives `file_name`."""
    for line in sums.decode("utf-8", errors="replace").splitlines():
        digest, _, name = line.strip().partition(" ")
        name = name.strip().lstrip("*")
        if name in (file_name, "./" + file_name) and len(digest) == 64:
            return digest.lower()
    return None
