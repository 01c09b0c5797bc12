"""A source's gate validating only the enterprises whose lines changed since a graph that
gave no SHACL result equals the gate validating everything: the same graph, quarantine
and verdicts."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from se_pipeline.canonical.schema import ensure_columns
from se_pipeline.gate import shacl
from se_pipeline.gate.source import BLOCKS, gate_source
from se_pipeline.settings import Settings
from se_pipeline.state import SourceState, write_frame, write_json

SOURCE = "coops_uk"


def _row(k: int, **kw: object) -> dict:
    row = {"source": SOURCE, "record_id": str(k), "name": f"Co-operative number {k}", "line": k + 2,
           "country": "GB", "locality": "Leeds", "postcode": "LS6 1AA", "websites": [f"https://c{k}.coop"],
           "identifiers": [], "alternate_names": []}
    row.update(kw)
    return row


def _run_state(settings: Settings, rows: list[dict]) -> None:
    run = SourceState.of(settings.state_dir, SOURCE).run
    run.mkdir(parents=True, exist_ok=True)
    write_frame(run / "canonical.parquet", ensure_columns(pd.DataFrame(rows)))
    write_json(run / "status.json", {"ok": True})
    (run / "quarantine.csv").unlink(missing_ok=True)


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many lines each validation of the gate read (a spy on `shacl.fast_file`)."""
    seen: list[int] = []
    real = shacl.fast_file

    def counting(path: Path) -> list:
        seen.append(sum(1 for _ in path.open(encoding="utf-8")))
        return real(path)

    monkeypatch.setattr(shacl, "fast_file", counting)
    return seen


def _gate_json(settings: Settings) -> dict:
    data = json.loads((SourceState.of(settings.state_dir, SOURCE).good / "gate.json").read_text(encoding="utf-8"))
    data.pop("seconds")
    return data


def test_only_changed_enterprises_are_validated_and_the_gate_is_the_whole_ones(tmp_path: Path,
                                                                               validated: list[int]) -> None:
    incremental, cold = Settings(output_dir=tmp_path / "a"), Settings(output_dir=tmp_path / "b")
    first = [_row(k) for k in range(30)]
    _run_state(incremental, first)
    assert gate_source(SOURCE, incremental).status == "promoted"
    good = SourceState.of(incremental.state_dir, SOURCE).good
    assert (good / BLOCKS).is_file()  # no result at all: the next gate can start from it
    whole = validated[-1]
    # The same previous good copy for the cold gate, without what lets it skip anything.
    shutil.copytree(incremental.state_dir, cold.state_dir)
    (SourceState.of(cold.state_dir, SOURCE).good / BLOCKS).unlink()
    second = [dict(r) for r in first if r["record_id"] != "7"]         # one withdrawn
    second[3]["name"] = "Renamed Co-operative"                         # one changed
    second[5]["members"] = -4                                     # one the shapes reject
    second.append(_row(99))                                            # one added
    for settings in (incremental, cold):
        _run_state(settings, second)
    validated.clear()
    a = gate_source(SOURCE, incremental)
    partial = validated[0]
    validated.clear()
    b = gate_source(SOURCE, cold)
    assert 0 < partial < validated[0] / 5 and validated[0] >= whole  # the cold gate read everything
    assert a.quarantined_by_shapes == b.quarantined_by_shapes == 1 and a.withdrawn == b.withdrawn == 1
    assert (a.status, a.enterprises, a.conforms, a.violations_markdown) == (b.status, b.enterprises, b.conforms,
                                                                            b.violations_markdown)
    ga, gb = SourceState.of(incremental.state_dir, SOURCE).good, SourceState.of(cold.state_dir, SOURCE).good
    for name in ("graph.nt", "quarantine.csv", "canonical.parquet"):
        assert (ga / name).read_bytes() == (gb / name).read_bytes(), name
    assert _gate_json(incremental) == _gate_json(cold)
    assert "Renamed Co-operative" in (ga / "graph.nt").read_text(encoding="utf-8")
    assert not (ga / BLOCKS).exists()  # a quarantine: the next gate validates everything again


def test_kept_blocks_from_other_code_are_not_used(tmp_path: Path, validated: list[int]) -> None:
    settings = Settings(output_dir=tmp_path)
    rows = [_row(k) for k in range(20)]
    _run_state(settings, rows)
    gate_source(SOURCE, settings)
    gate = SourceState.of(settings.state_dir, SOURCE).good / "gate.json"
    data = json.loads(gate.read_text(encoding="utf-8"))
    write_json(gate, {**data, "made_with": "older code"})
    rows[0]["name"] = "Renamed"
    _run_state(settings, rows)
    validated.clear()
    gate_source(SOURCE, settings)
    assert validated[0] > 20 * 5  # every enterprise's lines


def test_with_a_shape_pyshacl_validates_every_enterprise_is_validated(tmp_path: Path, validated: list[int],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A shape the fast validator hands to pyshacl may compare enterprises (uniqueness across
    records): then the unchanged ones are validated too, not only the changed lines."""
    settings = Settings(output_dir=tmp_path)
    rows = [_row(k) for k in range(20)]
    _run_state(settings, rows)
    gate_source(SOURCE, settings)
    rows[0]["name"] = "Renamed"
    _run_state(settings, rows)
    monkeypatch.setattr(shacl.fast_validator(), "delegated", {"urn:example:shape": "a construct it lacks"})
    monkeypatch.setattr(shacl.fast.Validator, "delegated_ox", lambda self, *a, **k: [])
    validated.clear()
    gate_source(SOURCE, settings)
    assert validated[0] > 20 * 5  # every enterprise's lines
