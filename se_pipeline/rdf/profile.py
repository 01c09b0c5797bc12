"""The ESSGlobal profile: the statements Digital Commons' tools read, written beside ours.

`rdf.enterprises` writes them; this table says what each one is, for the documentation
(`ontology.html`'s profile section, docs/essglobal-profile.md) and tests. Data only.
"""
from __future__ import annotations

from typing import NamedTuple


class ProfileTerm(NamedTuple):
    """One property of the profile: where it sits, what it carries, who reads it."""

    property: str   # compact IRI (prefixes of `namespaces.PREFIXES`)
    node: str       # the node it is stated on
    value: str      # what its value is, in terms of our own statements
    read_by: str    # the partner queries that read it


#: Mykomap = its dataset query (test/configs/…/query.rq) and vocabulary query (get_vocabs.php);
#: se-open-data = the map-app query its generator writes (initiative/collection/sparql.rb).
PROFILE: tuple[ProfileTerm, ...] = (
    ProfileTerm("rdf:type essglobal:SSEInitiative", "every record (outlets too, beside essglobal:LocationOfSale)",
                "the class both queries select", "Mykomap, se-open-data"),
    ProfileTerm("gr:name", "record", "the same text as schema:name", "Mykomap, se-open-data"),
    ProfileTerm("foaf:homepage", "record", "the first schema:url (one homepage)", "Mykomap, se-open-data"),
    ProfileTerm("vcard:hasEmail", "record", "mailto: IRI of schema:email", "Mykomap (vCard)"),
    ProfileTerm("essglobal:hasAddress", "record", "<record>#address, on every record (even with no address fields)",
                "Mykomap, se-open-data"),
    ProfileTerm("vcard:street-address, vcard:locality, vcard:region, vcard:postal-code", "address",
                "the same texts as schema:streetAddress, addressLocality, addressRegion, postalCode", "Mykomap"),
    ProfileTerm("vcard:country-name", "address", "the English name of schema:addressCountry's ISO code", "vCard readers"),
    ProfileTerm("osspatialrelations:within", "address", "the address itself (OGC 'within' is reflexive)",
                "Mykomap, se-open-data"),
    ProfileTerm("geo:lat, geo:long", "address (and record)", "the record's coordinates", "Mykomap, se-open-data"),
    ProfileTerm("essglobal:primarySector, essglobal:economicSector", "record", "activities (ICA / modified schemes)",
                "Mykomap"),
    ProfileTerm("essglobal:organisationalStructure, essglobal:baseMembershipType, essglobal:qualifier", "record",
                "ESSGlobal concepts", "Mykomap (vocabulary filters)"),
    ProfileTerm("dc:title", "every concept scheme", "the scheme's labels (Dublin Core elements 1.1)",
                "Mykomap vocabulary query"),
)
