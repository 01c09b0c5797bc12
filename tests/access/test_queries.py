"""Every example query in queries/ answers what the release's N-Quads say.

Expected answers are computed here in plain Python from the quads as rdflib parsed them
(not from Oxigraph, and not hard-coded), then compared with the query's answer.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from se_pipeline import QUERIES_DIR
from se_pipeline.access.query import load_store, run_query
from se_pipeline.namespaces import DCTERMS, ESS_QUALIFIERS, ESSGLOBAL, GEO, OWL, RDF_TYPE, SCHEMA, SEP, SEPT

from .conftest import LINKS_GRAPH

QUERIES = sorted(p.name for p in QUERIES_DIR.glob("*.rq"))
COOP_STRUCTURES = {f"http://purl.org/essglobal/standard/organisational-structure/OS{n}" for n in (60, 70, 80, 90, 100, 110, 115)}
COOP_PRACTICES = {SEPT + "practice/" + p for p in ("WorkerCoop", "ConsumerCoop", "ProducerCoop", "HousingCoop",
                                                    "MultiStakeholderCoop", "SecondaryCoop")}


class Facts:
    def __init__(self, quads: list[tuple]) -> None:
        self.values: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.graphs: set[str] = set()
        self.links: list[tuple[str, str]] = []
        for s, p, o, g in quads:
            self.values[(str(s), str(p))].add(str(o))
            self.graphs.add(str(g))
            if str(g) == LINKS_GRAPH and str(p) == OWL + "sameAs":
                self.links.append((str(s), str(o)))
        self.enterprises = {s for (s, p), os in self.values.items() if p == RDF_TYPE and ESSGLOBAL + "SSEInitiative" in os}
        self.subjects = {s for s, _ in self.values}

    def get(self, s: str, p: str) -> set[str]:
        return self.values.get((s, p), set())

    def countries(self, s: str) -> set[str]:
        return {c for a in self.get(s, ESSGLOBAL + "hasAddress") for c in self.get(a, SCHEMA + "addressCountry")}


@pytest.fixture(scope="module")
def facts(quads: list[tuple]) -> Facts:
    return Facts(quads)


@pytest.fixture(scope="module")
def store(sample_release: Path):
    return load_store(sample_release)


def answer(store, name: str) -> tuple[list[str], list[list[str | None]]]:
    result = run_query(store, (QUERIES_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(result, tuple), f"{name} is not a SELECT"
    return result


def test_the_required_example_queries_exist() -> None:
    assert {"enterprises_by_source.rq", "worker_coops_per_country.rq", "dissolved.rq", "enterprises_near_point.rq",
            "fairtrade_coops.rq", "csas_by_state.rq", "enterprises_in_several_sources.rq",
            "workers_by_country_and_kind.rq"} <= set(QUERIES)


@pytest.mark.parametrize("name", QUERIES)
def test_every_query_starts_with_a_title_comment(name: str) -> None:
    first = (QUERIES_DIR / name).read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ") and len(first) > 10


def test_enterprises_by_source(store, facts: Facts) -> None:
    expected = Counter(src for e in facts.enterprises for src in facts.get(e, DCTERMS + "source"))
    names, rows = answer(store, "enterprises_by_source.rq")
    assert {r[0]: int(r[1]) for r in rows} == dict(expected)
    assert [int(r[1]) for r in rows] == sorted((int(r[1]) for r in rows), reverse=True)


def test_worker_coops_per_country(store, facts: Facts) -> None:
    expected: Counter[str] = Counter()
    for s in facts.subjects:
        if "http://purl.org/essglobal/standard/base-membership-type/BMT30" in facts.get(s, ESSGLOBAL + "baseMembershipType"):
            for c in facts.countries(s):
                expected[c] += 1
    _, rows = answer(store, "worker_coops_per_country.rq")
    assert {r[0]: int(r[1]) for r in rows} == dict(expected) and expected


def test_dissolved(store, facts: Facts) -> None:
    expected = {s for s in facts.subjects if SEPT + "status/Dissolved" in facts.get(s, SEP + "status") and facts.get(s, SCHEMA + "name")}
    _, rows = answer(store, "dissolved.rq")
    assert {r[0] for r in rows} == expected and expected


def test_enterprises_near_point(store, facts: Facts) -> None:
    lat0, lon0, radius, coslat = 53.48, -2.24, 150.0, 0.595
    expected = []
    for s in facts.subjects:
        for la in facts.get(s, GEO + "lat"):
            for lo in facts.get(s, GEO + "long"):
                if not facts.get(s, SCHEMA + "name"):
                    continue
                dy, dx = (float(la) - lat0) * 111.2, (float(lo) - lon0) * 111.2 * coslat
                if dx * dx + dy * dy <= radius * radius:
                    expected.append((dx * dx + dy * dy, s))
    names, rows = answer(store, "enterprises_near_point.rq")
    assert [r[0] for r in rows] == [s for _, s in sorted(expected)] and expected
    km = names.index("km")
    for (d2, _), row in zip(sorted(expected), rows):
        assert abs(float(row[km]) - d2 ** 0.5) <= 0.05 + 0.005 * d2 ** 0.5


def test_fairtrade_coops(store, facts: Facts) -> None:
    expected = {s for s in facts.subjects
                if ESS_QUALIFIERS + "Fairtrade" in facts.get(s, ESSGLOBAL + "qualifier") and facts.get(s, SCHEMA + "name")
                and (facts.get(s, ESSGLOBAL + "organisationalStructure") & COOP_STRUCTURES
                     or facts.get(s, SEP + "practice") & COOP_PRACTICES)}
    _, rows = answer(store, "fairtrade_coops.rq")
    assert {r[0] for r in rows} == expected and expected
    # and none of the fair trade enterprises that are not co-ops
    assert len(rows) == len({r[0] for r in rows})


def test_csas_by_state(store, facts: Facts) -> None:
    expected: Counter[tuple[str | None, str]] = Counter()
    for s in facts.subjects:
        if SEPT + "practice/CommunitySupportedAgriculture" in facts.get(s, SEP + "practice"):
            for a in facts.get(s, ESSGLOBAL + "hasAddress"):
                for region in facts.get(a, SCHEMA + "addressRegion"):
                    for c in facts.get(a, SCHEMA + "addressCountry") or {None}:
                        expected[(c, region)] += 1
    _, rows = answer(store, "csas_by_state.rq")
    assert {(r[0], r[1]): int(r[2]) for r in rows} == dict(expected) and expected


def test_enterprises_in_several_sources(store, facts: Facts) -> None:
    expected = set()
    for a, b in facts.links:
        if facts.get(a, DCTERMS + "source") != facts.get(b, DCTERMS + "source") and a != b:
            expected |= {(a, b), (b, a)}
    _, rows = answer(store, "enterprises_in_several_sources.rq")
    if LINKS_GRAPH not in facts.graphs:
        assert rows == []
    else:
        assert {(r[0], r[3]) for r in rows} == expected and expected


def test_workers_by_country_and_kind(store, facts: Facts) -> None:
    enterprises: dict[tuple[str, str], set[str]] = defaultdict(set)
    workers: Counter[tuple[str, str]] = Counter()
    reporting: Counter[tuple[str, str]] = Counter()
    for s in facts.subjects:
        for practice in facts.get(s, SEP + "practice"):
            for c in facts.countries(s):
                enterprises[(c, practice)].add(s)
                for w in facts.get(s, SEP + "workerCount"):
                    workers[(c, practice)] += int(w)
                    reporting[(c, practice)] += 1
    names, rows = answer(store, "workers_by_country_and_kind.rq")
    got = {(r[0], r[1]): (int(r[2]), int(r[3]), int(r[4])) for r in rows}
    assert got == {k: (len(v), reporting[k], workers[k]) for k, v in enterprises.items()}
    assert sum(workers.values()) > 0


def test_cli_query_uses_the_same_guard_and_dataset_rules(sample_release: Path, quads: list[tuple], capsys) -> None:
    from se_pipeline.cli import main as cli_main

    coops_uk = "https://w3id.org/se-pipeline/graph/coops_uk"
    for query, expected in ((f"SELECT (COUNT(*) AS ?n) FROM <{coops_uk}> WHERE {{ ?s ?p ?o }}",
                             sum(1 for *_, g in quads if str(g) == coops_uk)),
                            ("SELECT (COUNT(*) AS ?n) FROM <urn:nothing> WHERE { ?s ?p ?o }", 0),
                            ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", len(quads))):
        assert cli_main(["query", query, "--release", str(sample_release), "--format", "csv"]) == 0
        assert capsys.readouterr().out.splitlines()[1] == str(expected)
    assert cli_main(["query", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
                     "--release", str(sample_release)]) == 2
    assert "SERVICE" in capsys.readouterr().err
