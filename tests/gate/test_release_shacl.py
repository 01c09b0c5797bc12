"""The release's SHACL check runs in a helper process and reports like the in-process one."""
from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from se_pipeline import lifeline
from se_pipeline.gate.release_shacl import start_release_validation, validate_release
from se_pipeline.namespaces import SE_GRAPH, SH
from tests.gate.helpers import FIXTURES


def _nq_gz(fixture: Path, target: Path, graph: str = SE_GRAPH + "coops_uk") -> Path:
    """A fixture's Turtle as a release's N-Quads (one named graph), gzipped."""
    triples = ox.parse(path=str(fixture), format=ox.RdfFormat.TURTLE)
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph)) for t in triples]
    with gzip.open(target, "wb") as f:
        f.write(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    return target


def _conforms_in(report: Path) -> bool:
    g = rdflib.Graph().parse(report, format="turtle")
    values = list(g.objects(None, rdflib.URIRef(SH + "conforms")))
    assert len(values) == 1
    return bool(values[0].toPython())


@pytest.mark.parametrize("folder", ["valid", "invalid"])
def test_the_helper_gives_the_verdict_summary_and_report_of_the_in_process_check(folder: str, tmp_path: Path) -> None:
    fixture = sorted((FIXTURES / folder).glob("*.ttl"))[0]
    nq = _nq_gz(fixture, tmp_path / "dataset.nq.gz")
    conforms, report, summary = validate_release(nq)
    assert conforms is (folder == "valid")

    pending = start_release_validation(nq, tmp_path / "shacl-report.ttl")
    assert pending.result() == (conforms, summary)
    assert (tmp_path / "shacl-report.ttl").read_bytes() == report
    assert _conforms_in(tmp_path / "shacl-report.ttl") is conforms
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset.nq.gz", "shacl-report.ttl"]  # no summary left


def test_a_dataset_that_does_not_parse_fails_the_helper_with_the_parser_error(tmp_path: Path) -> None:
    nq = tmp_path / "dataset.nq.gz"
    with gzip.open(nq, "wb") as f:
        f.write(b'<https://w3id.org/se-pipeline/id/x/1> <http://schema.org/name> "unterminated .\n')
    pending = start_release_validation(nq, tmp_path / "shacl-report.ttl")
    with pytest.raises(lifeline.HelperFailed, match=r"(?s)release SHACL failed \(exit 1\).*SyntaxError"):
        pending.result()
    assert not (tmp_path / "shacl-report.ttl").exists()
