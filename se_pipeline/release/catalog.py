"""catalog.ttl: DCAT-AP 3 + VoID + PROV description of a release and of every source in it.

Partners decide whether they may reuse data from the licence and attribution of each
source, and whether to trust it from its provenance; so every source carries its
licence, attribution, fetch records (URL, time, sha256, encoding), counts and whether it
is stale (republished from its last good copy because this run's fetch failed).

Open-data portals and CKAN's DCAT harvester read it as DCAT-AP 3.0.1 and reject what its
SHACL shapes reject, so the description is shaped to them: one `dcat:Catalog` listing the
release and its sources, publishers as `foaf:Agent` nodes with names (and homepages),
licences as `dct:LicenseDocument`, every distribution with its access and download URL,
format (EU file-type authority), media type (IANA) and an `spdx:Checksum`, and a contact
point. Every IRI used as a value of a class-ranged property is typed here, since a
harvester validates without inference. tests/release/test_catalog.py runs the official
shapes.

The release's size on disk: releases share unchanged files through hard links, so the
release dataset states `sep:diskBytes` (every file of the release, a hard-linked file
once, catalog.ttl and SHA256SUMS included) and `sep:diskBytesAdded` (the bytes of its files
not hard-linked from the previous release, `dcat:previousVersion`): what keeping this
release costs. Not `dcat:byteSize`: DCAT gives that property the domain
`dcat:Distribution` (one downloadable file, as each distribution here states it), and a
release is a folder of files, no one of which is the release.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import pyoxigraph as ox

from se_pipeline import __version__
from se_pipeline.geocode.catalog import gazetteer_triples
from se_pipeline.namespaces import (
    DCAT, DCTERMS, FOAF, PREFIXES, PROV, RDF_TYPE, SE_BASE, SE_GRAPH, SE_RELEASE, SE_SOURCE, SEP, VCARD, VOID, XSD,
)
from se_pipeline.release.disk_usage import FileIndex, checksum_line_bytes, release_size
from se_pipeline.release.errors import ReleaseError
from se_pipeline.release.ldes import EVENT_STREAM_FILE, LDES_SPEC

SPDX = "http://spdx.org/rdf/terms#"
RELEASE_LICENCE = "https://opendatacommons.org/licenses/by/1-0/"
#: The catalog every release is listed in (a harvester's entry point; stable across releases).
CATALOG = SE_BASE + "catalog"
#: Who publishes the releases, and whom to contact about them.
PUBLISHER = SE_BASE + "agent/se-pipeline"
CONTACT = SE_BASE + "agent/se-pipeline#contact"
HOMEPAGE = SE_BASE
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA = "https://www.iana.org/assignments/media-types/"
#: media type -> EU file-type authority code (DCAT-AP's controlled vocabulary for dct:format)
FORMATS = {
    "text/turtle": "RDF_TURTLE", "application/ld+json": "JSON_LD", "application/n-quads": "RDF_N_QUADS",
    "text/csv": "CSV", "application/json": "JSON", "application/geo+json": "GEOJSON", "text/html": "HTML",
}


@dataclass
class SourceSummary:
    """What the catalog says about one source in one release."""

    name: str
    title: str
    publisher: str
    homepage: str
    licence: str
    attribution: str
    triples: int
    entities: int
    quarantined: int
    stale: bool
    stale_reason: str | None
    fetches: list[dict[str, Any]] = field(default_factory=list)
    classes: dict[str, int] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)  # added / removed / changed since the previous release
    geocoded: dict[str, int] = field(default_factory=dict)  # gazetteer id -> records the pipeline placed with it
    derived_from: list[str] = field(default_factory=list)  # a harvested partner's dataset and catalog IRIs


@dataclass
class DistributionFile:
    path: Path
    media_type: str
    sha256: str
    size: int


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _lit(value: Any, datatype: str | None = None, lang: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(str(value), language=lang)
    return ox.Literal(str(value), datatype=_n(datatype)) if datatype else ox.Literal(str(value))


def catalog_triples(
    *, release_id: str, issued: datetime, sources: list[SourceSummary], total_triples: int,
    total_entities: int, classes: dict[str, int], files: list[DistributionFile], download_base: str,
) -> list[ox.Triple]:
    t: list[ox.Triple] = []
    add = t.append
    a = _n(RDF_TYPE)
    when = _lit(issued.strftime("%Y-%m-%dT%H:%M:%SZ"), XSD + "dateTime")
    catalog = _n(CATALOG)
    rel = _n(f"{SE_RELEASE}{release_id}")
    run = _n(f"{SE_RELEASE}{release_id}#run")
    agent = _n(f"{SE_BASE}software/se-pipeline/{__version__}")
    publisher, contact = _n(PUBLISHER), _n(CONTACT)
    typed: set[tuple[str, str]] = set()

    def typed_as(iri: str, cls: str) -> ox.NamedNode:
        """`iri`, typed `cls` once (a value of a class-ranged DCAT-AP property)."""
        if (iri, cls) not in typed:
            typed.add((iri, cls))
            add(ox.Triple(_n(iri), a, _n(cls)))
        return _n(iri)

    add(ox.Triple(catalog, a, _n(DCAT + "Catalog")))
    add(ox.Triple(catalog, _n(DCTERMS + "title"), _lit("se-pipeline: the solidarity economy as linked open data", lang="en")))
    add(ox.Triple(catalog, _n(DCTERMS + "description"), _lit(
        "Every release of the se-pipeline dataset of solidarity economy enterprises, and the upstream "
        "sources each release republishes.", lang="en")))
    add(ox.Triple(catalog, _n(DCTERMS + "publisher"), publisher))
    add(ox.Triple(catalog, _n(FOAF + "homepage"), typed_as(HOMEPAGE, FOAF + "Document")))
    add(ox.Triple(catalog, _n(DCTERMS + "license"), typed_as(RELEASE_LICENCE, DCTERMS + "LicenseDocument")))
    add(ox.Triple(catalog, _n(DCTERMS + "modified"), when))
    add(ox.Triple(catalog, _n(DCAT + "dataset"), rel))
    add(ox.Triple(publisher, a, _n(FOAF + "Agent")))
    add(ox.Triple(publisher, _n(FOAF + "name"), _lit("se-pipeline")))
    add(ox.Triple(publisher, _n(FOAF + "homepage"), typed_as(HOMEPAGE, FOAF + "Document")))
    add(ox.Triple(contact, a, _n(VCARD + "Kind")))
    add(ox.Triple(contact, a, _n(VCARD + "Organization")))
    add(ox.Triple(contact, _n(VCARD + "fn"), _lit("se-pipeline data stewards")))
    add(ox.Triple(contact, _n(VCARD + "hasURL"), _n(HOMEPAGE)))

    for cls in (DCAT + "Dataset", VOID + "Dataset"):
        add(ox.Triple(rel, a, _n(cls)))
    add(ox.Triple(rel, _n(DCTERMS + "title"), _lit("Solidarity economy enterprises (se-pipeline release)", lang="en")))
    add(ox.Triple(rel, _n(DCTERMS + "description"), _lit(
        "Worker co-ops, fair trade enterprises, community supported agriculture, mutuals and the networks "
        "around them, joined from their public registries into one ESSGlobal-aligned linked dataset.", lang="en")))
    add(ox.Triple(rel, _n(DCTERMS + "identifier"), _lit(release_id)))
    add(ox.Triple(rel, _n(DCTERMS + "issued"), when))
    add(ox.Triple(rel, _n(DCTERMS + "publisher"), publisher))
    add(ox.Triple(rel, _n(DCAT + "contactPoint"), contact))
    add(ox.Triple(rel, _n(DCTERMS + "license"), typed_as(RELEASE_LICENCE, DCTERMS + "LicenseDocument")))
    add(ox.Triple(rel, _n(DCTERMS + "conformsTo"), typed_as("http://purl.org/essglobal/vocab/", DCTERMS + "Standard")))
    add(ox.Triple(rel, _n(VOID + "triples"), _lit(total_triples, XSD + "integer")))
    add(ox.Triple(rel, _n(VOID + "entities"), _lit(total_entities, XSD + "integer")))
    add(ox.Triple(rel, _n(VOID + "vocabulary"), _n("http://purl.org/essglobal/vocab/")))
    add(ox.Triple(rel, _n(VOID + "sparqlEndpoint"), _n(f"{SE_BASE}sparql")))
    add(ox.Triple(rel, _n(PROV + "wasGeneratedBy"), run))
    for i, (cls, count) in enumerate(sorted(classes.items())):
        part = _n(f"{SE_RELEASE}{release_id}#class-{i}")
        add(ox.Triple(rel, _n(VOID + "classPartition"), part))
        add(ox.Triple(part, _n(VOID + "class"), _n(cls)))
        add(ox.Triple(part, _n(VOID + "entities"), _lit(count, XSD + "integer")))
    add(ox.Triple(run, a, _n(PROV + "Activity")))
    add(ox.Triple(run, _n(PROV + "endedAtTime"), when))
    add(ox.Triple(run, _n(PROV + "wasAssociatedWith"), agent))
    add(ox.Triple(agent, a, _n(PROV + "SoftwareAgent")))
    add(ox.Triple(agent, _n(DCTERMS + "title"), _lit(f"se-pipeline {__version__}")))
    for f in files:
        url = f"{download_base}{release_id}/{f.path.name}"
        dist = _n(url)
        add(ox.Triple(rel, _n(DCAT + "distribution"), dist))
        add(ox.Triple(dist, a, _n(DCAT + "Distribution")))
        add(ox.Triple(dist, _n(DCAT + "accessURL"), dist))
        add(ox.Triple(dist, _n(DCAT + "downloadURL"), dist))
        add(ox.Triple(dist, _n(DCTERMS + "title"), _lit(f.path.name)))
        add(ox.Triple(dist, _n(DCTERMS + "description"), _lit(
            f"{f.path.name} of release {release_id} ({f.media_type})", lang="en")))
        add(ox.Triple(dist, _n(DCAT + "mediaType"), typed_as(IANA + f.media_type, DCTERMS + "MediaType")))
        if f.media_type in FORMATS:
            add(ox.Triple(dist, _n(DCTERMS + "format"),
                          typed_as(FILE_TYPE + FORMATS[f.media_type], DCTERMS + "MediaTypeOrExtent")))
        if f.path.name.endswith(".gz"):
            add(ox.Triple(dist, _n(DCAT + "compressFormat"), typed_as(IANA + "application/gzip", DCTERMS + "MediaType")))
        add(ox.Triple(dist, _n(DCAT + "byteSize"), _lit(f.size, XSD + "nonNegativeInteger")))
        checksum = _n(f"{url}#sha256")
        add(ox.Triple(dist, _n(SPDX + "checksum"), checksum))
        add(ox.Triple(checksum, a, _n(SPDX + "Checksum")))
        add(ox.Triple(checksum, _n(SPDX + "algorithm"), typed_as(SPDX + "checksumAlgorithm_sha256",
                                                                   SPDX + "ChecksumAlgorithm")))
        add(ox.Triple(checksum, _n(SPDX + "checksumValue"), _lit(f.sha256, XSD + "hexBinary")))
        add(ox.Triple(dist, _n(DCTERMS + "license"), typed_as(RELEASE_LICENCE, DCTERMS + "LicenseDocument")))
        if f.path.name == EVENT_STREAM_FILE:  # the changes as a Linked Data Event Stream (release.ldes)
            service = _n(f"{download_base}{release_id}/{f.path.name}#service")
            add(ox.Triple(dist, _n(DCTERMS + "conformsTo"), typed_as(LDES_SPEC, DCTERMS + "Standard")))
            add(ox.Triple(dist, _n(DCAT + "accessService"), service))
            add(ox.Triple(service, a, _n(DCAT + "DataService")))
            add(ox.Triple(service, _n(DCTERMS + "title"), _lit("Changes release by release (Linked Data Event Stream)", lang="en")))
            add(ox.Triple(service, _n(DCAT + "endpointURL"), dist))
            add(ox.Triple(service, _n(DCAT + "servesDataset"), rel))
            add(ox.Triple(service, _n(DCTERMS + "conformsTo"), typed_as(LDES_SPEC, DCTERMS + "Standard")))
    for s in sources:
        ds = _n(SE_SOURCE + s.name)
        add(ox.Triple(catalog, _n(DCAT + "dataset"), ds))
        add(ox.Triple(rel, _n(VOID + "subset"), ds))
        add(ox.Triple(rel, _n(DCTERMS + "source"), ds))
        add(ox.Triple(run, _n(PROV + "used"), ds))
        for cls in (DCAT + "Dataset", VOID + "Dataset"):
            add(ox.Triple(ds, a, _n(cls)))
        add(ox.Triple(ds, _n(DCTERMS + "title"), _lit(s.title, lang="en")))
        add(ox.Triple(ds, _n(DCTERMS + "description"), _lit(
            f"{s.title}, as published by {s.publisher} ({s.homepage}), mapped to ESSGlobal and republished "
            f"in the named graph <{SE_GRAPH}{s.name}> of each se-pipeline release. {s.attribution}", lang="en")))
        add(ox.Triple(ds, _n(DCTERMS + "identifier"), _lit(s.name)))
        source_publisher = _n(f"{SE_SOURCE}{s.name}#publisher")
        add(ox.Triple(ds, _n(DCTERMS + "publisher"), source_publisher))
        add(ox.Triple(source_publisher, a, _n(FOAF + "Agent")))
        add(ox.Triple(source_publisher, _n(FOAF + "name"), _lit(s.publisher)))
        add(ox.Triple(source_publisher, _n(FOAF + "homepage"), typed_as(s.homepage, FOAF + "Document")))
        add(ox.Triple(ds, _n(DCAT + "landingPage"), typed_as(s.homepage, FOAF + "Document")))
        add(ox.Triple(ds, _n(DCAT + "contactPoint"), contact))
        add(ox.Triple(ds, _n(DCTERMS + "license"), typed_as(s.licence, DCTERMS + "LicenseDocument")))
        add(ox.Triple(ds, _n(SEP + "attribution"), _lit(s.attribution, lang="en")))
        add(ox.Triple(ds, _n(DCTERMS + "rightsHolder"), source_publisher))
        add(ox.Triple(ds, _n(SEP + "namedGraph"), _n(SE_GRAPH + s.name)))
        for upstream in s.derived_from:  # a partner's release we harvested (sources/dcat_catalog)
            add(ox.Triple(ds, _n(PROV + "wasDerivedFrom"), _n(upstream)))
        add(ox.Triple(ds, _n(VOID + "triples"), _lit(s.triples, XSD + "integer")))
        add(ox.Triple(ds, _n(VOID + "entities"), _lit(s.entities, XSD + "integer")))
        add(ox.Triple(ds, _n(SEP + "quarantinedRecords"), _lit(s.quarantined, XSD + "integer")))
        add(ox.Triple(ds, _n(SEP + "stale"), _lit("true" if s.stale else "false", XSD + "boolean")))
        for change in ("added", "removed", "changed"):
            add(ox.Triple(ds, _n(SEP + f"records{change.capitalize()}"), _lit(s.changes.get(change, 0), XSD + "integer")))
        if s.stale_reason:
            add(ox.Triple(ds, _n(SEP + "staleReason"), _lit(s.stale_reason)))
        for cls, count in sorted(s.classes.items()):
            part = _n(f"{SE_SOURCE}{s.name}#class-{cls.rsplit('/', 1)[-1].rsplit('#', 1)[-1]}")
            add(ox.Triple(ds, _n(VOID + "classPartition"), part))
            add(ox.Triple(part, _n(VOID + "class"), _n(cls)))
            add(ox.Triple(part, _n(VOID + "entities"), _lit(count, XSD + "integer")))
        for j, fetch in enumerate(s.fetches):
            act = _n(f"{SE_SOURCE}{s.name}#fetch-{fetch.get('sha256') or j}")
            add(ox.Triple(ds, _n(PROV + "wasGeneratedBy"), act))
            add(ox.Triple(act, a, _n(PROV + "Activity")))
            if fetch.get("url"):
                try:
                    add(ox.Triple(act, _n(PROV + "used"), _n(fetch["url"])))
                except ValueError:
                    add(ox.Triple(act, _n(SEP + "fetchedUrl"), _lit(fetch["url"])))
            if fetch.get("fetched_at"):
                add(ox.Triple(act, _n(PROV + "endedAtTime"), _lit(fetch["fetched_at"], XSD + "dateTime")))
            for key, prop in (("sha256", "sha256"), ("etag", "etag"), ("last_modified", "lastModified"),
                              ("encoding", "encoding"), ("status", "httpStatus"), ("byte_size", "byteSize")):
                if fetch.get(key) not in (None, ""):
                    add(ox.Triple(act, _n(SEP + prop), _lit(fetch[key])))
    t += gazetteer_triples(rel, run, {s.name: s.geocoded for s in sources})
    return t


CATALOG_FILE = "catalog.ttl"
CHECKSUMS_FILE = "SHA256SUMS"


def _top_level_bytes(directory: Path) -> int:
    """The bytes of the files directly in `directory`, the catalog aside."""
    return sum(e.stat(follow_symlinks=False).st_size for e in os.scandir(directory)
               if e.is_file(follow_symlinks=False) and e.name != CATALOG_FILE)


def write_catalog(path: Path, triples: list[ox.Triple]) -> None:
    ox.serialize(triples, str(path), format=ox.RdfFormat.TURTLE,
                 prefixes={**PREFIXES, "spdx": SPDX, "filetype": FILE_TYPE})


def write_catalog_with_size(directory: Path, triples: list[ox.Triple], release_id: str,
                            previous: Path | None, rewrite_listing: Callable[[], None] = lambda: None,
                            previous_files: FileIndex | None = None) -> FileIndex | None:
    """`directory`/catalog.ttl with the release's size on disk (and `previous`, the
    release it follows): the last file written but for SHA256SUMS.

    Every other file is measured (`release_size`, `previous`'s inodes left out of the
    `added` figures). The two last files are new, and their sizes are known before they
    exist: SHA256SUMS is one line per path, and the catalog counts itself. The pages that
    list the catalog's size and checksum (the landing pages) are re-written by
    `rewrite_listing` after each version of it, as new top-level files; the catalog is
    re-written until the figure it states includes its own length and theirs (which
    change only when a figure gains a digit). `previous_files`: the previous release's
    `FileIndex`, which spares listing it and a `stat` of the files they share. Returns
    this release's index of the files below its top level (`FileIndex.with_top_level`
    completes it once the release is final)."""
    path = directory / CATALOG_FILE
    path.unlink(missing_ok=True)  # a first version, without the size, for the landing page
    rest = release_size(directory, previous, previous_files)
    top_level = _top_level_bytes(directory)
    if (directory / CHECKSUMS_FILE).exists():
        raise ReleaseError(f"{directory}: {CHECKSUMS_FILE} is written after the catalog, not before")
    rel = _n(f"{SE_RELEASE}{release_id}")
    checksums = rest.checksum_lines + checksum_line_bytes(CATALOG_FILE)
    extra: list[ox.Triple] = []
    if previous is not None:
        extra.append(ox.Triple(rel, _n(DCAT + "previousVersion"), _n(f"{SE_RELEASE}{previous.name}")))
    own = rewritten = 0
    for _ in range(5):
        late = checksums + own + rewritten
        stated = [
            ox.Triple(rel, _n(SEP + "diskBytes"), _lit(rest.bytes + late, XSD + "nonNegativeInteger")),
            ox.Triple(rel, _n(SEP + "diskBytesAdded"), _lit(rest.added_bytes + late, XSD + "nonNegativeInteger")),
        ]
        write_catalog(path, triples + extra + stated)
        rewrite_listing()
        written, grown = path.stat().st_size, _top_level_bytes(directory) - top_level
        if (written, grown) == (own, rewritten):
            return rest.index
        own, rewritten = written, grown
    raise ReleaseError(f"{path}: the catalog's size does not settle")  # a serialiser that is not deterministic
