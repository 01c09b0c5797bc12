"""Every namespace the pipeline emits, in one place, so IRIs never drift between modules.

Enterprise IRIs live under a *configurable* data base (see `identity.iri`); the
ontology, taxonomy and graph namespaces below are fixed because partners bookmark them.
"""
from __future__ import annotations

ESSGLOBAL = "http://purl.org/essglobal/vocab/"
ESS_STANDARD = "http://purl.org/essglobal/standard/"
ESS_ORG_STRUCTURE = ESS_STANDARD + "organisational-structure/"
ESS_ACTIVITIES_ICA = ESS_STANDARD + "activities-ica/"
ESS_BASE_MEMBERSHIP = ESS_STANDARD + "base-membership-type/"
ESS_QUALIFIERS = ESS_STANDARD + "qualifiers/"
ESS_LEGAL_FORM = ESS_STANDARD + "legal-form/"
ESS_COUNTRIES = ESS_STANDARD + "countries-iso/"

SE_BASE = "https://w3id.org/se-pipeline/"
SEP = SE_BASE + "ontology/"          # our ontology (classes, properties)
SEPT = SE_BASE + "taxonomy/"         # our SKOS concept schemes: SEPT + "<scheme>/<Code>"
SE_GRAPH = SE_BASE + "graph/"        # named graphs: SE_GRAPH + "<source>"
SE_SOURCE = SE_BASE + "source/"      # dcat:Dataset per source: SE_SOURCE + "<source>"
SE_RELEASE = SE_BASE + "release/"    # dcat:Dataset per release: SE_RELEASE + "<release-id>"
DEFAULT_DATA_BASE = SE_BASE + "id/"  # enterprises: <base><source>/<percent-encoded record id>

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "https://schema.org/"
DCTERMS = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
VOID = "http://rdfs.org/ns/void#"
PROV = "http://www.w3.org/ns/prov#"
GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"
VCARD = "http://www.w3.org/2006/vcard/ns#"
FOAF = "http://xmlns.com/foaf/0.1/"
GR = "http://purl.org/goodrelations/v1#"
DC = "http://purl.org/dc/elements/1.1/"   # Dublin Core elements: the `dc:title` of ESSGlobal's schemes
OS_SPATIAL = "http://data.ordnancesurvey.co.uk/ontology/spatialrelations/"
SH = "http://www.w3.org/ns/shacl#"
ORG = "http://www.w3.org/ns/org#"
DFC = "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#"

RDF_TYPE = RDF + "type"

#: Prefixes used when writing Turtle and as the JSON-LD @context.
PREFIXES: dict[str, str] = {
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "schema": SCHEMA,
    "dcterms": DCTERMS,
    "dcat": DCAT,
    "void": VOID,
    "prov": PROV,
    "geo": GEO,
    "org": ORG,
    "gr": GR,
    "foaf": FOAF,
    "vcard": VCARD,
    "dc": DC,
    "osspatialrelations": OS_SPATIAL,
    "essglobal": ESSGLOBAL,
    "ess-os": ESS_ORG_STRUCTURE,
    "ess-ica": ESS_ACTIVITIES_ICA,
    "ess-am": ESS_STANDARD + "activities-modified/",
    "ess-bmt": ESS_BASE_MEMBERSHIP,
    "ess-q": ESS_QUALIFIERS,
    "ess-lf": ESS_LEGAL_FORM,
    "sep": SEP,
    "sept": SEPT,
}


def expand_curie(value: str) -> str:
    """Expand `prefix:local` with PREFIXES; full IRIs pass through unchanged.

    Mapping files are written with CURIEs so a steward can read them; everything
    downstream works with full IRIs.
    """
    if "://" in value:
        return value
    prefix, sep, local = value.partition(":")
    if sep and prefix in PREFIXES:
        return PREFIXES[prefix] + local
    raise ValueError(f"unknown prefix in {value!r}; known: {sorted(PREFIXES)}")
