"""A partner's records (N-Triples, as `harvest` keeps them) -> canonical rows.

The rows serve what works on the canonical table: identity links with our other sources,
counts and checks, the partner exports (standard CSV, GeoJSON, Murmurations). They are
read with `essglobal_rdf`'s mapping (names, addresses, contacts and concepts in the
ESSGlobal, schema.org, vCard and FOAF spellings). The published graph is not made from
them: it is the partner's own statements (`records.gated_lines`).

Identity: the record id is the partner's IRI in angle brackets (`identity.iri`: such an
id *is* the IRI, never re-minted under our base), and `partner-iri:<iri>` is kept among
the identifiers, as `essglobal_rdf` does.
"""
from __future__ import annotations

from se_pipeline.identity.iri import foreign_id
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.essglobal_rdf import adapter as essglobal_rdf


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    result = essglobal_rdf.parse(raw, ctx)
    frame = result.frame
    iris = [next((i.split(":", 1)[1] for i in ids if i.startswith("partner-iri:")), None)
            for ids in frame["identifiers"]]
    frame["record_id"] = [foreign_id(i) if i else None for i in iris]
    result.notes["format"] = "N-Triples (the partner's records as last imported)"
    return result
