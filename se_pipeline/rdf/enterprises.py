"""Canonical rows -> N-Triples of enterprises in our ESSGlobal-aligned model.

The model is documented in docs/architecture.md. This writer streams lines to a file
(no in-memory graph: rdflib holds ~1.3 KB per triple), formatting every term through
`rdf.terms`. Addresses are `<enterprise>#address` hash IRIs, not blank nodes, so they are
stable across releases and cheap to serialise.

Beside our schema.org terms every record also carries the ESSGlobal profile that Digital
Commons' data and Mykomap's SPARQL queries read (docs/essglobal-profile.md): `gr:name`,
one `foaf:homepage`, vCard address parts and `geo:lat`/`geo:long` on the address, which is
`osspatialrelations:within` itself, and `vcard:hasEmail <mailto:…>`. Every record has an
address node, even an empty one, and outlets are SSE initiatives too: those queries join
through the address and select `essglobal:SSEInitiative`, and a record they cannot reach
is a record missing from the partner's map.
"""
from __future__ import annotations

import hashlib
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, TextIO

import pandas as pd

from se_pipeline.canonical.schema import records
from se_pipeline.identity.iri import enterprise_iri
import pycountry

from se_pipeline.namespaces import (
    DCTERMS, ESSGLOBAL, FOAF, GEO, GR, OS_SPATIAL, RDF_TYPE, SCHEMA, SE_SOURCE, SEP, VCARD,
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
    ("modified", SCHEMA, "dateModified"), ("withdrawnon", SEP, "withdrawnOn"), ("outlet", SEP, "outlet"),
    ("sameas", SCHEMA, "sameAs"),
    ("hasmembership", SEP, "hasMembership"), ("member", SEP, "member"), ("organisation", SEP, "organisation"),
    ("startdate", SEP, "startDate"), ("address", ESSGLOBAL, "hasAddress"),
    ("street", SCHEMA, "streetAddress"), ("locality", SCHEMA, "addressLocality"),
    ("region", SCHEMA, "addressRegion"), ("postcode", SCHEMA, "postalCode"), ("country", SCHEMA, "addressCountry"),
    # the ESSGlobal profile (see the module docstring)
    ("grname", GR, "name"), ("homepage", FOAF, "homepage"), ("hasemail", VCARD, "hasEmail"),
    ("within", OS_SPATIAL, "within"),
    ("vstreet", VCARD, "street-address"), ("vlocality", VCARD, "locality"), ("vregion", VCARD, "region"),
    ("vpostcode", VCARD, "postal-code"), ("vcountry", VCARD, "country-name"),
]}
#: canonical address field -> (schema.org key, vCard key) in `P`
ADDRESS_FIELDS = (("street", "vstreet"), ("locality", "vlocality"), ("region", "vregion"),
                  ("postcode", "vpostcode"), ("country", "vcountry"))
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


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    """vCard's `country-name` of an ISO 3166-1 alpha-2 code (the code itself if unknown)."""
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


def enterprise_lines(row: dict[str, Any], base: str) -> list[str]:
    """All N-Triples lines of one canonical row."""
    s = terms.iri(enterprise_iri(row["source"], row["record_id"], base))
    kind = row.get("kind")
    out: list[str] = [f"{s} {A} {T_INITIATIVE} .\n"]
    add = out.append
    nodes: list[str] = []  # lines of the record's other `#fragment` nodes
    if kind == "outlet":
        add(f"{s} {A} {T_OUTLET} .\n")
    if kind == "network":
        add(f"{s} {A} {T_NETWORK} .\n")
    elif kind == "support":
        add(f"{s} {A} {T_SUPPORT} .\n")
    name = literal(row["name"])
    add(f"{s} {P['name']} {name} .\n")
    add(f"{s} {P['grname']} {name} .\n")
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
                     ("counted", "counted_on"), ("modified", "updated"), ("withdrawnon", "withdrawn_on")):
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
            # the membership node's lines after all of the record's own (one run per subject)
            nodes += (f"{m} {A} {T_MEMBERSHIP} .\n", f"{m} {P['member']} {s} .\n",
                      f"{m} {P['organisation']} {network} .\n", f"{m} {P['startdate']} {date(since)} .\n")
    for ident in _items(row.get("identifiers")):
        add(f"{s} {P['regid']} {literal(ident)} .\n")
        scheme, _, value = ident.partition(":")
        if scheme in LINKED_ID_SCHEMES:  # a partner's own IRI for the record (DFC, ESSGlobal partner)
            try:
                add(f"{s} {P['sameas']} {terms.iri(value if '://' in value else 'https://' + value)} .\n")
            except TermError:
                pass  # kept as the registry identifier literal above
    for n, url in enumerate(_items(row.get("websites"))):
        add(f"{s} {P['url']} {terms.iri(url)} .\n")
        if n == 0:  # one homepage: the Digital Commons maps show one, and join rows on it
            add(f"{s} {P['homepage']} {terms.iri(url)} .\n")
    if present(row.get("email")):
        add(f"{s} {P['email']} {literal(row['email'])} .\n")
        try:
            add(f"{s} {P['hasemail']} {terms.iri('mailto:' + row['email'])} .\n")
        except TermError:
            pass  # an address no IRI can carry stays schema:email text only
    if present(row.get("phone")):
        add(f"{s} {P['phone']} {literal(row['phone'])} .\n")
    located = present(row.get("lat")) and present(row.get("lon"))
    if located:
        lat, lon = decimal(row["lat"]), decimal(row["lon"])
        add(f"{s} {P['lat']} {lat} .\n")
        add(f"{s} {P['long']} {lon} .\n")
        if present(row.get("geocode_precision")) and present(row.get("geocoded_by")):
            # the point is ours, not the source's: how precise, and from which gazetteer
            # (the catalog gives its licence and attribution)
            add(f"{s} {P['geoprecision']} {_iri(row['geocode_precision'])} .\n")
            add(f"{s} {P['geocodedby']} {_iri(row['geocoded_by'])} .\n")
    # Always an address node, within itself (OGC "within" is reflexive): Mykomap's query
    # reaches coordinates as address -> within -> geo:lat, and an OPTIONAL over a record
    # without an address (or an address without `within`) would join every other record's.
    a = s[:-1] + "#address>"
    add(f"{s} {P['address']} {a} .\n")
    out += nodes
    add(f"{a} {A} {T_ADDRESS} .\n")
    add(f"{a} {A} {T_POSTAL} .\n")
    add(f"{a} {P['within']} {a} .\n")
    for k, vk in ADDRESS_FIELDS:
        v = row.get(k)
        if present(v):
            add(f"{a} {P[k]} {literal(v)} .\n")
            add(f"{a} {P[vk]} {literal(country_name(v) if k == 'country' else v)} .\n")
    if located:
        add(f"{a} {P['lat']} {lat} .\n")
        add(f"{a} {P['long']} {lon} .\n")
    if kind == "outlet" and present(row.get("outlet_of")):  # last: the record's own lines stay together
        add(f"{terms.iri(member_iri(row['outlet_of'], base))} {P['outlet']} {s} .\n")
    return out


def write_enterprises(frame: pd.DataFrame, out: TextIO | Path, base: str, *,
                      digests: dict[str, str] | None = None, known: Mapping[str, str] | None = None,
                      changed: TextIO | None = None) -> dict[str, tuple[str, int]]:
    """Write every row's triples; returns {enterprise IRI: (record_id, line)} for the gate.

    `digests` receives the SHA-256 of each record's lines (they are written together);
    with `known` (such digests of an earlier graph) and `changed`, the lines of every
    record whose digest is not its `known` one are also written to `changed`: the part
    of the graph the gate has to validate again (`gate.source`)."""
    index: dict[str, tuple[str, int]] = {}
    handle = out.open("w", encoding="utf-8") if isinstance(out, Path) else out
    try:
        for row in records(frame):
            lines = enterprise_lines(row, base)
            handle.writelines(lines)
            e = enterprise_iri(row["source"], row["record_id"], base)
            index[e] = (row["record_id"], int(row["line"]))
            if digests is not None:
                digest = digests[e] = hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
                if changed is not None and (known is None or known.get(e) != digest):
                    changed.writelines(lines)
    finally:
        if isinstance(out, Path):
            handle.close()
    return index
