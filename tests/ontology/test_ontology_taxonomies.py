"""Our SKOS schemes (practice, status) are complete, multilingual and well-formed.

Why: maps filter and label records by these concepts in four languages; a concept without a
French label or outside the hierarchy shows up as a bare IRI, and a source code table that
points at a concept we never defined produces records the gate cannot explain.
"""
from __future__ import annotations

import re
from collections import defaultdict

import pytest

from tests.ontology.ontology_testlib import LANGS, RDF_TYPE, REPO_ROOT, SKOS, TAXONOMY_FILES, parse
from se_pipeline.namespaces import DFC, SEPT

SCHEMES = {"practice": SEPT + "practice/", "status": SEPT + "status/"}
REQUIRED_PRACTICES = {
    "WorkerCoop", "ConsumerCoop", "ProducerCoop", "MultiStakeholderCoop", "RecuperatedEnterprise", "PopularCoop",
    "CommunityLandTrust", "HousingCoop", "CreditUnion", "SolidarityFinanceFund", "SociallyResponsibleInvestmentFund",
    "FairTradeEnterprise", "CommunitySupportedAgriculture", "FoodHub", "FarmersMarket", "OnFarmMarket",
    "SocialEconomyEnterprise", "WorkIntegrationSocialEnterprise", "GreenWorkerCoop", "SupportOrganisation",
    "Incubator", "Federation", "DevelopmentAgency", "TrainingSchool", "Network", "NationalFederation",
    "SolidarityEconomyNetwork", "NetworkOfNetworks",
}
REQUIRED_STATUSES = {"Active", "Dissolved", "Dormant", "Certified", "Suspended", "Decertified", "Withdrawn", "Unknown"}
#: DFC business ontology classes we may map to (checked against the DFC release by hand).
KNOWN_DFC = {DFC + "Enterprise", DFC + "SaleSession"}


def _graph() -> dict[str, dict[str, list]]:
    g: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for path in TAXONOMY_FILES:
        for t in parse(path):
            g[t.subject.value][t.predicate.value].append(t.object)
    return g


def _concepts(g, scheme: str) -> dict[str, dict[str, list]]:
    return {s: p for s, p in g.items()
            if SKOS + "Concept" in {o.value for o in p[RDF_TYPE]} and scheme in {o.value for o in p[SKOS + "inScheme"]}}


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_scheme_is_declared_and_labelled(name: str) -> None:
    g = _graph()
    scheme = g[SCHEMES[name]]
    assert SKOS + "ConceptScheme" in {o.value for o in scheme[RDF_TYPE]}
    assert {o.language for o in scheme[SKOS + "prefLabel"]} >= set(LANGS)


def test_required_concepts_exist() -> None:
    g = _graph()
    practices = {s[len(SCHEMES["practice"]):] for s in _concepts(g, SCHEMES["practice"])}
    statuses = {s[len(SCHEMES["status"]):] for s in _concepts(g, SCHEMES["status"])}
    assert REQUIRED_PRACTICES - practices == set()
    assert REQUIRED_STATUSES - statuses == set()


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_every_concept_is_labelled_defined_and_placed(name: str) -> None:
    g = _graph()
    base = SCHEMES[name]
    concepts = _concepts(g, base)
    assert concepts
    tops = {o.value for o in g[base][SKOS + "hasTopConcept"]}
    for iri, p in concepts.items():
        assert re.fullmatch(re.escape(base) + r"[A-Z][A-Za-z]+", iri), f"{iri}: code must be CamelCase"
        by_lang: dict[str, list[str]] = defaultdict(list)
        for lit in p[SKOS + "prefLabel"]:
            by_lang[lit.language].append(lit.value)
        for lang in LANGS:
            assert len(by_lang[lang]) == 1 and by_lang[lang][0].strip(), f"{iri}: needs one non-empty {lang} prefLabel"
        assert len({by_lang[lang][0] for lang in LANGS}) > 1, f"{iri}: the four labels are identical (untranslated)"
        defs = [o for o in p[SKOS + "definition"] if o.language == "en" and o.value.strip()]
        assert defs, f"{iri}: needs an English definition"
        is_top = base in {o.value for o in p[SKOS + "topConceptOf"]}
        broader = [o.value for o in p[SKOS + "broader"]]
        assert is_top or broader, f"{iri}: neither top concept nor narrower of another concept"
        assert is_top == (iri in tops), f"{iri}: skos:topConceptOf and skos:hasTopConcept disagree"
        assert all(b in concepts for b in broader), f"{iri}: broader concept outside the scheme"


def test_hierarchy_has_no_cycles() -> None:
    g = _graph()
    for base in SCHEMES.values():
        concepts = _concepts(g, base)
        for iri in concepts:
            seen, todo = set(), [iri]
            while todo:
                c = todo.pop()
                for b in concepts[c][SKOS + "broader"]:
                    assert b.value != iri, f"cycle through {iri}"
                    if b.value not in seen:
                        seen.add(b.value)
                        todo.append(b.value)


def test_mappings_are_sound() -> None:
    """exactMatch is transitive: one target per concept at most once; no target both exact and
    related/broad (SKOS integrity S46); DFC targets are real DFC classes."""
    g = _graph()
    exact_targets: dict[str, str] = {}
    for iri, p in _concepts(g, SCHEMES["practice"]).items():
        exact = {o.value for o in p[SKOS + "exactMatch"]}
        for target in exact:
            assert target not in exact_targets, f"{target} is exactMatch of {iri} and {exact_targets[target]}"
            exact_targets[target] = iri
        others = {o.value for k in ("broadMatch", "relatedMatch", "closeMatch", "narrowMatch") for o in p[SKOS + k]}
        assert not exact & others, f"{iri}: a target is both exactMatch and another mapping"
        for o in others | exact:
            if o.startswith(DFC):
                assert o in KNOWN_DFC, o


def test_food_practices_link_to_dfc_and_coops_to_essglobal() -> None:
    g = _graph()
    concepts = _concepts(g, SCHEMES["practice"])
    matches = {iri: {o.value for k in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
                     for o in p[SKOS + k]} for iri, p in concepts.items()}
    for code in ("CommunitySupportedAgriculture", "FoodHub", "FarmersMarket", "OnFarmMarket"):
        assert any(m.startswith(DFC) for m in matches[SCHEMES["practice"] + code]), code
    os_ = "http://purl.org/essglobal/standard/organisational-structure/"
    for code, os_code in {"WorkerCoop": "OS60", "ConsumerCoop": "OS80", "ProducerCoop": "OS90",
                          "MultiStakeholderCoop": "OS100", "HousingCoop": "OS70"}.items():
        assert os_ + os_code in matches[SCHEMES["practice"] + code], code


def test_concepts_used_by_source_mappings_exist() -> None:
    """Every sept:practice/… and sept:status/… IRI a source mapping or code uses is defined here."""
    g = _graph()
    defined = {iri for base in SCHEMES.values() for iri in _concepts(g, base)}
    pattern = re.compile(r"(?:sept:|https://w3id\.org/se-pipeline/taxonomy/)((?:practice|status)/[A-Za-z0-9_-]+)")
    used: dict[str, set[str]] = defaultdict(set)
    for path in (REPO_ROOT / "se_pipeline").rglob("*"):
        if path.suffix in {".yaml", ".yml", ".py"} and path.is_file():
            for m in pattern.finditer(path.read_text(encoding="utf-8", errors="replace")):
                used[SEPT + m.group(1)].add(path.relative_to(REPO_ROOT).as_posix())
    undefined = {iri: sorted(files) for iri, files in used.items() if iri not in defined}
    assert not undefined, f"taxonomy concepts used but not defined: {undefined}"
