"""A source's documents are linked whole from the previous release when nothing its own
documents show changed, whatever changed in the other sources; and they equal the
documents a release written from scratch has."""
from __future__ import annotations

from pathlib import Path

import pytest

from se_pipeline.access import static_docs
from se_pipeline.namespaces import DEFAULT_DATA_BASE, ESSGLOBAL, OWL, RDF_TYPE, SCHEMA, SE_GRAPH, SKOS

B = DEFAULT_DATA_BASE
INIT = f"<{RDF_TYPE}> <{ESSGLOBAL}SSEInitiative>"
PRACTICE = "https://w3id.org/se-pipeline/ontology/practice"
WORKER_COOP = "<https://w3id.org/se-pipeline/taxonomy/practice/worker-coop>"
CONSUMER_COOP = "<https://w3id.org/se-pipeline/taxonomy/practice/consumer-coop>"


def _graphs(a_name: str, worker_label: str, consumer_label: str) -> dict[str, list[str]]:
    return {
        "a": [f'<{B}a/1> {INIT} .', f'<{B}a/1> <{SCHEMA}name> "Alpha One" .',
              f'<{B}a/2> {INIT} .', f'<{B}a/2> <{SCHEMA}name> "{a_name}" .',
              f'<{B}a/2> <{OWL}sameAs> <{B}b/7> .'],
        "b": [f'<{B}b/7> {INIT} .', f'<{B}b/7> <{SCHEMA}name> "Beta Seven" .',
              f'{WORKER_COOP} <{SKOS}prefLabel> "{worker_label}"@fr .',
              f'{CONSUMER_COOP} <{SKOS}prefLabel> "{consumer_label}"@fr .'],
        "d": [f'<{B}d/1> {INIT} .', f'<{B}d/1> <{SCHEMA}name> "Delta" .', f'<{B}d/1> <{PRACTICE}> {WORKER_COOP} .',
              f'<{B}d/2> {INIT} .', f'<{B}d/2> <{SCHEMA}name> "Delta Two" .'],
        "links": [f'<{B}a/1> <{OWL}sameAs> <{B}b/7> .'],
    }


def _write(root: Path, graphs: dict[str, list[str]]) -> list[str]:
    root.mkdir(parents=True)
    args = []
    for name, lines in graphs.items():
        (root / f"{name}.nt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        args += ["--part", SE_GRAPH + name, str(root / f"{name}.nt")]
    return args


def _release(root: Path, graphs: dict[str, list[str]], previous: Path | None) -> None:
    args = [str(root / "release"), B, *_write(root / "parts", graphs), "--index", str(root / "index")]
    if previous is not None:
        args += ["--previous", str(previous / "release"), str(previous / "index")]
    assert static_docs.main(args) == 0


def _files(release: Path) -> dict[str, bytes]:
    return {p.relative_to(release).as_posix(): p.read_bytes() for p in release.rglob("*") if p.is_file()}


@pytest.fixture
def whole(monkeypatch) -> list[str]:
    """The sources linked whole, in order."""
    linked: list[str] = []
    link_source = static_docs.DocumentReuse.link_source

    def spy(self, *args, **kwargs):
        linked.append(self._segment)
        return link_source(self, *args, **kwargs)

    monkeypatch.setattr(static_docs.DocumentReuse, "link_source", spy)
    return linked


def test_a_source_is_linked_whole_unless_what_its_documents_show_changed(tmp_path: Path, whole: list[str]) -> None:
    days = [
        _graphs("Alpha Two", "Coopérative de travail", "Coopérative de consommation"),
        # a renames a record linked with b's (b shows its name), and b relabels a concept
        # d does not use: d, which shows neither, stays linked whole.
        _graphs("Alpha Deux", "Coopérative de travail", "Coopérative de consommateurs"),
        # The label of a concept d uses changes (in b's file): d's documents show it; a's
        # (which show b/7's name, unchanged, and no concept) are linked whole.
        _graphs("Alpha Deux", "Coop de travail", "Coopérative de consommateurs"),
        # Nothing changed: every source linked whole.
        _graphs("Alpha Deux", "Coop de travail", "Coopérative de consommateurs"),
    ]
    expected = [[], ["d"], ["a"], ["a", "b", "d"]]
    previous = None
    for i, (graphs, linked) in enumerate(zip(days, expected)):
        whole.clear()
        _release(tmp_path / f"day{i}", graphs, previous)
        assert whole == linked, i
        _release(tmp_path / f"cold{i}", graphs, None)  # the same parts, from scratch
        assert _files(tmp_path / f"day{i}" / "release") == _files(tmp_path / f"cold{i}" / "release")
        previous = tmp_path / f"day{i}"
    day1 = _files(tmp_path / "day1" / "release")
    # What made b and d described again is on their pages.
    assert b"Alpha Deux" in day1["id/b/7.html"] and b"Alpha Deux" not in _files(tmp_path / "day0" / "release")["id/b/7.html"]
    assert b"Coop de travail" in _files(tmp_path / "day2" / "release")["id/d/1.fr.html"]


@pytest.mark.parametrize("writers", [1, 2])
def test_in_a_source_described_again_only_the_enterprises_whose_documents_change_are_written(
        tmp_path: Path, writers: int) -> None:
    """A source whose file or links changed is compared enterprise by enterprise
    (`static_docs.record_key`, from its lines, not parsed): the others are linked; when a
    label its documents show changes, all of its enterprises are written again. With two
    writers (the second forked after the routing) the counts and digests are the sums."""
    import hashlib
    import json

    days = [
        _graphs("Alpha Two", "Coopérative de travail", "Coopérative de consommation"),
        # a/2 renamed: a/1 linked, a/2 written; b/7 shows a/2's name: written; d whole.
        _graphs("Alpha Deux", "Coopérative de travail", "Coopérative de consommation"),
        # A label d's documents show: d's two written; a linked whole; b/7 linked (b's file
        # changed, its enterprise did not).
        _graphs("Alpha Deux", "Coop de travail", "Coopérative de consommation"),
    ]
    expected = [(0, 5), (3, 2), (3, 2)]
    previous = None
    for i, (graphs, counts) in enumerate(zip(days, expected)):
        root = tmp_path / f"day{i}"
        args = [str(root / "release"), B, *_write(root / "parts", graphs), "--index", str(root / "index"),
                "--stats", str(tmp_path / f"stats{i}.json"), "--digests", str(tmp_path / f"sums{i}"),
                "--writers", str(writers)]
        if previous is not None:
            args += ["--previous", str(previous / "release"), str(previous / "index")]
        assert static_docs.main(args) == 0
        stats = json.loads((tmp_path / f"stats{i}.json").read_text(encoding="utf-8"))
        assert (stats["linked"], stats["written"]) == counts, i
        sums = [line.split("  ", 1) for line in (tmp_path / f"sums{i}").read_text(encoding="utf-8").splitlines()]
        files = _files(root / "release")
        assert sorted(Path(p).relative_to(root / "release").as_posix() for _, p in sums) == sorted(files), i
        assert all(hashlib.sha256(Path(p).read_bytes()).hexdigest() == d for d, p in sums), i
        assert sorted(x.name for x in tmp_path.iterdir() if x.name.startswith(("sums", "stats"))) == sorted(
            n for k in range(i + 1) for n in (f"sums{k}", f"stats{k}.json")), "a writer's own files are merged"
        _release(tmp_path / f"cold{i}", graphs, None)
        assert _files(root / "release") == _files(tmp_path / f"cold{i}" / "release"), i
        previous = root


def test_a_forked_writer_that_fails_fails_the_whole_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writer 1 (forked) fails on its first source: `main` fails although writer 0's
    sources were written; the error names the writer."""
    def fail_in_writer_1(part, *args, **kwargs):
        import os
        if os.getpid() != me:
            raise OSError("disk full")
        return write(part, *args, **kwargs)

    import os
    me = os.getpid()
    write = static_docs.write_source_documents
    monkeypatch.setattr(static_docs, "write_source_documents", fail_in_writer_1)
    args = [str(tmp_path / "release"), B, *_write(tmp_path / "parts", _graphs("A", "W", "C")), "--writers", "2"]
    with pytest.raises(RuntimeError, match=r"static documents writer 1/2 \(exit 1\) failed"):
        static_docs.main(args)
    assert any((tmp_path / "release" / "id").rglob("*.ttl"))  # writer 0 wrote its share
