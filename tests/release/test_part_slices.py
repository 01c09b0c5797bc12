"""A large part written slice by slice holds what it holds written whole."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from se_pipeline.namespaces import ESSGLOBAL, GEO, OWL, RDF_TYPE, SCHEMA
from se_pipeline.release import build, part_slices

BASE = "https://w3id.org/se-pipeline/id/demo/"
GRAPH = "https://w3id.org/se-pipeline/graph/demo"


def _lines(n: int = 120) -> list[str]:
    """Records with an address node each, its lines after the record's (as our RDF writer
    puts them), then `owl:sameAs` lines whose subjects come back after other records (as in
    the links graph) and some statements written a second time."""
    lines = []
    for i in range(n):
        e = f"<{BASE}{i}>"
        lines += [f"{e} <{RDF_TYPE}> <{ESSGLOBAL}SSEInitiative> .", f'{e} <{SCHEMA}name> "Co-op {i} ✓" .',
                  f"{e} <{ESSGLOBAL}hasAddress> <{BASE}{i}#address> .",
                  f"{e} <{ESSGLOBAL}organisationalStructure> <http://purl.org/essglobal/standard/organisational-structure/OS{i % 3}> ."]
        if i % 4:
            lines += [f'{e} <{GEO}lat> "{i / 10}" .', f'{e} <{GEO}long> "-{i / 20}" .']
        lines.append(f'<{BASE}{i}#address> <{SCHEMA}addressCountry> "{"GB" if i % 2 else "FR"}" .')
    lines += [f"<{BASE}{i}> <{OWL}sameAs> <{BASE}{i + 1}> ." for i in range(0, n - 1, 3)]
    lines += [f'<{BASE}{i}> <{SCHEMA}name> "Co-op {i} ✓" .' for i in range(0, n, 7)]  # again
    return lines


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_every_line_goes_to_its_subjects_slice_the_same_way_every_time(tmp_path: Path) -> None:
    lines = _lines(2_000)                                              # over 1 MB: several blocks
    source = tmp_path / "g.nt"
    source.write_text("\n".join(lines), encoding="utf-8")             # the last line without its newline
    assert source.stat().st_size > 1 << 20
    scattered = part_slices.scattered_subjects(source)
    assert scattered                                                  # the sameAs and repeated lines
    slices = part_slices.split(source, 5, tmp_path / "a", scattered)
    assert len(slices) == 5
    texts = [p.read_text(encoding="utf-8").splitlines() for p in slices]
    assert sorted(line for t in texts for line in t) == sorted(lines)  # each line once, none lost
    where: dict[str, int] = {}
    for k, text in enumerate(texts):
        assert text, "five slices of 2,000 records: none empty"
        for line in text:
            record = line[1:line.index(">")].partition("#")[0]
            assert where.setdefault(record, k) == k     # a record, its address and its links in one slice
        subjects = [line[:line.index(">")] for line in text]
        runs = [x for j, x in enumerate(subjects) if j == 0 or subjects[j - 1] != x]
        assert len(runs) == len(set(runs))               # each subject's lines together
    again = part_slices.split(source, 5, tmp_path / "b", part_slices.scattered_subjects(source))
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in slices]


@pytest.mark.parametrize("line", [
    f'_:b1 <{SCHEMA}name> "blank subject" .',
    f"<{BASE}1> <{ESSGLOBAL}hasAddress> _:a1 .",
    f'<{BASE}1> <{SCHEMA}name> "a literal with _: in it" .',
    f'<{BASE}\\u0031> <{SCHEMA}name> "escaped subject" .',
    f'"not a subject" <{SCHEMA}name> "x" .',
])
def test_a_file_it_cannot_split_safely_is_not_split(tmp_path: Path, line: str) -> None:
    lines = _lines()
    source = _write(tmp_path / "g.nt", lines[:300] + [line] + lines[300:])
    assert part_slices.scattered_subjects(source) is None


def test_a_subject_together_in_the_file_is_not_held_back(tmp_path: Path) -> None:
    lines = _lines()
    grouped = _write(tmp_path / "g.nt", lines[:-(40 + 18)])           # records only: each subject's lines together
    assert part_slices.scattered_subjects(grouped) == set()
    source = _write(tmp_path / "h.nt", lines)
    held = part_slices.scattered_subjects(source)
    again = {line[:line.index(">") + 1].encode("utf-8") for line in lines[-(40 + 18):]}
    assert held == {part_slices._key(subject) for subject in again}


def test_a_failed_split_leaves_no_slice_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _write(tmp_path / "g.nt", _lines())

    def fail(*args: object) -> None:
        raise OSError("disk full")
    monkeypatch.setattr(part_slices, "_route", fail)
    with pytest.raises(OSError):
        part_slices.split(source, 4, tmp_path / "s", set())
    assert list((tmp_path / "s").iterdir()) == []


def _datasets(folder: Path, part: build.GraphPart, work: Path) -> build.DatasetStatistics:
    folder.mkdir()
    work.mkdir()
    statistics = build.DatasetStatistics()
    build.write_datasets(folder, [part], statistics, work)
    return statistics


def _statements(path: Path, fmt: ox.RdfFormat) -> set[ox.Quad]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return set(ox.parse(data, format=fmt))


def test_a_part_written_in_slices_equals_it_written_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    part = build.GraphPart(GRAPH, _write(tmp_path / "g.nt", _lines()))
    whole = _datasets(tmp_path / "whole", part, tmp_path / "w1")
    monkeypatch.setattr(build, "PART_SLICE_BYTES", 2_000)
    sliced = _datasets(tmp_path / "sliced", part, tmp_path / "w2")
    assert not (tmp_path / "w2" / "slices").exists() or not any((tmp_path / "w2" / "slices").iterdir())

    for name, fmt in (("dataset.nq.gz", ox.RdfFormat.N_QUADS), ("dataset.ttl", ox.RdfFormat.TURTLE),
                      ("dataset.jsonld", ox.RdfFormat.JSON_LD)):
        got, expected = (_statements(tmp_path / d / name, fmt) for d in ("sliced", "whole"))
        assert got == expected and len(expected) == whole.statements, name
    # Duplicates merged within their slice: as many statements as the whole store's.
    assert sliced.statements == whole.statements == sliced.quads.count
    assert sliced.quads.result() == whole.quads.result()
    assert sorted(sliced.records.digests) == sorted(whole.records.digests)
    one, two = whole.parts[0], sliced.parts[0]
    assert (two["triples"], two["classes"], two["concepts"]) == (one["triples"], one["classes"], one["concepts"])
    landing_one, landing_two = dict(one["landing"]), dict(two["landing"])
    assert sorted(json.loads(landing_two.pop("coords"))) == sorted(json.loads(landing_one.pop("coords")))
    assert landing_two == landing_one                                   # countries through the address node

    turtle = (tmp_path / "sliced" / "dataset.ttl").read_text(encoding="utf-8")
    assert turtle.count("@prefix schema: ") == 1                      # one prefix block for the part


@pytest.mark.parametrize("slice_bytes", [build.PART_SLICE_BYTES, 2_000])
def test_every_subject_is_one_node_object_whole_or_in_slices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            slice_bytes: int) -> None:
    """A store gives a subject's statements in the order they were loaded: the subjects of
    `_lines`' last lines, far from their record's, are held back and written together,
    so each is one JSON-LD node object, and one Turtle subject block."""
    part = build.GraphPart(GRAPH, _write(tmp_path / "g.nt", _lines()))
    monkeypatch.setattr(build, "PART_SLICE_BYTES", slice_bytes)
    _datasets(tmp_path / "out", part, tmp_path / "w")
    graph = json.loads((tmp_path / "out" / "dataset.jsonld").read_text(encoding="utf-8"))["@graph"][0]["@graph"]
    ids = [node["@id"] for node in graph]
    assert len(ids) == len(set(ids)) == 240
    turtle = (tmp_path / "out" / "dataset.ttl").read_text(encoding="utf-8")
    assert turtle.count(f"<{BASE}0> ") == 1                          # its sameAs and name again in its block


def test_turtle_of_several_stores_has_one_prefix_block_even_after_an_empty_store(tmp_path: Path) -> None:
    graph = ox.NamedNode(GRAPH)
    stores = [ox.Store()]
    for k in range(2):
        store = ox.Store()
        store.add(ox.Quad(ox.NamedNode(f"{BASE}{k}"), ox.NamedNode(f"{SCHEMA}name"), ox.Literal(f"n{k}"), graph))
        stores.append(store)
    with (tmp_path / "t.ttl").open("wb") as f:
        out = build._Range(f)
        statements = list(build._turtle_then_statements(iter(stores), graph, out))
    turtle = (tmp_path / "t.ttl").read_bytes()
    assert turtle.startswith(build.TURTLE_PREFIXES) and turtle.count(b"@prefix schema: ") == 1
    assert {(t.subject, t.object) for t in ox.parse(turtle, format=ox.RdfFormat.TURTLE)} == {
        (q.subject, q.object) for q in statements} and len(statements) == 2
