from __future__ import annotations

import pandas as pd
import pytest

from se_pipeline.canonical.countries import to_iso2
from se_pipeline.canonical.normalise import clean_text, conform, normalise_url, parse_date


def frame(**cols: list) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"record_id": [str(i) for i in range(n)], "name": [f"Co-op {i}" for i in range(n)], "line": list(range(2, n + 2))}
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize("text,iso", [("England", "GB"), ("UK", "GB"), ("España", "ES"), ("Brasil", "BR"),
                                      ("usa", "US"), ("GBR", "GB"), ("Estados Unidos", "US"), ("Tunisie", "TN"),
                                      ("Jersey", "JE"), ("Atlantis", None), ("", None)])
def test_countries(text: str, iso: str | None) -> None:
    assert to_iso2(text) == iso


def test_text_cleaning_removes_controls_and_keeps_markup_as_data() -> None:
    assert clean_text("A\x00B\tC\x1f  D") == "A B C D"
    assert clean_text("<script>alert(1)</script> Co-op") == "<script>alert(1)</script> Co-op"
    assert clean_text("<b>Bread &amp; Roses</b>", strip_html=True) == "Bread & Roses"
    assert clean_text("Line 1\r\n\r\n  Line 2 ", multiline=True) == "Line 1\nLine 2"


@pytest.mark.parametrize("raw,iso", [("11/8/1863", "1863-08-11"), ("2019-10-03", "2019-10-03"),
                                     ("03.04.2020", "2020-04-03"), ("", None)])
def test_dates_day_first(raw: str, iso: str | None) -> None:
    assert parse_date(raw) == iso


def test_unreadable_date_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse_date("31/02/1960")


@pytest.mark.parametrize("raw,url", [("www.suma.coop", "http://www.suma.coop"), ("HTTPS://x.coop/a b", "https://x.coop/a%20b"),
                                     ("//x.org", "http://x.org")])
def test_urls_normalised(raw: str, url: str) -> None:
    assert normalise_url(raw) == url


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "not a url", "http://", "mailto:a@b.org"])
def test_bad_urls_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_url(raw)


def test_conform_quarantines_missing_and_duplicate_ids_and_drops_bad_values() -> None:
    df = frame(
        record_id=["A", "", "A", "B", "C"],
        name=["One", "Two", "Three", "  ", "Five"],
        lat=["1e-05", None, None, None, "200"],
        lon=["0.5", None, None, None, "10"],
        websites=[["www.one.coop"], [], [], [], ["javascript:x"]],
        email=["bad@", None, None, None, "mailto:five@x.org"],
    )
    out, quarantine, dropped, _ = conform(df, "test")
    assert list(out["record_id"]) == ["A", "C"]
    assert [(q.record_id, q.line, q.field) for q in quarantine] == [("", 3, "record_id"), ("A", 4, "record_id"), ("B", 5, "name")]
    assert "first seen at line 2" in quarantine[1].reason
    assert out.loc[0, "lat"] == pytest.approx(1e-05) and out.loc[0, "websites"] == ["http://www.one.coop"]
    assert out.loc[1, "email"] == "five@x.org" and out.loc[1, "websites"] == [] and pd.isna(out.loc[1, "lat"])
    assert {(d.record_id, d.field) for d in dropped} == {("A", "email"), ("C", "lat/lon"), ("C", "websites")}


def test_overlong_name_is_quarantined() -> None:
    out, quarantine, _, _ = conform(frame(name=["x" * 100_000]), "test")
    assert out.empty and "100000 characters" in quarantine[0].reason


@pytest.mark.parametrize("raw,country,out", [("hx5 9dB", "GB", "HX5 9DB"), ("WS13  6RH", "GB", "WS13 6RH"),
                                             ("SG80JP", "GB", "SG8 0JP"), ("8950-186", "PT", "8950-186")])
def test_postcodes(raw: str, country: str, out: str) -> None:
    from se_pipeline.canonical.normalise import normalise_postcode

    assert normalise_postcode(raw, country) == out


def test_overlong_description_is_truncated_and_recorded() -> None:
    out, quarantine, dropped, _ = conform(frame(description=["d" * 100_000]), "test")
    assert not quarantine and len(out.loc[0, "description"]) == 20_000
    assert dropped[0].field == "description" and "100000" in dropped[0].reason


def _by_formats(text: str, order: str) -> str | None:
    """The rule `parse_date` implements: the first of the source's formats that reads the
    text, with a year in 1000-2999."""
    from datetime import datetime

    from se_pipeline.canonical.normalise import _DATE_FORMATS_DMY, _DATE_FORMATS_MDY

    for fmt in _DATE_FORMATS_DMY if order == "dmy" else _DATE_FORMATS_MDY:
        try:
            d = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if 1000 <= d.year <= 2999:
            return d.strftime("%Y-%m-%d")
    return None


@pytest.mark.parametrize("order", ["dmy", "mdy"])
def test_iso_dates_take_the_short_way_to_the_same_answer(order: str) -> None:
    import random

    rnd = random.Random(7)
    texts = ["2020-02-29", "2021-02-29", "0999-12-31", "3000-01-01", "2020-00-10", "２０２０-05-01"]
    texts += [f"{rnd.randint(900, 3100):04d}-{rnd.randint(0, 13):02d}-{rnd.randint(0, 32):02d}" for _ in range(2000)]
    for text in texts:
        want = _by_formats(text, order)
        if want is None:
            with pytest.raises(ValueError, match="unreadable date"):
                parse_date(text, order)
        else:
            assert parse_date(text, order) == want
