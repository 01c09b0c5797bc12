"""ESSGlobal RDF from a partner: Turtle or JSON-LD, as a file or a URL.

Format: an RDF document (Turtle, or JSON-LD with an inline `@context`; the format is
detected from the content, see `rdfgraph.detect_format`) describing
`essglobal:SSEInitiative` instances:

* names: `gr:name` (Digital Commons maps), `schema:name` (http or https schema.org),
  `foaf:name`, `rdfs:label`;
* `essglobal:hasAddress` → an address node in one of three styles: vCard
  (`vcard:street-address`, `vcard:locality`, `vcard:region`, `vcard:postal-code`,
  `vcard:country-name`), schema.org (`schema:streetAddress`, `addressLocality`, …), or
  Ordnance Survey (`osspr:within` / `ospc:postcode` pointing at a postcode-unit IRI such
  as `http://data.ordnancesurvey.co.uk/id/postcodeunit/SG80JP`, whose last segment is the
  postcode); the country may be an ISO code, a name, or an ESSGlobal `countries-iso` IRI;
* `geo:lat` / `geo:long` on the initiative or on its address;
* concepts: `essglobal:organisationalStructure`, `essglobal:primarySector`,
  `essglobal:economicSector`, `essglobal:qualifier`, `essglobal:baseMembershipType`.

ESSGlobal has been published under several bases (`https://lod.coop/essglobal/2.1/`,
`https://dev.lod.coop/essglobal/2.1/`, `https://w3id.solidarityeconomy.coop/essglobal/V2a/`,
`http://purl.org/solidarityeconomics/experimental/essglobal/`, `http://purl.org/essglobal/`),
and partner files mix them — vocabulary terms (classes, properties) as well as concepts.
Every ESSGlobal IRI in the data is first rewritten to `http://purl.org/essglobal/…` by
the one normaliser, `standard_csv.essglobal_bases.normalise_essglobal_iri`; concept values are
then checked against the scheme codes (`standard_csv`'s `essglobal_codes`) and unknown
ones reported in `notes["unmapped"]`.

Identity: the record id is the partner's IRI without its scheme (`http` and `https`
spellings of one IRI are one record — a partner switching to https keeps our IRI), and
`partner-iri:<iri>` is kept among the identifiers. An initiative that is a blank node has
no identity and is quarantined by canonicalisation. `line` is the initiative's position in
the document (1-based).
"""
from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pyoxigraph as ox

from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.essglobal_rdf.rdfgraph import (
    MULTI, Graph, detect_format, parse_graph, rows_from_graph, substitute_contexts,
)
from se_pipeline.sources.mapping import apply_mapping
from se_pipeline.sources.standard_csv.adapter import map_vocabulary
from se_pipeline.sources.standard_csv.essglobal_bases import normalise_essglobal_iri
from se_pipeline.sources.tabular import LINE, decode


def canonical_essglobal(triples: list[ox.Triple]) -> list[ox.Triple]:
    """Rewrite every ESSGlobal IRI (subject, predicate, object) to the canonical base."""
    def term(t: Any) -> Any:
        if isinstance(t, ox.NamedNode):
            iri = normalise_essglobal_iri(t.value)
            return ox.NamedNode(iri) if iri and iri != t.value else t
        return t
    return [ox.Triple(term(t.subject), term(t.predicate), term(t.object)) for t in triples]


def essglobal_codes(mapping: dict[str, Any]) -> dict[str, list[str]]:
    """The scheme codes: this source's own list if it has one, else `standard_csv`'s (one list)."""
    if mapping.get("essglobal_codes"):
        return mapping["essglobal_codes"]
    from se_pipeline.sources.registry import get_source
    return get_source("standard_csv").mapping["essglobal_codes"]


def last_segment(value: str | None) -> str | None:
    """`…/countries-iso/GB` -> `GB`, `…/postcodeunit/SG80JP` -> `SG80JP`; text unchanged."""
    if not value or "://" not in value:
        return value
    return value.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or None


def without_scheme(iri: str | None) -> str | None:
    return iri.split("://", 1)[1] if iri and "://" in iri else iri


def read_rdf(raw: bytes, ctx: SourceContext, bundled: dict[str, Any] | None = None) -> tuple[list[ox.Triple], str, str]:
    """Decode, detect the format, substitute bundled contexts, parse. Returns (triples, format, encoding)."""
    text, encoding = decode(raw, ctx.source, ctx.encoding)
    fmt = detect_format(text, ctx.url)
    if fmt == ox.RdfFormat.JSON_LD:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise SourceFormatError(ctx.source, f"not JSON: {e}") from None
        text = json.dumps(substitute_contexts(doc, bundled or {}, ctx.source))
    base = ctx.url if ctx.url.startswith(("http://", "https://", "file:")) else None
    return parse_graph(text, fmt, base, ctx.source), fmt.name, encoding


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    mapping = ctx.mapping
    triples, fmt, encoding = read_rdf(raw, ctx)
    graph = Graph(canonical_essglobal(triples), mapping.get("prefixes") or {})
    multi = {"website", "alternate_name"} | {
        spec["column"] for spec in (mapping.get("essglobal_columns") or {}).values() if spec.get("split")}
    rows = rows_from_graph(graph, mapping.get("classes") or [], mapping.get("properties") or {}, multi)
    for i, row in enumerate(rows, start=1):
        row[LINE] = i
        row["__record_id__"] = without_scheme(row["__iri__"])
    cols = list((mapping.get("properties") or {}).keys()) + ["__iri__", "__record_id__", LINE]
    frame = pd.DataFrame(rows, columns=cols, dtype="object")
    mapped, notes = apply_mapping(frame, mapping, ctx.source)
    mapped["record_id"] = frame["__record_id__"]
    mapped["identifiers"] = pd.Series([[f"partner-iri:{i}"] if i else [] for i in frame["__iri__"]],
                                      index=mapped.index, dtype="object")
    mapped["websites"] = pd.Series([v.split(MULTI) if isinstance(v, str) else [] for v in frame["website"]],
                                   index=mapped.index, dtype="object")
    mapped["alternate_names"] = pd.Series([v.split(MULTI) if isinstance(v, str) else [] for v in frame["alternate_name"]],
                                          index=mapped.index, dtype="object")
    mapped["country"] = [last_segment(v) for v in mapped["country"]]
    mapped["postcode"] = [last_segment(v) for v in mapped["postcode"]]
    for fld in ("email", "phone"):  # vCard / FOAF write mailto: and tel: IRIs
        mapped[fld] = [v.split(":", 1)[1] if isinstance(v, str) and v.lower().startswith(("mailto:", "tel:")) else v
                       for v in mapped[fld]]
    map_vocabulary(frame, mapped, {**mapping, "essglobal_codes": essglobal_codes(mapping)}, notes)
    notes.update({"encoding": encoding, "format": fmt, "initiatives": len(rows)})
    return ParseResult(mapped, [], notes)
