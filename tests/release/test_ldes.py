"""The release's Linked Data Event Stream, read back with rdflib (a parser that did not write it)."""
from __future__ import annotations

import gzip
import hashlib
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import rdflib
from rdflib import URIRef

from se_pipeline.namespaces import DCAT, DCTERMS, PROV, SEP, SEPT
from se_pipeline.release import ldes
from se_pipeline.release.errors import ReleaseError
from tests.release.ldes_helpers import CHANGED, WITHDRAWN, TwoReleases, build_two_releases

# rdflib's own TriG parser still uses its deprecated ConjunctiveGraph internally.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")

TREE = rdflib.Namespace(ldes.TREE)
AS = rdflib.Namespace(ldes.AS)
BASE = "http://partner.example/release/"  # where a page would be served: relative links resolve against it


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> TwoReleases:
    return build_two_releases(tmp_path_factory.mktemp("ldes"))


def page_paths(release: Path) -> list[str]:
    return sorted(str(p.relative_to(release)) for p in (release / "changes").rglob("*.trig"))


def parse(path: Path, url: str) -> rdflib.Dataset:
    ds = rdflib.Dataset()
    ds.parse(path, format="trig" if path.suffix == ".trig" else "turtle", publicID=url)
    return ds


def members(ds: rdflib.Dataset, stream: str) -> dict[URIRef, dict]:
    out = {}
    for m in ds.objects(URIRef(stream), TREE.member):
        out[m] = {"types": set(ds.objects(m, rdflib.RDF.type)), "of": ds.value(m, URIRef(DCTERMS + "isVersionOf")),
                  "time": ds.value(m, URIRef(PROV + "generatedAtTime")).toPython(),
                  "graph": set(ds.graph(m).triples((None, None, None)))}
    return out


def record_statements(release: Path, record: str) -> set[tuple]:
    """The record's statements in dataset.nq.gz (subject is the record or one of its fragments)."""
    ds = rdflib.Dataset()
    with gzip.open(release / "dataset.nq.gz", "rb") as f:
        ds.parse(data=f.read().decode("utf-8"), format="nquads")
    return {(s, p, o) for s, p, o, _ in ds.quads((None, None, None, None))
            if str(s) == record or str(s).startswith(record + "#")}


def test_first_release_starts_the_stream_with_every_record(releases: TwoReleases) -> None:
    first = releases.first.path
    pages = page_paths(first)
    assert pages == [f"changes/{releases.first.release_id}/1.trig"]
    ds = parse(first / pages[0], BASE + pages[0])
    found = members(ds, ldes.stream_iri("https://w3id.org/se-pipeline/id/"))
    assert len(found) == releases.first.entities  # every enterprise of the release, nothing else
    assert all(m["types"] == {AS.Create} for m in found.values())
    assert {m["time"] for m in found.values()} == {datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)}
    one = next(iter(found.values()))
    assert one["graph"] == record_statements(first, str(one["of"]))  # the record's statements, verbatim


def test_second_release_page_holds_exactly_the_changed_and_withdrawn_records(releases: TwoReleases) -> None:
    second = releases.second.path
    new = f"changes/{releases.second.release_id}/1.trig"
    assert page_paths(second) == sorted([f"changes/{releases.first.release_id}/1.trig", new])
    found = members(parse(second / new, BASE + new), ldes.stream_iri("https://w3id.org/se-pipeline/id/"))
    by_record = {str(m["of"]): m for m in found.values()}
    assert set(by_record) == CHANGED | {WITHDRAWN}
    for rec in CHANGED:
        assert by_record[rec]["types"] == {AS.Update}
        names = {str(o) for s, p, o in by_record[rec]["graph"] if str(p) == "https://schema.org/name"}
        assert len(names) == 1 and names.pop().endswith("(renamed)")
        assert by_record[rec]["graph"] == record_statements(second, rec)
    gone = by_record[WITHDRAWN]
    assert gone["types"] == {AS.Delete}
    assert (URIRef(WITHDRAWN), URIRef(SEP + "status"), URIRef(SEPT + "status/Withdrawn")) in gone["graph"]
    assert {m["time"] for m in found.values()} == {datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)}
    assert all(str(m).startswith(str(m_of["of"]) + "#v-") for m, m_of in found.items())


def test_earlier_pages_are_carried_as_the_same_immutable_file(releases: TwoReleases) -> None:
    old = f"changes/{releases.first.release_id}/1.trig"
    a, b = releases.first.path / old, releases.second.path / old
    assert a.read_bytes() == b.read_bytes()
    assert os.stat(a).st_ino == os.stat(b).st_ino  # hard link: no second copy on disk
    assert not os.access(b, os.W_OK) or os.geteuid() == 0
    assert oct(os.stat(b).st_mode & 0o777) == "0o444"
    sums = dict(reversed(line.split("  ", 1)) for line in (releases.second.path / "SHA256SUMS").read_text().splitlines())
    assert sums[old] == hashlib.sha256(b.read_bytes()).hexdigest()


def test_the_view_bounds_each_page_by_its_time_from_both_sides(releases: TwoReleases) -> None:
    url = BASE + releases.second.release_id + "/changes.ttl"
    ds = parse(releases.second.path / "changes.ttl", url)
    stream = URIRef(ldes.stream_iri("https://w3id.org/se-pipeline/id/"))
    assert ds.value(stream, TREE.view) == URIRef(url)  # relative `<>`: the document itself
    assert ds.value(stream, URIRef(ldes.LDES + "timestampPath")) == URIRef(PROV + "generatedAtTime")
    assert ds.value(stream, URIRef(ldes.LDES + "versionDeleteObject")) == AS.Delete
    bounds: dict[str, dict[str, str]] = {}
    for r in ds.objects(URIRef(url), TREE.relation):
        node = str(ds.value(r, TREE.node))
        bounds.setdefault(node, {})[str(ds.value(r, rdflib.RDF.type)).rsplit("#")[-1]] = str(ds.value(r, TREE.value))
    first, second = (BASE + releases.second.release_id + f"/changes/{rid}/1.trig"
                     for rid in (releases.first.release_id, releases.second.release_id))
    assert bounds == {
        first: {"GreaterThanOrEqualToRelation": "2026-12-01T09:00:00+00:00", "LessThanOrEqualToRelation": "2026-12-01T09:00:00+00:00"},
        second: {"GreaterThanOrEqualToRelation": "2026-12-02T09:00:00+00:00", "LessThanOrEqualToRelation": "2026-12-02T09:00:00+00:00"},
    }


def test_catalog_and_landing_page_link_the_stream(releases: TwoReleases) -> None:
    cat = rdflib.Graph().parse(releases.second.path / "catalog.ttl")
    services = list(cat.subjects(rdflib.RDF.type, URIRef(DCAT + "DataService")))
    assert len(services) == 1
    assert (services[0], URIRef(DCTERMS + "conformsTo"), URIRef(ldes.LDES_SPEC)) in cat
    assert str(cat.value(services[0], URIRef(DCAT + "endpointURL"))).endswith(f"/{releases.second.release_id}/changes.ttl")
    html = (releases.second.path / "index.html").read_text(encoding="utf-8")
    assert '<p id="event-stream">' in html and 'href="changes.ttl"' in html


# -- the writer on small hand-made releases -------------------------------------------------

def fake_release(root: Path, name: str, lines: dict[str, list[str]], changelog: list[tuple[str, str, str]]) -> Path:
    """A release directory with just what the stream reads: dataset.nq.gz and changelog.csv."""
    d = root / name
    d.mkdir(parents=True)
    with gzip.open(d / "dataset.nq.gz", "wt", encoding="utf-8") as f:
        for source, statements in lines.items():
            for s in statements:
                f.write(f"{s} <https://w3id.org/se-pipeline/graph/{source}> .\n")
    (d / "changelog.csv").write_text("source,change,record\n" + "".join(f"{a},{b},{c}\n" for a, b, c in changelog))
    return d


def e(i: int) -> str:
    return f"https://w3id.org/se-pipeline/id/src/{i}"


def stmt(i: int, name: str) -> str:
    return f'<{e(i)}> <https://schema.org/name> "{name}"'


def test_pages_split_above_the_member_count_and_buckets_group_every_statement(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ldes, "PAGE_MEMBERS", 2)
    monkeypatch.setattr(ldes, "BUCKET_RECORDS", 1)  # five buckets for five records
    lines = {"src": [stmt(i, f"n{i}") for i in range(5)] + [f'<{e(i)}#address> <https://schema.org/postalCode> "P{i}"'
                                                           for i in range(5)]}
    rel = fake_release(tmp_path, "r1", lines, [])
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    result = ldes.write_event_stream(rel, None, [("src", e(i).encode()) for i in range(5)], "r1", when,
                                     "https://w3id.org/se-pipeline/id/", tmp_path)
    assert result.started and result.members == 5
    assert [p.path for p in result.pages] == ["changes/r1/1.trig", "changes/r1/2.trig", "changes/r1/3.trig"]
    seen = {}
    for p in result.pages:
        seen.update(members(parse(rel / p.path, BASE + p.path), "https://w3id.org/se-pipeline/id/changes"))
    assert {str(m["of"]) for m in seen.values()} == {e(i) for i in range(5)}
    assert all(len(m["graph"]) == 2 for m in seen.values())  # the record and its #address
    assert not list(tmp_path.glob("ldes-*"))  # no scratch left


def test_a_record_gone_from_the_release_is_a_delete_without_description_and_time_never_goes_back(tmp_path: Path) -> None:
    when = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    r1 = fake_release(tmp_path, "r1", {"src": [stmt(1, "a"), stmt(2, "b")]}, [])
    ldes.write_event_stream(r1, None, [("src", e(1).encode()), ("src", e(2).encode())], "r1", when,
                            "https://w3id.org/se-pipeline/id/", tmp_path)
    r2 = fake_release(tmp_path, "r2", {"src": [stmt(1, "a2")]}, [("src", "changed", e(1)), ("src", "removed", e(2))])
    result = ldes.write_event_stream(r2, r1, [], "r2", when, "https://w3id.org/se-pipeline/id/", tmp_path)
    assert [p.path for p in result.carried] == ["changes/r1/1.trig"]
    assert result.pages[0].time == when + timedelta(seconds=1)  # same second as r1: one later
    found = {str(m["of"]): m for m in members(parse(r2 / result.pages[0].path, BASE), "https://w3id.org/se-pipeline/id/changes").values()}
    assert found[e(2)]["types"] == {AS.Delete} and found[e(2)]["graph"] == set()
    assert found[e(1)]["types"] == {AS.Update}
    assert {str(o) for _, _, o in found[e(1)]["graph"]} == {"a2"}


@pytest.mark.parametrize("node", ["../../../etc/passwd", "changes/x/1.trig", "http://elsewhere.example/p.trig"])
def test_a_previous_stream_listing_a_page_outside_its_release_is_refused(tmp_path: Path, node: str) -> None:
    rel = tmp_path / "r0"
    (rel / "changes" / "r0").mkdir(parents=True)
    (rel / "changes" / "r0" / "1.trig").write_text("")
    (rel / "changes.ttl").write_text(f"""@prefix tree: <https://w3id.org/tree#> .
<> tree:relation [ a tree:GreaterThanOrEqualToRelation ; tree:value "2026-01-01T00:00:00Z" ; tree:node <{node}> ] .""")
    with pytest.raises(ReleaseError, match="lists a page that is not in the release"):
        ldes.previous_pages(rel)


def test_hostile_literals_stay_inside_their_member_graph(tmp_path: Path) -> None:
    nasty = '"} <http://evil.example/s> <http://evil.example/p> <http://evil.example/o> . GRAPH <x> { \\n\\u0000 ☃ @base <z> .'
    line = f'<{e(1)}> <https://schema.org/name> "{nasty.replace(chr(34), chr(92) + chr(34))}"'
    rel = fake_release(tmp_path, "r1", {"src": [line]}, [])
    result = ldes.write_event_stream(rel, None, [("src", e(1).encode())], "r1", datetime(2026, 1, 1, tzinfo=timezone.utc),
                                     "https://w3id.org/se-pipeline/id/", tmp_path)
    page = rel / result.pages[0].path
    found = members(parse(page, BASE + "p.trig"), "https://w3id.org/se-pipeline/id/changes")
    (member,) = found.values()
    assert len(member["graph"]) == 1
    (_, _, name), = member["graph"]
    assert str(name).startswith('"} <http://evil.example/s>') and "☃" in str(name)
    ds = parse(page, BASE + "p.trig")
    assert not list(ds.quads((URIRef("http://evil.example/s"), None, None, None)))
