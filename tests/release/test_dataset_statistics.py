"""Release statistics read each part's N-Quads dump in chunks of whole lines."""
from __future__ import annotations

import io
import weakref
from pathlib import Path

import pyoxigraph as ox
import pytest

from se_pipeline.release.build import DatasetStatistics
from se_pipeline.release.gate import FingerprintBuilder, LineBuffer


def test_chunks_cut_inside_lines_are_handed_on_as_whole_lines() -> None:
    data = b"".join(f'<http://e/{i}> <http://p> "v\\n{i}" <http://g> .\n'.encode() for i in range(500))
    got: list[bytes] = []
    sink = LineBuffer(got.append)
    for start in range(0, len(data), 37):           # 37-byte chunks: cut mid-term, mid-escape
        assert sink.write(data[start:start + 37]) == len(data[start:start + 37])
    assert sink.end() == b""
    assert b"".join(got) == data and all(chunk.endswith(b"\n") for chunk in got)
    sink.write(b"<http://e/1> <http://p> ")
    assert sink.end() == b"<http://e/1> <http://p> " and sink.end() == b""


def test_statistics_of_a_large_part_equal_its_whole_dump() -> None:
    graph = "https://w3id.org/se-pipeline/graph/demo"
    store = ox.Store()
    store.extend(ox.Quad(ox.NamedNode(f"https://w3id.org/se-pipeline/id/demo/{i}"), ox.NamedNode("http://schema.org/name"),
                         ox.Literal(f"name {i} " + "x" * (i % 50)), ox.NamedNode(graph)) for i in range(20_000))
    statistics, out = DatasetStatistics(), io.BytesIO()
    assert list(statistics.add_part([store], graph, out)) == [store]
    whole = store.dump(format=ox.RdfFormat.N_QUADS)
    assert out.getvalue() == whole                   # several 8 KB chunks, nothing lost or doubled
    expected = FingerprintBuilder()
    expected.add_lines(whole)
    assert statistics.quads.result() == expected.result() and statistics.quads.count == 20_000
    assert len(statistics.records.digests) == 20_000


@pytest.mark.parametrize("slice_bytes", [None, 700])
def test_datasets_hold_one_store_at_a_time(tmp_path: Path, monkeypatch, slice_bytes: int | None) -> None:
    """The store of a part, or of a part's slice, is let go before the next is loaded (at
    10^6 enterprises a source's store was most of the release's memory); the files still hold every part."""
    from se_pipeline.release import build

    alive: list[weakref.ref] = []
    loaded_while: list[int] = []

    class Tracked:
        """A store we can watch: it delegates to a real one and takes weak references."""

        def __init__(self, store: ox.Store) -> None:
            self._store = store

        def __getattr__(self, name: str):
            return getattr(self._store, name)

        def __len__(self) -> int:
            return len(self._store)

        def quads_for_pattern(self, *pattern):
            return Statements(self, self._store.quads_for_pattern(*pattern))

    class Statements:
        """An iterator that keeps its store alive as long as it is held (as Oxigraph's do)."""

        def __init__(self, store: Tracked, quads) -> None:
            self.store, self.quads = store, quads

        def __iter__(self):
            return self

        def __next__(self):
            return next(self.quads)

    def load_tracked(path: Path, graph: str) -> Tracked:
        loaded_while.append(sum(ref() is not None for ref in alive))
        tracked = Tracked(load(path, graph))
        alive.append(weakref.ref(tracked))
        return tracked

    load = build._load
    monkeypatch.setattr(build, "_load", load_tracked)
    if slice_bytes:
        monkeypatch.setattr(build, "PART_SLICE_BYTES", slice_bytes)
    parts = []
    for k in range(3):
        path = tmp_path / f"g{k}.nt"
        path.write_text("".join(f"<https://w3id.org/se-pipeline/id/s{k}/{i}> <http://schema.org/name> \"n{i}\" .\n"
                                for i in range(50)), encoding="utf-8")
        parts.append(build.GraphPart(f"https://w3id.org/se-pipeline/graph/s{k}", path))
    statistics = build.DatasetStatistics()
    build.write_datasets(tmp_path, parts, statistics, tmp_path)
    slices = [1 if slice_bytes is None else -(-p.path.stat().st_size // slice_bytes) for p in parts]
    assert loaded_while == [0] * sum(slices) and min(slices) == (1 if slice_bytes is None else 6)
    assert statistics.quads.count == 150
    assert len(list(ox.parse(path=str(tmp_path / "dataset.jsonld"), format=ox.RdfFormat.JSON_LD))) == 150


def test_coordinates_wait_as_text_until_the_landing_page(tmp_path: Path) -> None:
    """While the datasets are written, the parts' landing-page coordinates are not held as
    tuples (at 10^6 enterprises they were hundreds of megabytes beside the largest store);
    decoded for the page, they are those of the parts' stores, in part order."""
    from se_pipeline.access.landing import DataCounts
    from se_pipeline.namespaces import ESSGLOBAL, GEO, RDF_TYPE, SCHEMA
    from se_pipeline.release import build

    parts, expected = [], DataCounts()
    for k in range(3):
        path = tmp_path / f"g{k}.nt"
        lines = []
        for i in range(40):
            e = f"<https://w3id.org/se-pipeline/id/s{k}/{i}>"
            lines += [f"{e} <{RDF_TYPE}> <{ESSGLOBAL}SSEInitiative> .", f'{e} <{SCHEMA}name> "Café {k}-{i} \\"x\\"" .']
            if i % 3:
                lines += [f'{e} <{GEO}lat> "{k + i / 100}" .', f'{e} <{GEO}long> "-{i / 7:.5f}" .']
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        parts.append(build.GraphPart(f"https://w3id.org/se-pipeline/graph/s{k}", path))
        expected.add(build._load(path, parts[-1].graph))
    statistics = build.DatasetStatistics()
    build.write_datasets(tmp_path, parts, statistics, tmp_path)
    assert statistics.landing.coords == [] and len(statistics.coords_texts) == 3
    landing = statistics.landing_with_coords()
    assert len(landing.coords) == 3 * 26 and landing.coords == expected.coords
    assert (landing.enterprises, landing.by_source, landing.triples) == (expected.enterprises, expected.by_source,
                                                                         expected.triples)
    assert statistics.landing_with_coords().coords == expected.coords  # decoded once, not twice
