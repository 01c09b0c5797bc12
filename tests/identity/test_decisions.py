from __future__ import annotations

from pathlib import Path

import pytest

from se_pipeline.identity.decisions import DEFAULT_PATH, load_decisions, parse_decisions
from se_pipeline.identity.errors import DecisionsError
from se_pipeline.identity.iri import enterprise_iri


def test_versioned_file_is_valid() -> None:
    assert DEFAULT_PATH.is_file()
    load_decisions(DEFAULT_PATH)


def test_refs_resolve_to_iris(tmp_path: Path) -> None:
    p = tmp_path / "d.yaml"
    p.write_text("- {a: 'coops_uk:R 1', b: 'https://w3id.org/se-pipeline/id/dotcoop/x', same: true, by: me, date: 2024-02-29}\n")
    d = load_decisions(p)
    assert d.items[0].a == enterprise_iri("coops_uk", "R 1")
    assert d.get(d.items[0].b, d.items[0].a) is d.items[0]


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"a": 1}, "must be a YAML list"),
        ([{"a": "s:1", "b": "s:2", "same": "yes", "by": "x", "date": "2024-01-01"}], "true or false"),
        ([{"a": "s:1", "b": "s:2", "same": True, "by": "x", "date": "2024-13-01"}], "YYYY-MM-DD"),
        ([{"a": "s:1", "b": "s:2", "same": True, "date": "2024-01-01"}], "missing 'by'"),
        ([{"a": "s:1", "b": "s:1", "same": True, "by": "x", "date": "2024-01-01"}], "same record"),
        ([{"a": "nocolon", "b": "s:1", "same": True, "by": "x", "date": "2024-01-01"}], "source:record_id"),
        ([{"a": "s:1", "b": "s:2", "same": True, "by": "x", "date": "2024-01-01", "extra": 1}], "unknown keys"),
        ([{"a": "s:1", "b": "s:2", "same": True, "by": "x", "date": "2024-01-01"},
          {"a": "s:2", "b": "s:1", "same": False, "by": "y", "date": "2024-01-02"}], "contradicts entry 1"),
    ],
)
def test_invalid_entries_raise_typed_errors(data: object, fragment: str) -> None:
    with pytest.raises(DecisionsError, match=fragment):
        parse_decisions(data)


def test_bad_yaml(tmp_path: Path) -> None:
    p = tmp_path / "d.yaml"
    p.write_text("- a: [unclosed\n")
    with pytest.raises(DecisionsError, match="not valid YAML"):
        load_decisions(p)
