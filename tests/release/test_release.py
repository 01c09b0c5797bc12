"""Releases: complete, write-once, re-read by independent parsers, `latest` atomic."""
from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from se_pipeline.gate.source import gate_source
from se_pipeline.release import gate
from se_pipeline.release.build import build_release
from se_pipeline.release.errors import ReleaseError
from se_pipeline.settings import Settings
from se_pipeline.sources.ingest import ingest
from se_pipeline.sources.registry import all_sources

from .conftest import ingest_and_gate, publish

FILES = {"dataset.ttl", "dataset.jsonld", "dataset.nq.gz", "catalog.ttl", "shacl-report.ttl",
         "quarantine.csv", "dropped-values.csv", "resolved-values.csv", "SHA256SUMS"}


def test_release_has_every_file_checksummed_and_read_only(settings: Settings) -> None:
    ingest_and_gate(settings)
    result = publish(settings)
    latest = settings.latest.resolve()
    assert latest == result.path and FILES <= {p.name for p in latest.iterdir()}
    listed = []
    for line in (latest / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((latest / name).read_bytes()).hexdigest() == digest
        listed.append(name)
    every = {p.relative_to(latest).as_posix() for p in latest.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert sorted(listed, key=lambda n: n.split("/")) == listed and set(listed) == every
    assert any(n.startswith("id/") for n in listed)  # documents in sub-folders are covered
    assert all((p.stat().st_mode & 0o222) == 0 for p in latest.rglob("*") if p.is_file())


def test_dropped_and_resolved_values_name_the_record_and_the_reading(settings: Settings) -> None:
    sources = [all_sources()[n] for n in ("dotcoop", "ica_youth", "transformap")]
    for spec in sources:
        assert ingest(spec, settings, None).ok and gate_source(spec.name, settings).status == "promoted"
    latest = build_release(settings, sources).path
    with (latest / "resolved-values.csv").open(newline="", encoding="utf-8") as f:
        resolved = list(csv.DictReader(f))
    with (latest / "dropped-values.csv").open(newline="", encoding="utf-8") as f:
        dropped = list(csv.DictReader(f))
    assert resolved and all(r["source"] and r["record_id"] and int(r["line"]) > 0 for r in resolved)
    assert {(r["source"], r["reason"].split(" read as ")[0]) for r in resolved} >= {
        ("ica_youth", "'Swaziland'"), ("ica_youth", "'Cameroun'"), ("ica_youth", "'Democratic Republic of Congol'"),
        ("transformap", "'Österreich'")}
    assert any(d["source"] == "dotcoop" and d["field"] == "country" and "second country column" in d["reason"]
               for d in dropped)
    published = gzip.decompress((latest / "dataset.nq.gz").read_bytes()).decode("utf-8")
    for r in resolved:  # a resolved value belongs to a published record
        assert f"<https://w3id.org/se-pipeline/id/{r['source']}/" in published


def test_two_document_writers_write_the_documents_one_writes(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from se_pipeline.release import build

    ingest_and_gate(settings)
    one = publish(settings).path
    monkeypatch.setattr(build, "TWO_DOCUMENT_WRITERS_FROM", 0)
    two = publish(settings).path

    def documents(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in (root / "id").rglob("*") if p.is_file()}

    assert len({n.split("/")[1] for n in documents(one)}) > 1  # several sources to share out
    assert documents(two) == documents(one)
    listed = {line.split("  ")[1] for line in (two / "SHA256SUMS").read_text().splitlines()}
    assert set(documents(two)) <= listed
    assert all((p.stat().st_mode & 0o222) == 0 for p in (two / "id").rglob("*") if p.is_file())


def test_formats_hold_the_same_statements_and_catalog_counts_them(settings: Settings) -> None:
    ingest_and_gate(settings)
    result = publish(settings)
    d = result.path
    with gzip.open(d / "dataset.nq.gz", "rb") as f:
        quads = list(ox.parse(f, format=ox.RdfFormat.N_QUADS))
    ttl = list(ox.parse(path=str(d / "dataset.ttl"), format=ox.RdfFormat.TURTLE))
    jl = list(ox.parse(path=str(d / "dataset.jsonld"), format=ox.RdfFormat.JSON_LD))
    assert {q.triple for q in quads} == {t.triple for t in ttl} == {q.triple for q in jl}
    assert len(quads) == result.triples
    doc = json.loads((d / "dataset.jsonld").read_text())
    assert doc["@context"]["essglobal"] == "http://purl.org/essglobal/vocab/"
    cat = ox.Store()
    cat.load(path=str(d / "catalog.ttl"), format=ox.RdfFormat.TURTLE)
    rows = list(cat.query("""PREFIX void: <http://rdfs.org/ns/void#> PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?id ?n ?lic WHERE { ?s dcterms:identifier ?id ; void:triples ?n ; dcterms:license ?lic }"""))
    stated = {r["id"].value: int(r["n"].value) for r in rows}
    graphs: dict[str, int] = {}
    for q in quads:
        graphs[q.graph_name.value.rsplit("/", 1)[-1]] = graphs.get(q.graph_name.value.rsplit("/", 1)[-1], 0) + 1
    assert stated[result.release_id] == len(quads)
    assert stated["coops_uk"] == graphs["coops_uk"] and stated["wfto"] == graphs["wfto"]


def test_dissolved_organisations_stay_with_status_and_date(settings: Settings) -> None:
    ingest_and_gate(settings)
    store = ox.Store()
    with gzip.open(publish(settings).path / "dataset.nq.gz", "rb") as f:
        store.load(f, format=ox.RdfFormat.N_QUADS)
    rows = list(store.query("""PREFIX schema: <https://schema.org/> PREFIX sep: <https://w3id.org/se-pipeline/ontology/>
        SELECT ?e ?d WHERE { ?e sep:status <https://w3id.org/se-pipeline/taxonomy/status/Dissolved> ;
        schema:dissolutionDate ?d }""", use_default_graph_as_union=True))
    found = {r["e"].value.rsplit("/", 1)[-1]: r["d"].value for r in rows}
    assert found["R005500"] == "2015-10-24" and found["R005501"] == "2013-12-11"


def test_gate_refuses_a_tampered_file(settings: Settings, tmp_path: Path) -> None:
    ingest_and_gate(settings)
    d = publish(settings).path
    copy = tmp_path / "copy"
    shutil.copytree(d, copy)
    for p in copy.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    with gzip.open(copy / "dataset.nq.gz", "rb") as f:
        quads = list(ox.parse(f, format=ox.RdfFormat.N_QUADS))
    expected = gate.fingerprint(quads)
    assert gate.check_release_files(copy, expected) == []
    text = (copy / "dataset.ttl").read_text()
    (copy / "dataset.ttl").write_text(text.replace("Suma Wholefoods", "Suma Wholefood", 1))
    problems = gate.check_release_files(copy, expected)
    assert len(problems) == 1 and problems[0].startswith("dataset.ttl holds")
    # The helper the build runs finds the same, on its own.
    helper = subprocess.run([sys.executable, "-m", "se_pipeline.release.gate", str(copy)],
                            capture_output=True, text=True, timeout=120)
    assert helper.returncode == 1 and helper.stderr.startswith("dataset.ttl holds")
    (copy / "dataset.jsonld").write_text('{"@context": "https://example.org/remote-context.jsonld", "@id": "x"}')
    assert any("dataset.jsonld" in p for p in gate.check_release_files(copy, expected))
    assert gate.check_release_files(copy, gate.fingerprint(quads[1:]))[0].startswith("dataset.nq.gz holds")
    with pytest.raises(ReleaseError):
        gate.require(["x"])


def test_a_turtle_file_that_differs_from_the_nquads_stops_the_release(settings: Settings, monkeypatch) -> None:
    """The formats are re-read by a helper process; its verdict must stop the release."""
    from se_pipeline.release import build

    ingest_and_gate(settings)
    first = publish(settings)
    write_datasets = build.write_datasets

    def one_name_wrong(directory: Path, *args, **kwargs) -> None:
        write_datasets(directory, *args, **kwargs)
        text = (directory / "dataset.ttl").read_text(encoding="utf-8")
        (directory / "dataset.ttl").write_text(text.replace("Suma Wholefoods", "Suma Wholefood", 1), encoding="utf-8")

    monkeypatch.setattr(build, "write_datasets", one_name_wrong)
    time.sleep(1.1)  # a new release id (second resolution)
    # Nothing changed: every part was copied from the first release, and is proven by digest.
    with pytest.raises(ReleaseError, match=r"(?s)release gate failed.*dataset\.ttl( holds|'s part| is \d+ bytes|: the part)"):
        publish(settings)
    assert settings.latest.resolve() == first.path
    assert sorted(p.name for p in settings.releases_dir.iterdir()) == [first.path.name]


def test_nquads_lines_without_their_graph_names_are_the_statements_as_triples(tmp_path: Path) -> None:
    graphs = [f"https://w3id.org/se-pipeline/graph/{g}" for g in ("a", "b", "links")]
    quads = [ox.Quad(ox.NamedNode(f"https://x.org/id/{i}"), ox.NamedNode("https://schema.org/name"),
                     ox.Literal(f"n {i} <https://x.org/g> .") if i % 3 else ox.NamedNode(graphs[i % 2]),
                     ox.NamedNode(graphs[min(i // 40, 2)])) for i in range(100)]
    path = tmp_path / "d.nq.gz"
    with gzip.open(path, "wb") as f:
        f.write(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    assert gate.nquads_lines_fingerprints(path) == (gate.fingerprint(quads), gate.fingerprint(q.triple for q in quads))
    lines = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    by_line = b"".join(line[:line.rindex(b" <")] + b" .\n" for line in lines.splitlines())
    for cut in (0, 1, 39, 40, 41, 80, 99):  # a block may start and end anywhere between lines
        head = b"".join(lines.splitlines(keepends=True)[:cut])
        tail = lines[len(head):]
        assert gate.without_graph_names(head) + gate.without_graph_names(tail) == by_line
    swapped = lines.splitlines(keepends=True)
    swapped[0], swapped[50] = swapped[50], swapped[0]  # graph a's lines no longer consecutive
    with pytest.raises(ValueError, match="not consecutive"):
        gate.without_graph_names(b"".join(swapped))
    with pytest.raises(ValueError, match="without a graph name"):
        gate.without_graph_names(lines + b'<https://x.org/s> <https://x.org/p> "no graph" .\n')


def test_releases_are_write_once_and_ids_unique(settings: Settings) -> None:
    ingest_and_gate(settings)
    first, second = publish(settings), publish(settings)
    assert first.release_id != second.release_id
    assert settings.latest.resolve() == second.path and first.path.is_dir()


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import se_pipeline.release.build as build
    from se_pipeline.settings import Settings
    sys.path.insert(0, {tests!r})
    from release.conftest import publish
    stage, ready = sys.argv[1], Path(sys.argv[2])
    def pause(real):
        def wrapper(*args, **kwargs):
            ready.write_text("paused")
            time.sleep(60)
            return real(*args, **kwargs)
        return wrapper
    setattr(build, stage, pause(getattr(build, stage)))
    publish(Settings(output_dir=Path(sys.argv[3])))
""")


@pytest.mark.parametrize("stage", ["write_graph_object", "write_checksums_from", "finish_release", "switch_latest"])
def test_sigkill_at_any_stage_leaves_latest_on_the_previous_complete_release(
    settings: Settings, tmp_path: Path, stage: str
) -> None:
    ingest_and_gate(settings)
    previous = publish(settings).path
    ready = tmp_path / "ready"
    script = tmp_path / "kill_me.py"
    script.write_text(KILL_SCRIPT.format(tests=str(Path(__file__).resolve().parents[1])))
    time.sleep(1.1)  # a new release id (second resolution)
    child = subprocess.Popen([sys.executable, str(script), stage, str(ready), str(settings.output_dir)])
    try:
        deadline = time.time() + 60
        while not ready.exists():
            assert child.poll() is None, "child exited before reaching the stage"
            assert time.time() < deadline
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert settings.latest.resolve() == previous
    assert (previous / "SHA256SUMS").is_file()
    published = sorted(p.name for p in settings.releases_dir.iterdir() if not p.name.startswith("."))
    assert published == [previous.name] or stage == "switch_latest"
    after = publish(settings)  # the next run cleans up and publishes
    assert settings.latest.resolve() == after.path
    assert not list(settings.releases_dir.glob(".partial-*"))


def _nq(path: Path, statements: list[str]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("".join(s + "\n" for s in statements))
    return path


def test_changelog_lists_added_removed_changed_records_by_source(tmp_path: Path) -> None:
    from se_pipeline.release.changelog import RecordDigests, write_changelog

    g = "<https://w3id.org/se-pipeline/graph/coops_uk>"
    name = "<https://schema.org/name>"
    tricky = f'<https://x.org/id/a> <https://schema.org/description> "see {g} ." {g} .'  # a graph IRI as text
    old = _nq(tmp_path / "old.nq.gz", [tricky,
        f'<https://x.org/id/a> {name} "A" {g} .', f'<https://x.org/id/b> {name} "B" {g} .',
        f'<https://x.org/id/c#address> <https://schema.org/postalCode> "S1 1AA" {g} .',
        f'<https://x.org/id/c> {name} "C" {g} .'])
    new = _nq(tmp_path / "new.nq.gz", [tricky,
        f'<https://x.org/id/a> {name} "A" {g} .', f'<https://x.org/id/c> {name} "C" {g} .',
        f'<https://x.org/id/c#address> <https://schema.org/postalCode> "S2 2BB" {g} .',
        f'<https://x.org/id/d> {name} "D" {g} .'])
    current = RecordDigests()
    with gzip.open(new, "rb") as f:  # as the release statistics see it: a part's canonical N-Triples
        current.add_ntriples("coops_uk", ox.serialize([q.triple for q in ox.parse(f, format=ox.RdfFormat.N_QUADS)],
                                                      format=ox.RdfFormat.N_TRIPLES))
    counts = write_changelog(old, current, tmp_path / "changelog.csv")
    assert counts == {"coops_uk": {"added": 1, "removed": 1, "changed": 1}}
    rows = (tmp_path / "changelog.csv").read_text().splitlines()
    assert rows[1:] == ["coops_uk,removed,https://x.org/id/b", "coops_uk,changed,https://x.org/id/c",
                        "coops_uk,added,https://x.org/id/d"]


def test_first_release_adds_everything_and_an_identical_rerun_changes_nothing(settings: Settings) -> None:
    ingest_and_gate(settings)
    first = publish(settings)
    lines = (first.path / "changelog.csv").read_text().splitlines()[1:]
    assert lines and all(",added," in line for line in lines)
    second = publish(settings)
    assert (second.path / "changelog.csv").read_text().splitlines()[1:] == []


def test_a_failing_static_document_writer_fails_the_release_with_its_error(tmp_path: Path) -> None:
    """The child process that writes id/ documents must not fail silently."""
    from se_pipeline.release.build import GraphPart, _start_static_documents, _wait
    from se_pipeline.release.errors import ReleaseError

    missing = GraphPart("https://w3id.org/se-pipeline/graph/coops_uk", tmp_path / "missing.nt")
    child = _start_static_documents(tmp_path, [missing], "https://w3id.org/se-pipeline/id/", tmp_path / "sums")
    with pytest.raises(ReleaseError, match=r"(?s)static documents failed.*missing\.nt"):
        _wait(child)


def test_a_failing_partner_export_writer_fails_the_release_with_its_error(tmp_path: Path) -> None:
    """The child process that writes the partner exports must not fail silently either."""
    from se_pipeline.release.build import _start_partner_exports, _wait
    from se_pipeline.release.errors import ReleaseError

    child = _start_partner_exports(tmp_path, tmp_path / "state", ["coops_uk"], "not a base IRI", tmp_path / "sums")
    with pytest.raises(ReleaseError, match=r"(?s)partner exports failed.*not a base IRI"):
        _wait(child)


def test_a_graph_changed_after_its_gate_is_validated_again_and_stops_the_release(settings: Settings) -> None:
    """Graphs their gate passed are not validated twice, but only while their file is the
    one the gate passed: an enterprise slipped into a good graph afterwards (here without
    the name every enterprise must have) is caught by the release's own SHACL check."""
    from se_pipeline.state import SourceState

    ingest_and_gate(settings)
    first = publish(settings)
    good = SourceState.of(settings.state_dir, "coops_uk").good / "graph.nt"
    sneaked = "https://w3id.org/se-pipeline/id/coops_uk/SNEAKED"
    with good.open("a", encoding="utf-8") as f:
        f.write(f"<{sneaked}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://purl.org/essglobal/vocab/SSEInitiative> .\n"
                f"<{sneaked}> <http://purl.org/dc/terms/source> <https://w3id.org/se-pipeline/source/coops_uk> .\n"
                f'<{sneaked}> <http://purl.org/dc/terms/identifier> "SNEAKED" .\n')
    with pytest.raises(ReleaseError, match=r"(?s)published data does not conform to the shapes.*SNEAKED"):
        publish(settings)
    assert settings.latest.resolve() == first.path
    assert sorted(p.name for p in settings.releases_dir.iterdir()) == [first.path.name]


def test_the_nquads_fingerprint_reads_lines_as_statements_and_refuses_other_lines(tmp_path: Path) -> None:
    g = "<https://w3id.org/se-pipeline/graph/coops_uk>"
    lines = [f'<https://x.org/id/a> <https://schema.org/name> "A é" {g} .',
             f'<https://x.org/id/b> <https://schema.org/name> "B"@en {g} .']
    quads = list(ox.parse("\n".join(lines).encode(), format=ox.RdfFormat.N_QUADS))
    path = tmp_path / "d.nq.gz"
    with gzip.open(path, "wb") as f:
        f.write("\n".join(lines).encode())  # no final newline: the last line still counts
    assert gate.nquads_file_fingerprint(path) == gate.fingerprint(quads)
    with gzip.open(path, "wb") as f:
        f.write(("\n".join(lines) + "\n# a comment\n").encode())
    with pytest.raises(ValueError, match="3 lines hold 2 statements"):
        gate.nquads_file_fingerprint(path)
    with gzip.open(path, "wb") as f:
        f.write(("\n".join(lines) + ' "unterminated\n').encode())
    with pytest.raises(SyntaxError):
        gate.nquads_file_fingerprint(path)
