"""The release's SHACL check runs in a helper process, from the files the release is built
from, and reports what the check of the published N-Quads reports."""
from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from se_pipeline import child_processes
from se_pipeline.gate.release_shacl import start_release_validation, validate_release, validate_release_parts
from se_pipeline.namespaces import SE_GRAPH, SH
from tests.gate.helpers import FIXTURES


def _nq_gz(fixture: Path, target: Path, graph: str = SE_GRAPH + "coops_uk") -> Path:
    """A fixture's Turtle as a release's N-Quads (one named graph), gzipped."""
    triples = ox.parse(path=str(fixture), format=ox.RdfFormat.TURTLE)
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph)) for t in triples]
    with gzip.open(target, "wb") as f:
        f.write(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    return target


def _part(fixture: Path, target: Path) -> Path:
    """A fixture's Turtle as a release part's N-Triples file."""
    target.write_bytes(ox.serialize(ox.parse(path=str(fixture), format=ox.RdfFormat.TURTLE),
                                    format=ox.RdfFormat.N_TRIPLES))
    return target


def _conforms_in(report: Path) -> bool:
    g = rdflib.Graph().parse(report, format="turtle")
    values = list(g.objects(None, rdflib.URIRef(SH + "conforms")))
    assert len(values) == 1
    return bool(values[0].toPython())


@pytest.mark.parametrize("folder", ["valid", "invalid"])
def test_the_helper_on_the_parts_gives_the_verdict_summary_and_report_of_the_published_nquads(
        folder: str, tmp_path: Path) -> None:
    fixtures = sorted((FIXTURES / folder).glob("*.ttl"))[:2]
    graphs = [SE_GRAPH + "coops_uk", SE_GRAPH + "links"]
    parts = [(g, _part(f, tmp_path / f"part{i}.nt")) for i, (g, f) in enumerate(zip(graphs, fixtures))]
    nq = tmp_path / "dataset.nq.gz"
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
             for g, path in parts for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)]
    with gzip.open(nq, "wb") as f:
        f.write(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    conforms, report, summary = validate_release(nq)
    assert conforms is (folder == "valid")
    assert validate_release_parts(parts) == (conforms, report, summary)

    pending = start_release_validation(tmp_path / "shacl-report.ttl", parts)
    pending.helper.wait()
    assert pending.result() == (conforms, summary)
    assert (tmp_path / "shacl-report.ttl").read_bytes() == report
    assert _conforms_in(tmp_path / "shacl-report.ttl") is conforms
    assert sorted(p.name for p in tmp_path.iterdir()) == [  # no summary left
        "dataset.nq.gz", "part0.nt", "part1.nt", "shacl-report.ttl"]


def test_a_part_that_does_not_parse_fails_the_helper_with_the_parser_error(tmp_path: Path) -> None:
    part = tmp_path / "links.nt"
    part.write_bytes(b'<https://w3id.org/se-pipeline/id/x/1> <http://schema.org/name> "unterminated .\n')
    pending = start_release_validation(tmp_path / "shacl-report.ttl", [(SE_GRAPH + "links", part)])
    with pytest.raises(child_processes.ChildProcessFailed,
                       match=r"(?s)release SHACL failed \(exit 1\).*cannot read N-Triples \S*links\.nt: Parser error"):
        pending.helper.wait()
    assert not (tmp_path / "shacl-report.ttl").exists()


def test_a_graph_counts_as_gated_only_with_the_bytes_and_shapes_its_gate_passed(tmp_path: Path) -> None:
    import json

    from se_pipeline.gate.release_shacl import gated_graphs, report_turtle
    from se_pipeline.gate.source import gate_source
    from se_pipeline.settings import Settings
    from se_pipeline.sources.ingest import ingest
    from se_pipeline.sources.registry import all_sources
    from se_pipeline.state import SourceState

    settings = Settings(output_dir=tmp_path / "out")
    assert ingest(all_sources()["wfto"], settings, None).ok
    assert gate_source("wfto", settings).status == "promoted"
    good = SourceState.of(settings.state_dir, "wfto").good
    graph = SE_GRAPH + "wfto"
    links = tmp_path / "links.nt"  # a part no gate has seen (no gate.json beside it)
    links.write_text("")
    assert gated_graphs([(graph, good / "graph.nt"), (SE_GRAPH + "links", links)]) == {graph}
    _, report, summary = validate_release(_nq_gz(sorted((FIXTURES / "valid").glob("*.ttl"))[0], tmp_path / "d.nq.gz"),
                                          gated=frozenset({graph}))
    comments = list(rdflib.Graph().parse(data=report, format="turtle").objects(None, rdflib.RDFS.comment))
    assert [str(c) for c in comments] == [summary.split("\n\n")[-1]] and "wfto" in summary
    assert validate_release_parts([(graph, good / "graph.nt"), (SE_GRAPH + "links", links)]) == (
        True, report_turtle(True, [], gated=frozenset({graph})), summary)

    verdict = json.loads((good / "gate.json").read_text())
    (good / "gate.json").write_text(json.dumps({**verdict, "shapes_sha256": "0" * 64}))  # other shapes
    assert gated_graphs([(graph, good / "graph.nt")]) == frozenset()
    (good / "gate.json").write_text(json.dumps(verdict))
    with (good / "graph.nt").open("a", encoding="utf-8") as f:  # other bytes
        f.write('<https://w3id.org/se-pipeline/id/wfto/x> <https://schema.org/name> "x" .\n')
    assert gated_graphs([(graph, good / "graph.nt")]) == frozenset()
