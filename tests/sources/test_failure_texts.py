"""A source that fails never publishes its bytes: the error texts that reach public
files (catalog.ttl's stale reason, index.html, quarantine.csv) say what is wrong and
where, and never quote what could not be read.

The probe is a config pointing a source at a private file (`url: file:///etc/shadow`);
here a temporary file with a secret line, inside the allowed file roots so the file is
read and the failure text is what is tested.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox
import pytest

from se_pipeline.gate.release_shacl import start_release_validation
from se_pipeline.gate.source import gate_source
from se_pipeline.release.build import build_release
from se_pipeline.settings import Settings
from se_pipeline.sources.errors import SourceFormatError, public_message
from se_pipeline.sources.ingest import ingest
from se_pipeline.sources.registry import all_sources
from se_pipeline.state import SourceState, read_json

SECRET = "SECRET-8f3a1c"
SHADOW = f"root:$6${SECRET}$xyz:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n".encode()
# Private files of other shapes, so every adapter's own checks are reached too.
HOSTILE = {
    "shadow": SHADOW,
    "object.json": f'{{"{SECRET}": "{SECRET}", "data": "{SECRET}", "members": 1, "values": "{SECRET}"}}'.encode(),
    "list.json": f'[{{"{SECRET}": 1}}, "{SECRET}"]'.encode(),
    "table.csv": f"{SECRET},{SECRET}2\n{SECRET}3,1\n".encode(),
    "doc.ttl": f"@prefix x: <http://{SECRET}/> .\nx:a x:b {SECRET} .\n".encode(),
    "page.html": f"<html><body>{SECRET}</body></html>".encode(),
    "blob": b"\x00\x01" + SECRET.encode() + b"\xff\xfe",
    "latin.csv": (SECRET + ",\xe9\x80\x81\n").encode("latin-1"),
}


def release_files_text(release: Path) -> str:
    """Every published file as text (gzip files decompressed)."""
    texts = []
    for path in sorted(p for p in release.rglob("*") if p.is_file()):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        texts.append(data.decode("utf-8", errors="replace"))
    return "\n".join(texts)


@pytest.mark.parametrize("name", sorted(all_sources()))
def test_no_source_quotes_a_private_file_in_its_error(name: str, tmp_path: Path) -> None:
    spec = all_sources()[name]
    for shape, data in HOSTILE.items():
        private = tmp_path / shape
        private.write_bytes(data)
        settings = Settings(output_dir=tmp_path / "out" / shape, sources={name: {"url": private.as_uri()}},
                            file_roots=(tmp_path,))
        outcome = ingest(spec, settings, None)
        if outcome.ok:
            continue  # parsed (no records, or records whose values are reported as today)
        assert outcome.error and SECRET not in outcome.error, (shape, outcome.error)
        assert private.as_uri() in outcome.error or private.name in outcome.error, (shape, outcome.error)
        status = read_json(SourceState.of(settings.state_dir, name).run / "status.json")
        assert status["error"] == outcome.error and status["detail"]  # the full text stays private


def test_private_file_never_reaches_the_release(tmp_path: Path) -> None:
    spec = all_sources()["coops_uk"]
    good = Settings(output_dir=tmp_path / "out", file_roots=(tmp_path,))
    assert ingest(spec, good, None).ok
    assert gate_source("coops_uk", good).status == "promoted"
    private = tmp_path / "shadow"
    private.write_bytes(SHADOW)
    probe = Settings(output_dir=tmp_path / "out", sources={"coops_uk": {"url": private.as_uri()}},
                     file_roots=(tmp_path,))
    outcome = ingest(spec, probe, None)
    assert not outcome.ok and "header_changed" in outcome.error
    assert gate_source("coops_uk", probe).status == "stale"
    release = build_release(probe, [spec, all_sources()["wfto"]], validate=start_release_validation).path
    assert SECRET not in release_files_text(release)
    store = ox.Store()
    store.load(path=str(release / "catalog.ttl"), format=ox.RdfFormat.TURTLE)
    (reason,) = [r["r"].value for r in store.query("""SELECT ?r WHERE {
        <https://w3id.org/se-pipeline/source/coops_uk> <https://w3id.org/se-pipeline/ontology/staleReason> ?r }""")]
    assert "header_changed" in reason and "expected columns missing from the header (line 1)" in reason
    assert "stale" in (release / "index.html").read_text(encoding="utf-8")


def test_private_file_without_last_good_is_quarantined_without_its_bytes(tmp_path: Path) -> None:
    private = tmp_path / "object.json"
    private.write_bytes(HOSTILE["object.json"])
    settings = Settings(output_dir=tmp_path / "out", sources={"wfto": {"url": private.as_uri()}},
                        file_roots=(tmp_path,))
    specs = [all_sources()["coops_uk"], all_sources()["wfto"]]
    for spec in specs:
        ingest(spec, settings, None)
        gate_source(spec.name, settings)
    release = build_release(settings, specs, validate=start_release_validation).path
    quarantine = (release / "quarantine.csv").read_text(encoding="utf-8")
    assert "wfto,,0,,source unavailable and no last good copy: SourceFormatError: wfto:" in quarantine
    assert SECRET not in release_files_text(release)


def test_public_message_keeps_kind_place_and_line_but_not_text() -> None:
    try:
        try:
            raise ValueError(f"bad value {SECRET!r} at line 7")
        except ValueError as e:
            raise SourceFormatError("s", f"cannot parse file:///x.csv: {e}") from e
    except SourceFormatError as error:
        text = public_message(error, "s", "file:///x.csv")
    assert text == "SourceFormatError: s: the data is not in the format this source reads in file:///x.csv near line 7"


def test_private_file_outside_the_config_folder_is_not_read(tmp_path: Path) -> None:
    from se_pipeline.settings import load_settings

    (tmp_path / "etc").mkdir()
    private = tmp_path / "etc" / "shadow"
    private.write_bytes(SHADOW)
    (tmp_path / "conf").mkdir()
    config = tmp_path / "conf" / "my.yaml"
    config.write_text(f"sources: {{coops_uk: {{url: '{private.as_uri()}'}}}}\n", encoding="utf-8")
    outcome = ingest(all_sources()["coops_uk"], load_settings(config, tmp_path / "out"), None)
    assert not outcome.ok and SECRET not in (outcome.detail or "")
    assert f"refusing {private.as_uri()}: {private} is outside the folders file:// sources may read" in outcome.error
    assert str(tmp_path / "conf") not in outcome.error  # the allowed folders are not published
    assert not list((tmp_path / "out").rglob("*.bin"))  # nothing read, nothing kept
