"""The links graph (`https://w3id.org/se-pipeline/graph/links`) as N-Triples.

Three layers, so that both OWL-minded and plain-SPARQL users are served:

* `<a> owl:sameAs <b>` for every link decided "same";
* one statement node per link (same *or* uncertain), so evidence and score are plain
  triples, not reification::

    <https://w3id.org/se-pipeline/link/<sha1("a\\nb") of the sorted pair>> a sep:Link ;
        sep:subjectRecord <a> ; sep:objectRecord <b> ;
        sep:evidence "registry-id" ; sep:score "0.97"^^xsd:decimal ; sep:decision "same" .

  `renumbered` links also get `<new> dcterms:replaces <old>` and
  `<old> dcterms:isReplacedBy <new>`;
* a merged view per cluster of "same" records::

    <https://w3id.org/se-pipeline/enterprise/<sha1(cluster id)>> a sep:Enterprise ;
        sep:hasRecord <record> ... ;
        schema:name "…" ;                          # from the richest record
        sep:valueSource <…enterprise/<h>#v-<sha1(field, value)>> ... .
    <…#v-…> a sep:Attribution ; sep:field "name" ; sep:value "…" ;
        sep:fromRecord <record> ... .              # every record giving that value

  Attributions cover name, website, postcode, country, lat, long (lat/long values as
  xsd:decimal, website as an IRI). The cluster id is the smallest record IRI (see
  `match.clusters`), so the enterprise IRI changes only when that record leaves or a
  record with a smaller IRI joins.

Every term is written through `se_pipeline.rdf.terms`.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterable, Iterator

import pandas as pd

from se_pipeline.canonical.schema import records as frame_records
from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.identity.match import clusters as cluster_map
from se_pipeline.namespaces import DCTERMS, DEFAULT_DATA_BASE, OWL, RDF_TYPE, SCHEMA, SE_BASE, SE_GRAPH, SEP
from se_pipeline.rdf.errors import TermError
from se_pipeline.rdf.terms import decimal, iri, literal, triple

LINKS_GRAPH = SE_GRAPH + "links"
LINK_BASE = SE_BASE + "link/"
ENTERPRISE_BASE = SE_BASE + "enterprise/"
_ATTRIBUTED = ("name", "website", "postcode", "country", "lat", "long")


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def link_iri(a: str, b: str) -> str:
    """IRI of the statement node of the link between records a and b (order-free)."""
    x, y = sorted((a, b))
    return LINK_BASE + _sha1(f"{x}\n{y}")


def enterprise_view_iri(cluster_id: str) -> str:
    """IRI of the merged enterprise of a cluster (see `match.clusters`)."""
    return ENTERPRISE_BASE + _sha1(cluster_id)


def link_triples(links: pd.DataFrame) -> Iterator[str]:
    """Statement nodes for every link row, then owl:sameAs and dcterms:replaces, each
    record's together: a subject's statements on consecutive lines are one JSON-LD node
    object without the release holding them back (`release.part_slices`)."""
    p_type, p_same = iri(RDF_TYPE), iri(OWL + "sameAs")
    c_link = iri(SEP + "Link")
    p_subject, p_object = iri(SEP + "subjectRecord"), iri(SEP + "objectRecord")
    p_evidence, p_score, p_decision = iri(SEP + "evidence"), iri(SEP + "score"), iri(SEP + "decision")
    p_replaces, p_replaced = iri(DCTERMS + "replaces"), iri(DCTERMS + "isReplacedBy")
    about: dict[str, list[str]] = {}  # record IRI -> its statements, records in the order first met
    for a, b, ev, score, dec in zip(links["iri_a"], links["iri_b"], links["evidence"], links["score"], links["decision"]):
        ta, tb = iri(a), iri(b)
        if dec == "same":
            about.setdefault(a, []).append(triple(ta, p_same, tb))
        node = iri(link_iri(a, b))
        yield triple(node, p_type, c_link)
        yield triple(node, p_subject, ta)
        yield triple(node, p_object, tb)
        yield triple(node, p_evidence, literal(str(ev)))
        yield triple(node, p_score, decimal(round(float(score), 4)))
        yield triple(node, p_decision, literal(str(dec)))
        if ev == "renumbered":  # a = old record, b = new record
            about.setdefault(b, []).append(triple(tb, p_replaces, ta))
            about.setdefault(a, []).append(triple(ta, p_replaced, tb))
    for lines in about.values():
        yield from lines


def _values(row: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """(field, N-Triples object) pairs a record contributes to its enterprise."""
    if isinstance(row.get("name"), str) and row["name"]:
        yield "name", literal(row["name"])
    for url in row.get("websites") or []:
        try:
            yield "website", iri(url)
        except TermError:
            continue
    for fld in ("postcode", "country"):
        v = row.get(fld)
        if isinstance(v, str) and v:
            yield fld, literal(v)
    for fld, out in (("lat", "lat"), ("lon", "long")):
        v = row.get(fld)
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if f == f:
            yield out, decimal(f)


def _richness(row: dict[str, Any]) -> int:
    return sum(1 for _ in _values(row)) + len(row.get("identifiers") or [])


def enterprise_triples(links: pd.DataFrame, records: pd.DataFrame, base: str = DEFAULT_DATA_BASE) -> Iterator[str]:
    """The merged sep:Enterprise view of every cluster of "same" links.

    `records` is the concatenated canonical frames (any source); records absent from it
    (e.g. withdrawn and not republished) still get sep:hasRecord but no attributions.
    """
    cmap = cluster_map(links)
    if not cmap:
        return
    iris = [enterprise_iri(str(s), str(r), base) for s, r in zip(records["source"], records["record_id"])]
    wanted = [k for k, i in enumerate(iris) if i in cmap]  # only clustered records, as dicts
    recs: dict[str, dict[str, Any]] = {}
    for k, row in zip(wanted, frame_records(records.iloc[wanted])):
        recs.setdefault(iris[k], {**row, "_iri": iris[k]})
    members: dict[str, list[str]] = {}
    for rec, cid in cmap.items():
        members.setdefault(cid, []).append(rec)
    p_type, p_has, c_enterprise = iri(RDF_TYPE), iri(SEP + "hasRecord"), iri(SEP + "Enterprise")
    p_name, p_value_source, c_attribution = iri(SCHEMA + "name"), iri(SEP + "valueSource"), iri(SEP + "Attribution")
    p_field, p_value, p_from = iri(SEP + "field"), iri(SEP + "value"), iri(SEP + "fromRecord")
    for cid in sorted(members):
        ent = enterprise_view_iri(cid)
        te = iri(ent)
        yield triple(te, p_type, c_enterprise)
        recs_in = sorted(members[cid])
        for rec in recs_in:
            yield triple(te, p_has, iri(rec))
        rows = [recs[r] for r in recs_in if r in recs]
        if not rows:
            continue
        best = max(rows, key=lambda r: (_richness(r), [-ord(c) for c in r["_iri"]]))
        if isinstance(best.get("name"), str):
            yield triple(te, p_name, literal(best["name"]))
        attributions: dict[tuple[str, str], list[str]] = {}
        for row in rows:
            for fld, obj in _values(row):
                attributions.setdefault((fld, obj), []).append(row["_iri"])
        nodes: list[str] = []  # after the enterprise's own statements, which stay together
        for (fld, obj), from_records in sorted(attributions.items()):
            node = iri(f"{ent}#v-{_sha1(fld + chr(10) + obj)[:16]}")
            yield triple(te, p_value_source, node)
            nodes += [triple(node, p_type, c_attribution), triple(node, p_field, literal(fld)),
                      triple(node, p_value, obj)]
            nodes += [triple(node, p_from, iri(rec)) for rec in sorted(set(from_records))]
        yield from nodes


def write_links(path: Path, links: pd.DataFrame, records: pd.DataFrame, base: str = DEFAULT_DATA_BASE) -> int:
    """Write the links graph's N-Triples to `path` (atomically); returns the triple count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as out:
        for line in link_triples(links):
            out.write(line)
            n += 1
        for line in enterprise_triples(links, records, base):
            out.write(line)
            n += 1
    tmp.replace(path)
    return n
