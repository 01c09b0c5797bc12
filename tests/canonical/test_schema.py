"""`records` must give exactly what `DataFrame.to_dict("records")` gives, on every source's
adapter output (mixed dtypes, missing values) and on canonical frames read back from Parquet."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd
import pytest

from se_pipeline.canonical.normalise import conform
from se_pipeline.canonical.schema import records
from se_pipeline.sources.base import SourceContext
from se_pipeline.sources.registry import all_sources
from se_pipeline.state import read_frame, write_frame


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same type; NaN equals NaN; lists element by element."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _assert_same_records(frame: pd.DataFrame) -> None:
    expected, got = frame.to_dict("records"), records(frame)
    assert len(got) == len(expected) == len(frame)
    for want, row in zip(expected, got):
        assert list(row) == list(want)
        bad = {k: (want[k], row[k]) for k in want if not _same(want[k], row[k])}
        assert not bad


@pytest.mark.parametrize("name", sorted(all_sources()))
def test_records_match_to_dict_on_adapter_and_canonical_frames(name: str, tmp_path: Path) -> None:
    spec = all_sources()[name]
    data = Path(unquote(urlparse(spec.sample_url).path)).read_bytes()
    parsed = spec.parse(data, SourceContext(name, spec.mapping, url=spec.sample_url))
    assert len(parsed.frame), f"{name}: the bundled sample parses to no rows"
    _assert_same_records(parsed.frame)
    canonical, _, _, _ = conform(parsed.frame, name, date_order=spec.mapping.get("date_order", "dmy"),
                              strip_html=bool(spec.mapping.get("html", False)))
    write_frame(tmp_path / "canonical.parquet", canonical)
    _assert_same_records(read_frame(tmp_path / "canonical.parquet"))


def test_records_keep_missing_values_and_lists() -> None:
    frame = pd.DataFrame({
        "name": pd.Series(["A", None, "C"], dtype="str"),
        "lat": [1.5, float("nan"), -2.0],
        "n": [1, 2, 3],
        "websites": [["https://a.example/"], [], None],
    })
    _assert_same_records(frame)
    assert records(frame)[1]["websites"] == [] and records(frame)[2]["websites"] is None
