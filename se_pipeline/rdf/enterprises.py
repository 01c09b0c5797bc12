"""Canonical rows -> N-Triples of enterprises in our ESSGlobal-aligned model.

The model is documented in docs/architecture.md. This writer streams lines to a file
(no in-memory graph: rdflib holds ~1.3 KB per triple), formatting every term through
`rdf.terms`. Addresses are `<enterprise>#address` hash IRIs, not blank nodes, so they are
stable across releases and cheap to serialise.
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, TextIO

import pandas as pd

from se_pipeline.canonical.schema import records
from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.namespaces import (
    DCTERMS, ESSGLOBAL, GEO, RDF_TYPE, SCHEMA, SE_SOURCE, SEP,
)
from se_pipeline.rdf import terms
from se_pipeline.rdf.errors import TermError
from se_pipeline.rdf.terms import date, decimal, integer, literal

_iri = lru_cache(maxsize=65536)(terms.iri)

A = _iri(RDF_TYPE)
P = {name: _iri(ns + local) for name, ns, local in [
    ("name", SCHEMA, "name"), ("alt", SCHEMA, "alternateName"), ("desc", DCTERMS, "description"),
    ("id", DCTERMS, "identifier"), ("source", DCTERMS, "source"),
    ("os", ESSGLOBAL, "organisationalStructure"), ("primary", ESSGLOBAL, "primarySector"),
    ("sector", ESSGLOBAL, "economicSector"), ("bmt", ESSGLOBAL, "baseMembershipType"),
    ("qualifier", ESSGLOBAL, "qualifier"), ("lf", ESSGLOBAL, "legalForm"), ("lflabel", SEP, "legalFormLabel"),
    ("practice", SEP, "practice"), ("status", SEP, "status"), ("statusdate", SEP, "statusDate"),
    ("founded", SCHEMA, "foundingDate"), ("dissolved", SCHEMA, "dissolutionDate"),
    ("members", SEP, "memberCount"), ("workers", SEP, "workerCount"), ("counted", SEP, "countDate"),
    ("memberof", SEP, "memberOf"), ("regid", SEP, "registryIdentifier"), ("url", SCHEMA, "url"),
    ("email", SCHEMA, "email"), ("phone", SCHEMA, "telephone"), ("lat", GEO, "lat"), ("long", GEO, "long"),
    ("geoprecision", SEP, "geocodePrecision"), ("geocodedby", SEP, "geocodedBy"),
    ("modified", SCHEMA, "dateModified"), ("outlet", SEP, "outlet"), ("sameas", SCHEMA, "sameAs"),
    ("hasmembership", SEP, "hasMembership"), ("member", SEP, "member"), ("organisation", SEP, "organisation"),
    ("startdate", SEP, "startDate"), ("address", ESSGLOBAL, "hasAddress"),
    ("street", SCHEMA, "streetAddress"), ("locality", SCHEMA, "addressLocality"),
    ("region", SCHEMA, "addressRegion"), ("postcode", SCHEMA, "postalCode"), ("country", SCHEMA, "addressCountry"),
]}
T_INITIATIVE = _iri(ESSGLOBAL + "SSEInitiative")
T_NETWORK = _iri(ESSGLOBAL + "Network")
T_SUPPORT = _iri(SEP + "SupportOrganisation")
#: Identifier schemes whose value is the record's IRI at a partner: linked with schema:sameAs.
LINKED_ID_SCHEMES = ("dfc", "partner-iri")
T_OUTLET = _iri(ESSGLOBAL + "LocationOfSale")
T_MEMBERSHIP = _iri(SEP + "Membership")
T_ADDRESS = _iri(ESSGLOBAL + "Address")
T_POSTAL = _iri(SCHEMA + "PostalAddress")


def present(value: Any) -> bool:
    """True for a usable scalar (not None/NaN/empty string)."""
    if value is None:
        return False
    if isinstance(value, float):
        return not math.isnan(value)
    if isinstance(value, str):
        return bool(value)
    return not (pd.api.types.is_scalar(value) and pd.isna(value))


def _items(value: Any) -> Iterable[Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    return value


def member_iri(key: str, base: str) -> str:
    """`source:record_id` keys (or full IRIs) of networks -> IRI."""
    if "://" in key:
        return key
    source, _, rid = key.partition(":")
    return enterprise_iri(source, rid, base)


def enterprise_lines(row: dict[str, Any], base: str) -> list[str]:
    """All N-Triples lines of one canonical row."""
    s = terms.iri(enterprise_iri(row["source"], row["record_id"], base))
    kind = row.get("kind")
    out: list[str] = [f"{s} {A} {T_OUTLET if kind == 'outlet' else T_INITIATIVE} .\n"]
    add = out.append
    if kind == "outlet" and present(row.get("outlet_of")):
        add(f"{terms.iri(member_iri(row['outlet_of'], base))} {P['outlet']} {s} .\n")
    if kind == "network":
        add(f"{s} {A} {T_NETWORK} .\n")
    elif kind == "support":
        add(f"{s} {A} {T_SUPPORT} .\n")
    add(f"{s} {P['name']} {literal(row['name'])} .\n")
    for alt in _items(row.get("alternate_names")):
        add(f"{s} {P['alt']} {literal(alt)} .\n")
    if present(row.get("description")):
        lang = row.get("description_lang")
        add(f"{s} {P['desc']} {literal(row['description'], lang=lang if present(lang) else None)} .\n")
    add(f"{s} {P['id']} {literal(row['record_id'])} .\n")
    add(f"{s} {P['source']} {_iri(SE_SOURCE + row['source'])} .\n")
    for key, col in (("os", "organisational_structure"), ("sector", "activities"), ("qualifier", "qualifiers"),
                     ("practice", "practices")):
        for concept in _items(row.get(col)):
            add(f"{s} {P[key]} {_iri(concept)} .\n")
    for key, col in (("primary", "primary_activity"), ("bmt", "membership_type"), ("lf", "legal_form"),
                     ("status", "status")):
        if present(row.get(col)):
            add(f"{s} {P[key]} {_iri(row[col])} .\n")
    if present(row.get("legal_form_label")):
        add(f"{s} {P['lflabel']} {literal(row['legal_form_label'])} .\n")
    for key, col in (("statusdate", "status_date"), ("founded", "founded"), ("dissolved", "dissolved"),
                     ("counted", "counted_on"), ("modified", "updated")):
        if present(row.get(col)):
            add(f"{s} {P[key]} {date(row[col])} .\n")
    for key, col in (("members", "members"), ("workers", "workers")):
        if present(row.get(col)):
            add(f"{s} {P[key]} {integer(row[col])} .\n")
    for n, entry in enumerate(_items(row.get("member_of"))):
        key, _, since = str(entry).partition("@")
        network = terms.iri(member_iri(key, base))
        add(f"{s} {P['memberof']} {network} .\n")
        if since:  # a dated membership: sep:hasMembership -> sep:Membership (org:Membership)
            m = s[:-1] + f"#membership-{n}>"
            add(f"{s} {P['hasmembership']} {m} .\n")
            add(f"{m} {A} {T_MEMBERSHIP} .\n")
            add(f"{m} {P['member']} {s} .\n")
            add(f"{m} {P['organisation']} {network} .\n")
            add(f"{m} {P['startdate']} {date(since)} .\n")
    for ident in _items(row.get("identifiers")):
        add(f"{s} {P['regid']} {literal(ident)} .\n")
        scheme, _, value = ident.partition(":")
        if scheme in LINKED_ID_SCHEMES:  # a partner's own IRI for the record (DFC, ESSGlobal partner)
            try:
                add(f"{s} {P['sameas']} {terms.iri(value if '://' in value else 'https://' + value)} .\n")
            except TermError:
                pass  # kept as the registry identifier literal above
    for url in _items(row.get("websites")):
        add(f"{s} {P['url']} {terms.iri(url)} .\n")
    if present(row.get("email")):
        add(f"{s} {P['email']} {literal(row['email'])} .\n")
    if present(row.get("phone")):
        add(f"{s} {P['phone']} {literal(row['phone'])} .\n")
    if present(row.get("lat")) and present(row.get("lon")):
        add(f"{s} {P['lat']} {decimal(row['lat'])} .\n")
        add(f"{s} {P['long']} {decimal(row['lon'])} .\n")
        if present(row.get("geocode_precision")) and present(row.get("geocoded_by")):
            # the point is ours, not the source's: how precise, and from which gazetteer
            # (the catalog gives its licence and attribution)
            add(f"{s} {P['geoprecision']} {_iri(row['geocode_precision'])} .\n")
            add(f"{s} {P['geocodedby']} {_iri(row['geocoded_by'])} .\n")
    address = [(k, row.get(k)) for k in ("street", "locality", "region", "postcode", "country") if present(row.get(k))]
    if address:
        a = s[:-1] + "#address>"
        add(f"{s} {P['address']} {a} .\n")
        add(f"{a} {A} {T_ADDRESS} .\n")
        add(f"{a} {A} {T_POSTAL} .\n")
        for k, v in address:
            add(f"{a} {P[k]} {literal(v)} .\n")
    return out


def write_enterprises(frame: pd.DataFrame, out: TextIO | Path, base: str) -> dict[str, tuple[str, int]]:
    """Write every row's triples; returns {enterprise IRI: (record_id, line)} for the gate."""
    index: dict[str, tuple[str, int]] = {}
    handle = out.open("w", encoding="utf-8") if isinstance(out, Path) else out
    try:
        for row in records(frame):
            lines = enterprise_lines(row, base)
            handle.writelines(lines)
            index[enterprise_iri(row["source"], row["record_id"], base)] = (row["record_id"], int(row["line"]))
    finally:
        if isinstance(out, Path):
            handle.close()
    return index
