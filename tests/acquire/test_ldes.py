"""The LDES reader against our own published stream, served on loopback, and against hostile streams."""
from __future__ import annotations

from pathlib import Path

import pytest

from se_pipeline.acquire.errors import AcquireError
from se_pipeline.acquire.http import HttpClient
from se_pipeline.acquire.ldes import read_changes
from se_pipeline.acquire.policy import SourcePolicy
from tests.release.ldes_helpers import CHANGED, WITHDRAWN, TwoReleases, build_two_releases, static_server

POLICY = SourcePolicy(allowed_hosts=["127.0.0.1"], total_budget_s=30)


def client() -> HttpClient:
    return HttpClient(allow_http=True, allow_private_addresses=True, max_retries=0)


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> TwoReleases:
    return build_two_releases(tmp_path_factory.mktemp("ldes-reader"))


def test_after_release_one_only_the_new_page_is_fetched_with_its_four_members(releases: TwoReleases) -> None:
    with static_server(releases.output) as (base, requests):
        first = read_changes(f"{base}releases/{releases.first.release_id}/changes.ttl", http=client(), policy=POLICY)
        assert len(first.members) == releases.first.entities and first.problems == []
        requests.clear()
        # The partner follows `latest`: it moved to release 2.
        second = read_changes(f"{base}latest/changes.ttl", http=client(), policy=POLICY, since=first.latest)
    new_page = f"{base}latest/changes/{releases.second.release_id}/1.trig"
    assert second.pages == [new_page]
    assert [r for r in requests if r != "/robots.txt"] == ["/latest/changes.ttl",
                                                         f"/latest/changes/{releases.second.release_id}/1.trig"]
    assert second.problems == []
    assert {m.version_of for m in second.members} == CHANGED | {WITHDRAWN}
    assert len(second.members) == 4
    for m in second.members:
        assert m.deleted is (m.version_of == WITHDRAWN)
        names = [t.object.value for t in m.statements if t.predicate.value == "https://schema.org/name"]
        assert m.version_of == WITHDRAWN or (len(names) == 1 and names[0].endswith("(renamed)"))
    assert second.latest is not None and second.latest > first.latest


def test_pages_already_seen_are_not_fetched_again(releases: TwoReleases) -> None:
    with static_server(releases.output) as (base, requests):
        root = f"{base}releases/{releases.second.release_id}/"
        seen = [f"{root}changes/{releases.first.release_id}/1.trig"]
        changes = read_changes(root + "changes.ttl", http=client(), policy=POLICY, seen_pages=seen)
    assert changes.pages == [f"{root}changes/{releases.second.release_id}/1.trig"]
    assert len(changes.members) == 4


def test_the_stream_is_found_from_a_dcat_catalog(releases: TwoReleases, tmp_path: Path) -> None:
    (tmp_path / "catalog.ttl").write_text(f"""@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<#service> a dcat:DataService ; dcterms:conformsTo <https://w3id.org/ldes/specification> ;
  dcat:endpointURL <releases/{releases.first.release_id}/changes.ttl> .""")
    (releases.output / "partner-catalog.ttl").write_bytes((tmp_path / "catalog.ttl").read_bytes())
    with static_server(releases.output) as (base, _):
        changes = read_changes(f"{base}partner-catalog.ttl", http=client(), policy=POLICY)
    assert len(changes.members) == releases.first.entities


def write(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text, encoding="utf-8")


HEAD = """@prefix tree: <https://w3id.org/tree#> . @prefix ldes: <https://w3id.org/ldes#> .
@prefix prov: <http://www.w3.org/ns/prov#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def test_hostile_stream_problems_are_reported_and_good_members_kept(tmp_path: Path) -> None:
    write(tmp_path, "s.ttl", HEAD + """<http://x.example/s> a ldes:EventStream ; tree:view <> ;
  ldes:timestampPath prov:generatedAtTime ; ldes:versionOfPath dcterms:isVersionOf .
<> tree:relation [ tree:node <good.trig> ] , [ tree:node <broken.trig> ] , [ tree:node <http://169.254.169.254/latest> ] ,
  [ tree:node <file:///etc/passwd> ] , [ tree:node <loop.trig> ] .""")
    write(tmp_path, "good.trig", HEAD + """<http://x.example/s> tree:member <http://x.example/e1#v1> , <http://x.example/e2#v1> , _:b .
<http://x.example/e1#v1> dcterms:isVersionOf <http://x.example/e1> ; prov:generatedAtTime "2026-01-01T00:00:00Z"^^xsd:dateTime .
<http://x.example/e1#v1> { <http://x.example/e1> <http://schema.org/name> "One" . }
<http://x.example/e2#v1> dcterms:isVersionOf <http://x.example/e2> .""")
    write(tmp_path, "broken.trig", "<not turtle at all")
    write(tmp_path, "loop.trig", HEAD + "<> tree:relation [ tree:node <s.ttl> ] , [ tree:node <loop.trig> ] .")
    with static_server(tmp_path) as (base, requests):
        changes = read_changes(base + "s.ttl", http=client(), policy=POLICY)
    assert [m.version_of for m in changes.members] == ["http://x.example/e1"]
    assert [t.object.value for t in changes.members[0].statements] == ["One"]
    problems = "\n".join(changes.problems)
    assert "broken.trig" in problems and "does not parse" in problems
    assert "169.254.169.254" in problems  # refused by the allowlist: never requested
    assert "without an http(s) tree:node" in problems  # file:// is not followed
    assert "e2#v1 has no timestamp" in problems and "not an IRI" in problems
    assert sorted(requests) == sorted(["/robots.txt", "/s.ttl", "/good.trig", "/broken.trig", "/loop.trig"])


def test_a_document_without_a_stream_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "x.ttl", "<http://a.example/> <http://a.example/p> 1 .")
    with static_server(tmp_path) as (base, _), pytest.raises(AcquireError, match="no single ldes:EventStream"):
        read_changes(base + "x.ttl", http=client(), policy=POLICY)


def test_the_number_of_pages_is_capped(tmp_path: Path) -> None:
    relations = " , ".join(f"[ tree:node <p{i}.ttl> ]" for i in range(5))
    write(tmp_path, "s.ttl", HEAD + f"<http://x.example/s> a ldes:EventStream ; tree:view <> .\n<> tree:relation {relations} .")
    for i in range(5):
        write(tmp_path, f"p{i}.ttl", HEAD + "<> a tree:Node .")
    with static_server(tmp_path) as (base, _):
        changes = read_changes(base + "s.ttl", http=client(), policy=POLICY, max_pages=2)
    assert len(changes.pages) == 2 and "stopped after 2 pages" in changes.problems[-1]
