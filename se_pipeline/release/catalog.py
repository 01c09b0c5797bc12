"""catalog.ttl: DCAT + VoID + PROV description of a release and of every source in it.

Partners decide whether they may reuse data from the licence and attribution of each
source, and whether to trust it from its provenance; so every source carries its
licence, attribution, fetch records (URL, time, sha256, encoding), counts and whether it
is stale (republished from its last good copy because this run's fetch failed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from se_pipeline import __version__
from se_pipeline.geocode.catalog import gazetteer_triples
from se_pipeline.namespaces import (
    DCAT, DCTERMS, PREFIXES, PROV, RDF_TYPE, SE_BASE, SE_GRAPH, SE_RELEASE, SE_SOURCE, SEP, VOID, XSD,
)
from se_pipeline.release.ldes import EVENT_STREAM_FILE, LDES_SPEC

SPDX = "http://spdx.org/rdf/terms#"
RELEASE_LICENCE = "https://opendatacommons.org/licenses/by/1-0/"


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
    rel = _n(f"{SE_RELEASE}{release_id}")
    run = _n(f"{SE_RELEASE}{release_id}#run")
    agent = _n(f"{SE_BASE}software/se-pipeline/{__version__}")
    for cls in (DCAT + "Dataset", VOID + "Dataset"):
        add(ox.Triple(rel, a, _n(cls)))
    add(ox.Triple(rel, _n(DCTERMS + "title"), _lit("Solidarity economy enterprises (se-pipeline release)", lang="en")))
    add(ox.Triple(rel, _n(DCTERMS + "description"), _lit(
        "Worker co-ops, fair trade enterprises, community supported agriculture, mutuals and the networks "
        "around them, joined from their public registries into one ESSGlobal-aligned linked dataset.", lang="en")))
    add(ox.Triple(rel, _n(DCTERMS + "identifier"), _lit(release_id)))
    add(ox.Triple(rel, _n(DCTERMS + "issued"), _lit(issued.strftime("%Y-%m-%dT%H:%M:%SZ"), XSD + "dateTime")))
    add(ox.Triple(rel, _n(DCTERMS + "license"), _n(RELEASE_LICENCE)))
    add(ox.Triple(rel, _n(DCTERMS + "conformsTo"), _n("http://purl.org/essglobal/vocab/")))
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
    add(ox.Triple(run, _n(PROV + "endedAtTime"), _lit(issued.strftime("%Y-%m-%dT%H:%M:%SZ"), XSD + "dateTime")))
    add(ox.Triple(run, _n(PROV + "wasAssociatedWith"), agent))
    add(ox.Triple(agent, a, _n(PROV + "SoftwareAgent")))
    add(ox.Triple(agent, _n(DCTERMS + "title"), _lit(f"se-pipeline {__version__}")))
    for f in files:
        dist = _n(f"{download_base}{release_id}/{f.path.name}")
        add(ox.Triple(rel, _n(DCAT + "distribution"), dist))
        add(ox.Triple(dist, a, _n(DCAT + "Distribution")))
        add(ox.Triple(dist, _n(DCAT + "downloadURL"), dist))
        add(ox.Triple(dist, _n(DCAT + "mediaType"), _n(f"https://www.iana.org/assignments/media-types/{f.media_type}")))
        add(ox.Triple(dist, _n(DCAT + "byteSize"), _lit(f.size, XSD + "nonNegativeInteger")))
        add(ox.Triple(dist, _n(DCTERMS + "title"), _lit(f.path.name)))
        checksum = _n(f"{download_base}{release_id}/{f.path.name}#sha256")
        add(ox.Triple(dist, _n(SPDX + "checksum"), checksum))
        add(ox.Triple(checksum, _n(SPDX + "algorithm"), _n(SPDX + "checksumAlgorithm_sha256")))
        add(ox.Triple(checksum, _n(SPDX + "checksumValue"), _lit(f.sha256, XSD + "hexBinary")))
        add(ox.Triple(dist, _n(DCTERMS + "license"), _n(RELEASE_LICENCE)))
        if f.path.name == EVENT_STREAM_FILE:  # the changes as a Linked Data Event Stream (release.ldes)
            service = _n(f"{download_base}{release_id}/{f.path.name}#service")
            add(ox.Triple(dist, _n(DCTERMS + "conformsTo"), _n(LDES_SPEC)))
            add(ox.Triple(dist, _n(DCAT + "accessService"), service))
            add(ox.Triple(service, a, _n(DCAT + "DataService")))
            add(ox.Triple(service, _n(DCTERMS + "title"), _lit("Changes release by release (Linked Data Event Stream)", lang="en")))
            add(ox.Triple(service, _n(DCAT + "endpointURL"), dist))
            add(ox.Triple(service, _n(DCAT + "servesDataset"), rel))
            add(ox.Triple(service, _n(DCTERMS + "conformsTo"), _n(LDES_SPEC)))
    for s in sources:
        ds = _n(SE_SOURCE + s.name)
        add(ox.Triple(rel, _n(VOID + "subset"), ds))
        add(ox.Triple(rel, _n(DCTERMS + "source"), ds))
        add(ox.Triple(run, _n(PROV + "used"), ds))
        for cls in (DCAT + "Dataset", VOID + "Dataset"):
            add(ox.Triple(ds, a, _n(cls)))
        add(ox.Triple(ds, _n(DCTERMS + "title"), _lit(s.title, lang="en")))
        add(ox.Triple(ds, _n(DCTERMS + "identifier"), _lit(s.name)))
        add(ox.Triple(ds, _n(DCTERMS + "publisher"), _lit(s.publisher)))
        add(ox.Triple(ds, _n(DCAT + "landingPage"), _n(s.homepage)))
        add(ox.Triple(ds, _n(DCTERMS + "license"), _n(s.licence)))
        add(ox.Triple(ds, _n(SEP + "attribution"), _lit(s.attribution, lang="en")))
        add(ox.Triple(ds, _n(DCTERMS + "rightsHolder"), _lit(s.publisher)))
        add(ox.Triple(ds, _n(SEP + "namedGraph"), _n(SE_GRAPH + s.name)))
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
            act = _n(f"{SE_SOURCE}{s.name}#fetch-{fetch.get('sha256', j)}")
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


def write_catalog(path: Path, triples: list[ox.Triple]) -> None:
    ox.serialize(triples, str(path), format=ox.RdfFormat.TURTLE,
                 prefixes={**PREFIXES, "spdx": SPDX})
