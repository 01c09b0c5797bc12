"""Open Food Network enterprises as Data Food Consortium (DFC) JSON-LD.

Format: JSON-LD (UTF-8) as served by OFN's DFC API (`/api/dfc/enterprises/<id>`, or an
export of many enterprises): a document whose `@context` is usually the REMOTE DFC
context (`"https://www.datafoodconsortium.org"`) and whose `@graph` holds nodes typed
`dfc-b:Enterprise`, `dfc-b:Address`, `dfc-b:PhoneNumber`, `dfc-b:SuppliedProduct`,
`dfc-b:CatalogItem`, … linked by IRI (DFC business ontology
`https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#`):

* enterprise: `dfc-b:name`, `dfc-b:hasDescription`, `dfc-b:websitePage`, `dfc-b:email`,
  `dfc-b:hasPhoneNumber` → `dfc-b:phoneNumber`, `dfc-b:hasAddress`, `dfc-b:supplies`
  (products: a producer), `dfc-b:coordinates` (order cycles / sale sessions: a hub),
  `dfc-b:manages` (catalog items), `dfc-b:hasCertification` /
  `dfc-b:hasLabellingCharacteristic` (on the enterprise or on its supplied products);
* address: `dfc-b:hasStreet`, `dfc-b:hasCity`, `dfc-b:hasPostalCode`, `dfc-b:region`,
  `dfc-b:hasCountry` (a name, an ISO code, or a country IRI whose last segment is an
  ISO alpha-2/alpha-3 code), `dfc-b:latitude`, `dfc-b:longitude`.

The document is parsed AS RDF (Oxigraph's JSON-LD parser). Parsing never touches the
network: remote contexts listed in `source.yaml` (`remote_contexts`) are replaced by the
bundled `dfc_context.json`; any other remote context is a format error naming it.

Identity: record id = the enterprise's DFC IRI without its scheme (OFN instances are
separate hosts, so the host stays in the id); `dfc:<iri>` is kept among the identifiers so
the RDF stage can link back (owl:sameAs / rdfs:seeAlso). Practices come from the
enterprise's roles (hub → FoodHub, every enterprise → LocalFoodSystem), qualifiers from
certification concepts (organic, local, fair trade), both as code tables in `source.yaml`.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.essglobal_rdf.adapter import last_segment, read_rdf, without_scheme
from se_pipeline.sources.essglobal_rdf.rdfgraph import MULTI, Graph, rows_from_graph
from se_pipeline.sources.mapping import apply_mapping
from se_pipeline.sources.tabular import LINE

FOLDER = Path(__file__).resolve().parent


@lru_cache(maxsize=8)
def _context(name: str) -> Any:
    """A bundled context file's `@context` value (file names only, inside this folder)."""
    path = (FOLDER / name).resolve()
    if path.parent != FOLDER:
        raise ValueError(f"bundled context {name!r} must be a file of {FOLDER}")
    return json.loads(path.read_text(encoding="utf-8"))["@context"]


def bundled_contexts(mapping: dict[str, Any]) -> dict[str, Any]:
    return {url: _context(name) for url, name in (mapping.get("remote_contexts") or {}).items()}


def _local_name(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rstrip("/").rsplit("/", 1)[-1]


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    mapping = ctx.mapping
    triples, fmt, encoding = read_rdf(raw, ctx, bundled_contexts(mapping))
    graph = Graph(triples, mapping.get("prefixes") or {})
    props = mapping.get("properties") or {}
    rows = rows_from_graph(graph, mapping.get("classes") or [], props, {"website", "certifications"})
    roles = {word: graph.expand(p) for word, p in (mapping.get("roles") or {}).items()}
    subjects = graph.of_types(mapping.get("classes") or [])
    for i, (row, subject) in enumerate(zip(rows, subjects), start=1):
        row[LINE] = i
        row["__record_id__"] = without_scheme(row["__iri__"])
        row["roles"] = MULTI.join(w for w, p in roles.items() if graph.objects(subject, p)) or None
        certs = row.get("certifications")
        row["certifications"] = MULTI.join(_local_name(c) for c in certs.split(MULTI)) if certs else None
    cols = list(props) + ["roles", "__iri__", "__record_id__", LINE]
    frame = pd.DataFrame(rows, columns=cols, dtype="object")
    mapped, notes = apply_mapping(frame, mapping, ctx.source)
    mapped["record_id"] = frame["__record_id__"]
    mapped["identifiers"] = pd.Series([[f"dfc:{i}"] if i else [] for i in frame["__iri__"]],
                                      index=mapped.index, dtype="object")
    mapped["websites"] = pd.Series([v.split(MULTI) if isinstance(v, str) else [] for v in frame["website"]],
                                   index=mapped.index, dtype="object")
    mapped["country"] = [last_segment(v) for v in mapped["country"]]
    mapped["kind"] = "enterprise"
    notes.update({"encoding": encoding, "format": fmt, "enterprises": len(rows)})
    return ParseResult(mapped, [], notes)
