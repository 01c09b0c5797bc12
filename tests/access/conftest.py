"""A sample release for the access tests, built once per session without Dagster.

Every source's bundled sample goes through ingest -> SHACL gate -> build_release, plus a
small `links` graph (owl:sameAs between records of different sources, as the identity
stage publishes it) so the cross-source query has something to find. Facts the tests
check answers against are computed from the release's N-Quads with rdflib (a parser
independent of the Oxigraph the endpoint uses).
"""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import rdflib

from se_pipeline.namespaces import OWL, SE_GRAPH

LINKS_GRAPH = SE_GRAPH + "links"


def _links_part(work: Path, good_graphs: dict[str, Path]) -> Path | None:
    """owl:sameAs between the first record of two sources (synthetic, for the query test)."""
    firsts = []
    for name in ("ncba", "usfwc", "coops_uk", "standard_csv"):
        path = good_graphs.get(name)
        if not path:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://purl.org/essglobal/vocab/SSEInitiative>" in line:
                firsts.append(line.split(" ", 1)[0])
                break
    if len(firsts) < 2:
        return None
    out = work / "links.nt"
    out.write_text(f"{firsts[0]} <{OWL}sameAs> {firsts[1]} .\n"
                   + (f"{firsts[3]} <{OWL}sameAs> {firsts[2]} .\n" if len(firsts) >= 4 else ""), encoding="utf-8")
    return out


def build_sample_release(output: Path) -> Path:
    from se_pipeline.acquire.http import HttpClient
    from se_pipeline.gate.release_shacl import start_release_validation
    from se_pipeline.gate.source import gate_source
    from se_pipeline.release import build
    from se_pipeline.settings import load_settings
    from se_pipeline.sources.ingest import ingest
    from se_pipeline.sources.registry import all_sources
    from se_pipeline.state import SourceState

    settings = load_settings(None, output)
    specs = [s for s in all_sources().values() if settings.enabled(s.name)]
    http = HttpClient()
    for spec in specs:
        ingest(spec, settings, http, None)
        gate_source(spec.name, settings)
    goods = {s.name: SourceState.of(settings.state_dir, s.name).good / "graph.nt" for s in specs}
    extra = []
    links = _links_part(output, {k: v for k, v in goods.items() if v.is_file()})
    if links:
        extra.append(build.GraphPart(LINKS_GRAPH, links))
    result = build.build_release(settings, specs, validate=start_release_validation, extra_parts=extra)
    return result.path


@pytest.fixture(scope="session")
def sample_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_release(tmp_path_factory.mktemp("access-out"))


@pytest.fixture(scope="session")
def quads(sample_release: Path) -> list[tuple]:
    """All quads of the release as (s, p, o, g) rdflib terms, parsed by rdflib."""
    ds = rdflib.Dataset()
    with gzip.open(sample_release / "dataset.nq.gz", "rb") as f:
        ds.parse(data=f.read().decode("utf-8"), format="nquads")
    return [(s, p, o, g) for s, p, o, g in ds.quads((None, None, None, None)) if g is not None]
