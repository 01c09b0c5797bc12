"""An incremental release (documents and profiles of unchanged enterprises hard-linked from
`latest`, SHA256SUMS merged from stored digests) equals a release built from scratch on the
same inputs, and a run where nothing changed makes no release."""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from se_pipeline.gate.release_shacl import start_release_validation
from se_pipeline.gate.source import gate_source
from se_pipeline.identity.links_rdf import LINKS_GRAPH
from se_pipeline.identity.stage import link_sources, links_path
from se_pipeline.release.build import GraphPart, ReleaseResult, build_release
from se_pipeline.release.inputs import read_inputs, release_inputs, unchanged_since
from se_pipeline.settings import Settings
from se_pipeline.sources.ingest import ingest
from se_pipeline.sources.registry import all_sources
from se_pipeline.state import SourceState, read_frame

from .conftest import SOURCES

SAMPLE = Path(all_sources()["coops_uk"].sample_url.removeprefix("file://"))
#: What names the release it is in, or its predecessor: not expected to be equal.
RELEASE_OWN = {"catalog.ttl", "changelog.csv", "changes.ttl", "SHA256SUMS"}
DATASETS = ("dataset.nq.gz", "dataset.ttl", "dataset.jsonld")


def _settings(output: Path, sample: Path) -> Settings:
    return Settings(output_dir=output, file_roots=(sample.parent,), sources={"coops_uk": {"url": sample.as_uri()}})


def _run(settings: Settings, decisions: Path, *, now: datetime) -> ReleaseResult:
    """Sources, gates and links, then a release (as the `publish` job orders them)."""
    specs = [all_sources()[n] for n in SOURCES]
    for spec in specs:
        assert ingest(spec, settings, None).ok
        assert gate_source(spec.name, settings).status in ("promoted", "unchanged")
    link_sources(settings, list(SOURCES), decisions_file=decisions)
    links = links_path(settings)
    extra = [GraphPart(LINKS_GRAPH, links)] if links.stat().st_size else []
    return build_release(settings, specs, extra_parts=extra, validate=start_release_validation, now=now,
                         inputs=release_inputs(settings, list(SOURCES), links if extra else None))


def _mutated(sample: Path, target: Path) -> str:
    """The coops_uk sample with two records changed, one withdrawn and one added; returns
    the id of the record renamed."""
    rows = list(csv.reader(io.StringIO(sample.read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    name = header.index("Registered Name")
    body[1][name] += " (renamed)"
    body[4][header.index("Registered City")] = "Leeds"
    gone = body.pop(6)
    added = list(body[2])
    added[header.index("CUK Organisation ID")] = "R999999"
    added[name] = "A Brand New Co-operative"
    body.append(added)
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([header, *body])
    target.write_text(out.getvalue(), encoding="utf-8")
    assert gone[0] != added[0]
    return body[1][0]


def _files(release: Path) -> dict[str, bytes]:
    found = {}
    for folder, _, names in os.walk(release):
        for n in names:
            path = Path(folder) / n
            found[path.relative_to(release).as_posix()] = path.read_bytes()
    return found


def _sums(release: Path) -> dict[str, str]:
    return {line[66:]: line[:64] for line in (release / "SHA256SUMS").read_text(encoding="utf-8").splitlines()}


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the coops_uk sample to mutate, and an empty curated decisions file."""
    data = tmp_path / "data"
    data.mkdir()
    sample = data / "coops_uk.csv"
    shutil.copyfile(SAMPLE, sample)
    decisions = tmp_path / "decisions.yaml"
    decisions.write_text("[]\n", encoding="utf-8")
    return sample, decisions


def test_an_incremental_release_equals_one_built_from_scratch(tmp_path: Path) -> None:
    sample, decisions = _inputs(tmp_path)
    settings = _settings(tmp_path / "incremental", sample)
    first = _run(settings, decisions, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert first.reuse["documents_linked"] == 0 and first.reuse["profiles_linked"] == 0

    # Release N+1's inputs: records changed, added, withdrawn, and a new identity link.
    renamed_id = _mutated(SAMPLE, sample)
    wfto = read_frame(SourceState.of(settings.state_dir, "wfto").good / "canonical.parquet")["record_id"].iloc[0]
    decisions.write_text(yaml.safe_dump([{"a": "coops_uk:R000001", "b": f"wfto:{wfto}", "same": True,
                                          "by": "test", "date": "2026-01-02"}]), encoding="utf-8")
    second = _run(settings, decisions, now=datetime(2026, 1, 2, tzinfo=timezone.utc))
    changes = (second.path / "changelog.csv").read_text(encoding="utf-8")
    assert ",added," in changes and ",changed," in changes
    # Only coops_uk's graph changed: the others' records were not compared, nor read.
    assert {row["source"] for row in csv.DictReader(io.StringIO(changes))} == {"coops_uk"}

    # The same inputs (the state after N+1's gates and links), no earlier release.
    cold_settings = _settings(tmp_path / "cold", sample)
    shutil.copytree(settings.state_dir, cold_settings.state_dir, ignore=shutil.ignore_patterns("_release"))
    specs = [all_sources()[n] for n in SOURCES]
    links = links_path(cold_settings)
    cold = build_release(cold_settings, specs, extra_parts=[GraphPart(LINKS_GRAPH, links)],
                         validate=start_release_validation, now=datetime(2026, 1, 2, tzinfo=timezone.utc),
                         inputs=release_inputs(cold_settings, list(SOURCES), links))
    assert cold.reuse["documents_linked"] == 0

    warm, fresh = _files(second.path), _files(cold.path)
    # The event stream carries the earlier release's page over (the only history-made file).
    carried = {n for n in warm if n.startswith(f"changes/{first.release_id}/")}
    assert carried and set(warm) - carried == set(fresh)
    for release in (second.path, cold.path):  # every file is in SHA256SUMS with its digest
        files = _files(release)
        sums = _sums(release)
        assert set(sums) == set(files) - {"SHA256SUMS"}
        assert all(hashlib.sha256(files[n]).hexdigest() == d for n, d in sums.items())
    fresh.update({n: warm[n] for n in carried})
    differ = {name for name in warm if warm[name] != fresh[name]}
    assert differ <= RELEASE_OWN | {n for n in warm if n.startswith(("changes/", "index"))}, sorted(differ)
    # The datasets: the graphs unchanged since release N were copied from its files, not
    # loaded again; the files are the very bytes a cold build writes (one gzip member per
    # graph, no time in the members' headers), and their event stream pages the same.
    assert second.reuse["parts_kept"] >= len(SOURCES) - 1 and second.reuse["parts_written"] >= 2
    assert cold.reuse["parts_kept"] == 0
    assert all(warm[name] == fresh[name] for name in DATASETS)
    assert [ln for ln in gzip.decompress(warm["dataset.nq.gz"]).splitlines() if b"/graph/coops_uk>" in ln]
    # Files of the same bytes have the same line in both SHA256SUMS.
    assert {n: d for n, d in _sums(second.path).items() if n not in differ | carried} == \
        {n: d for n, d in _sums(cold.path).items() if n not in differ}

    # Most enterprises were linked, not rendered: their files are the previous release's
    # (same inode), read-only; a changed one's are new.
    assert second.reuse["documents_linked"] > 0 and second.reuse["documents_written"] >= 3
    assert second.reuse["profiles_linked"] > 0 and second.reuse["profiles_written"] >= 3
    linked = [n for n in warm if n.startswith(("id/", "murmurations/"))
              and (first.path / n).is_file() and os.stat(first.path / n).st_ino == os.stat(second.path / n).st_ino]
    assert len(linked) >= 6 * second.reuse["documents_linked"]
    for n in linked:
        info = os.stat(second.path / n)
        assert info.st_nlink >= 2 and info.st_mode & 0o777 == 0o444
    renamed = f"id/coops_uk/{renamed_id}.ttl"
    assert b"(renamed)" in warm[renamed]
    assert os.stat(first.path / renamed).st_ino != os.stat(second.path / renamed).st_ino
    assert os.stat(second.path / renamed).st_mode & 0o777 == 0o444
    # The newly linked record's documents name its counterpart: rendered again.
    linked_record = second.path / "id" / "coops_uk" / "R000001.ttl"
    assert os.stat(first.path / linked_record.relative_to(second.path)).st_ino != os.stat(linked_record).st_ino
    assert b"owl:sameAs" in linked_record.read_bytes() or b"sameAs" in linked_record.read_bytes()
    # So are those of its counterpart in wfto, whose own file did not change; the other
    # wfto records' are links.
    counterpart = second.path / "id" / "wfto" / f"{wfto}.ttl"
    assert os.stat(first.path / "id" / "wfto" / counterpart.name).st_ino != os.stat(counterpart).st_ino
    others = [p for p in (second.path / "id" / "wfto").iterdir() if p.name.endswith(".ttl") and p != counterpart]
    assert others and all(p.stat().st_ino == (first.path / "id" / "wfto" / p.name).stat().st_ino for p in others)


def test_nothing_changed_means_the_same_fingerprint_and_any_change_another(tmp_path: Path) -> None:
    sample, decisions = _inputs(tmp_path)
    settings = _settings(tmp_path / "out", sample)
    first = _run(settings, decisions, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    recorded = read_inputs(first.path)
    assert recorded is not None and "inputs.json" in _sums(first.path)
    links = links_path(settings)
    # The same fetched bytes: ingest and gate skip their work, the fingerprint is equal.
    for name in SOURCES:
        assert ingest(all_sources()[name], settings, None).not_modified
        assert gate_source(name, settings).status == "unchanged"
    assert link_sources(settings, list(SOURCES), decisions_file=decisions).reused
    assert unchanged_since(settings.latest, release_inputs(settings, list(SOURCES), links)) == first.release_id
    # Another base IRI, page languages or one changed record: another fingerprint.
    for other in (settings.model_copy(update={"base_iri": "https://example.org/id/"}),
                  settings.model_copy(update={"page_languages": ("en",)})):
        assert unchanged_since(other.latest, release_inputs(other, list(SOURCES), links)) is None
    _mutated(SAMPLE, sample)
    assert not ingest(all_sources()["coops_uk"], settings, None).not_modified
    assert gate_source("coops_uk", settings).status == "promoted"
    assert unchanged_since(settings.latest, release_inputs(settings, list(SOURCES), links)) is None


def test_unchanged_bytes_are_processed_again_when_what_processes_them_changed(tmp_path: Path,
                                                                            monkeypatch) -> None:
    """The same fetched bytes skip parse, mapping and gate only if the code, the source's
    options, geocoding and the base IRI are those its last good copy was made with."""
    from se_pipeline.sources import ingest as ingest_module

    settings = Settings(output_dir=tmp_path / "out")
    spec = all_sources()["wfto"]
    assert ingest(spec, settings, None).ok and gate_source("wfto", settings).status == "promoted"
    assert ingest(spec, settings, None).not_modified
    assert not ingest(spec, settings.model_copy(update={"base_iri": "https://example.org/id/"}), None).not_modified
    assert gate_source("wfto", settings).status == "promoted"
    monkeypatch.setattr(ingest_module, "code_digest", lambda: "another version of the code")
    outcome = ingest(spec, settings, None)
    assert outcome.ok and not outcome.not_modified and outcome.rows > 0


@pytest.mark.parametrize("streamed", [False, True], ids=["jsonld-in-memory", "jsonld-streamed"])
def test_the_release_gate_proves_kept_parts_by_digest_and_parses_the_others(tmp_path: Path, streamed: bool,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Part by part, the gate refuses a dataset whose copied bytes are not the ones first
    published, a part whose Turtle or JSON-LD does not hold its N-Quads, and a file with
    bytes outside its parts; a large graph object is parsed streamed from the file (here
    every one, with `streamed`), a small one expanded by pyld."""
    import json

    from se_pipeline.release import build, gate, ledger

    if streamed:
        monkeypatch.setattr(gate, "PYLD_MAX_BYTES", 0)

    sample, decisions = _inputs(tmp_path)
    settings = _settings(tmp_path / "out", sample)
    first = _run(settings, decisions, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    parts = ledger.read_parts(ledger.ledgers_dir(settings) / first.release_id, build.parts_made_with(), first.path,
                              build.DATASET_FILES)
    assert parts and all(set(p["ranges"]) == set(DATASETS) for p in parts.values())
    copy = tmp_path / "copy"
    shutil.copytree(first.path, copy, ignore=shutil.ignore_patterns("id", "murmurations", "changes"))
    os.chmod(copy, 0o755)
    for name in DATASETS:
        os.chmod(copy / name, 0o644)
    # The ledger has no vocabulary part (recomputed each release): it is the last bytes.
    records = list(parts.values())
    vocabulary = {name: [records[-1]["ranges"][name][0] + records[-1]["ranges"][name][1],
                         (copy / name).stat().st_size - records[-1]["ranges"][name][0] - records[-1]["ranges"][name][1]]
                  for name in DATASETS}
    jsonld_tail = len(b"\n]}\n")
    vocabulary["dataset.jsonld"] = [vocabulary["dataset.jsonld"][0] + 1, vocabulary["dataset.jsonld"][1] - 1 - jsonld_tail]
    fresh_vocabulary = {"graph": "vocabulary", "kept": False,
                        "ranges": {n: [*vocabulary[n], ""] for n in DATASETS}}
    kept = [{**p, "kept": True} for p in records] + [fresh_vocabulary]
    fresh = [{**p, "kept": False} for p in records] + [fresh_vocabulary]
    assert gate.check_formats_parts(copy, kept) == [] and gate.check_formats_parts(copy, fresh) == []
    assert gate.check_formats(copy) == []
    whole = gate.nquads_lines_fingerprints(copy / "dataset.nq.gz")[0]
    assert gate.check_nquads_parts(copy / "dataset.nq.gz", fresh, whole) == []
    assert "new parts hold" in gate.check_nquads_parts(copy / "dataset.nq.gz", fresh, gate.Fingerprint(1, 2))[0]

    # One byte of a kept part's Turtle changed (to another valid IRI character): its
    # digest proves it; read as a fresh part, its statements differ from its N-Quads'.
    wfto = parts[next(g for g in parts if g.endswith("wfto"))]
    offset, length, _ = wfto["ranges"]["dataset.ttl"]
    data = bytearray((copy / "dataset.ttl").read_bytes())
    at = data.index(b"wfto", offset, offset + length) + 1
    data[at] = ord("x")
    (copy / "dataset.ttl").write_bytes(bytes(data))
    assert any("wfto" in p and "SHA-256" in p for p in gate.check_formats_parts(copy, kept))
    assert any("dataset.ttl's part of" in p for p in gate.check_formats_parts(copy, fresh))
    # The same in a JSON-LD graph object (an IRI's character again).
    offset, length, _ = wfto["ranges"]["dataset.jsonld"]
    data = bytearray((copy / "dataset.jsonld").read_bytes())
    data[data.index(b"wfto", offset, offset + length) + 1] = ord("x")
    (copy / "dataset.jsonld").write_bytes(bytes(data))
    assert any("wfto" in p and "SHA-256" in p for p in gate.check_formats_parts(copy, kept))
    assert any("dataset.jsonld's part of" in p and "wfto" in p for p in gate.check_formats_parts(copy, fresh))
    # A kept N-Quads member that is not the bytes first published.
    offset, length, _ = wfto["ranges"]["dataset.nq.gz"]
    nq = bytearray((copy / "dataset.nq.gz").read_bytes())
    nq[offset + length // 2] ^= 0xFF
    (copy / "dataset.nq.gz").write_bytes(bytes(nq))
    assert any("SHA-256" in p for p in gate.check_nquads_parts(copy / "dataset.nq.gz", kept, gate.Fingerprint(0, 0)))
    # Bytes after the last part, and a JSON-LD graph object out of place.
    with (copy / "dataset.nq.gz").open("ab") as f:
        f.write(gzip.compress(b""))
    assert "parts end at" in gate.check_nquads_parts(copy / "dataset.nq.gz", kept, whole)[0]
    moved = json.loads(json.dumps(kept))
    moved[0]["ranges"]["dataset.jsonld"][0] += 1
    assert any("not where it should be" in p for p in gate.check_formats_parts(copy, moved))


def _second_release_and_a_cold_one(tmp_path: Path, before_second) -> tuple[ReleaseResult, ReleaseResult]:
    """Release N, `before_second()`, release N+1 on mutated inputs, and a cold build of N+1's inputs."""
    sample, decisions = _inputs(tmp_path)
    settings = _settings(tmp_path / "incremental", sample)
    _run(settings, decisions, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    before_second(settings)
    _mutated(SAMPLE, sample)
    second = _run(settings, decisions, now=datetime(2026, 1, 2, tzinfo=timezone.utc))
    cold_settings = _settings(tmp_path / "cold", sample)
    shutil.copytree(settings.state_dir, cold_settings.state_dir, ignore=shutil.ignore_patterns("_release"))
    links = links_path(cold_settings)
    extra = [GraphPart(LINKS_GRAPH, links)] if links.stat().st_size else []
    cold = build_release(cold_settings, [all_sources()[n] for n in SOURCES], extra_parts=extra,
                         validate=start_release_validation, now=datetime(2026, 1, 2, tzinfo=timezone.utc),
                         inputs=release_inputs(cold_settings, list(SOURCES), links if extra else None))
    return second, cold


def test_parts_made_by_other_code_are_not_reused(tmp_path: Path, monkeypatch) -> None:
    """A change of prefixes, JSON-LD context or serialiser changes a part's bytes though its
    N-Triples are the same: a part kept from a release made with other code would make
    the datasets differ from a cold build's."""
    from se_pipeline.release import build

    def other_code(settings: Settings) -> None:
        monkeypatch.setattr(build, "parts_made_with", lambda: "another version of the code")

    second, cold = _second_release_and_a_cold_one(tmp_path, other_code)
    assert second.reuse["parts_kept"] == 0
    for name in DATASETS:
        assert (second.path / name).read_bytes() == (cold.path / name).read_bytes()


def test_a_dataset_file_of_latest_not_as_published_is_not_copied_from(tmp_path: Path) -> None:
    """A dataset file of `latest` missing, or restored or edited since its release was made
    (another modification time), is not trusted for its byte ranges: the next release
    writes every part afresh and succeeds, rather than failing on it (or on every later run)."""
    def tampered(settings: Settings) -> None:
        latest = settings.latest.resolve()
        os.chmod(latest, 0o755)
        ttl = latest / "dataset.ttl"
        os.chmod(ttl, 0o644)
        data = ttl.read_bytes()
        ttl.write_bytes(data.replace(b"wfto", b"wftx", 1))  # the same length, other bytes
        (latest / "dataset.jsonld").unlink()

    second, cold = _second_release_and_a_cold_one(tmp_path, tampered)
    assert second.reuse["parts_kept"] == 0
    for name in DATASETS:
        assert (second.path / name).read_bytes() == (cold.path / name).read_bytes()
