"""What the release catalog says about geocoding: each gazetteer the release's points came
from (coverage, licence, attribution), which sources it placed records of, and, when a
share-alike gazetteer was allowed in, a rights statement saying which points it covers."""
from __future__ import annotations

import pyoxigraph as ox

from se_pipeline.geocode.embedded import CODE_POINT_OPEN, GEONAMES_CITIES
from se_pipeline.geocode.files import GEONAMES_POSTAL, ONSPD
from se_pipeline.geocode.model import GazetteerInfo
from se_pipeline.geocode.online import SERVICES
from se_pipeline.namespaces import DCAT, DCTERMS, FOAF, PROV, RDF_TYPE, RDFS, SE_SOURCE, SEP, XSD

#: Every gazetteer a point can come from, by id (the ids recorded in each source's status).
KNOWN: dict[str, GazetteerInfo] = {g.id: g for g in (CODE_POINT_OPEN, GEONAMES_CITIES, ONSPD, GEONAMES_POSTAL,
                                                      *SERVICES.values())}


def gazetteer_triples(release: ox.NamedNode, run: ox.NamedNode,
                      placed: dict[str, dict[str, int]]) -> list[ox.Triple]:
    """`placed`: source name -> gazetteer id -> records of that source it placed."""
    t: list[ox.Triple] = []
    totals: dict[str, int] = {}
    for source, by in sorted(placed.items()):
        for gid, n in sorted(by.items()):
            if gid not in KNOWN or not n:
                continue
            totals[gid] = totals.get(gid, 0) + int(n)
            t.append(ox.Triple(ox.NamedNode(SE_SOURCE + source), ox.NamedNode(PROV + "wasDerivedFrom"),
                               ox.NamedNode(KNOWN[gid].iri)))
    share_alike = []
    for gid, n in sorted(totals.items()):
        g = KNOWN[gid]
        node = ox.NamedNode(g.iri)
        t += [
            ox.Triple(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(DCAT + "Dataset")),
            ox.Triple(node, ox.NamedNode(DCTERMS + "identifier"), ox.Literal(g.id)),
            ox.Triple(node, ox.NamedNode(DCTERMS + "title"), ox.Literal(g.title, language="en")),
            ox.Triple(node, ox.NamedNode(DCTERMS + "description"), ox.Literal(g.coverage, language="en")),
            ox.Triple(node, ox.NamedNode(DCTERMS + "license"), ox.NamedNode(g.licence)),
            ox.Triple(node, ox.NamedNode(SEP + "attribution"), ox.Literal(g.attribution, language="en")),
            ox.Triple(node, ox.NamedNode(DCAT + "landingPage"), ox.NamedNode(g.homepage)),
            # typed as DCAT-AP's range shapes expect
            ox.Triple(ox.NamedNode(g.homepage), ox.NamedNode(RDF_TYPE), ox.NamedNode(FOAF + "Document")),
            ox.Triple(ox.NamedNode(g.licence), ox.NamedNode(RDF_TYPE), ox.NamedNode(DCTERMS + "LicenseDocument")),
            ox.Triple(node, ox.NamedNode(SEP + "geocodedRecords"), ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))),
            ox.Triple(run, ox.NamedNode(PROV + "used"), node),
        ]
        if g.share_alike:
            share_alike.append(g)
    if share_alike:
        rights = ox.NamedNode(release.value + "#share-alike-coordinates")
        names = ", ".join(f"{g.title} <{g.iri}>" for g in share_alike)
        t += [
            ox.Triple(release, ox.NamedNode(DCTERMS + "rights"), rights),
            ox.Triple(rights, ox.NamedNode(RDF_TYPE), ox.NamedNode(DCTERMS + "RightsStatement")),
            ox.Triple(rights, ox.NamedNode(RDFS + "label"), ox.Literal(
                f"Coordinates marked sep:geocodedBy one of {names} are under a share-alike licence "
                "(ODbL 1.0), not the release's ODC-By: re-users of those points must follow it.", language="en")),
        ]
    return t
