"""Countries from any of our languages, read from pycountry's ISO tables + the reviewed alias file."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from se_pipeline.canonical.countries import ALIASES, resolve_country, to_iso2
from se_pipeline.canonical.normalise import FALLBACK_SUFFIX, conform


@pytest.mark.parametrize("text,iso,how", [
    ("GB", "GB", "code"), ("gbr", "GB", "code"), ("826", "GB", "code"), ("076", "BR", "code"),
    ("United Kingdom", "GB", "name"), ("Côte d'Ivoire", "CI", "name"), ("Cote d’Ivoire", "CI", "name"),
    ("Korea, Republic of", "KR", "name"), ("Republic of Korea", "KR", "name"), ("Bolivia", "BO", "name"),
    ("England", "GB", "alias"), ("UK", "GB", "alias"), ("U.S.A.", "US", "alias"),
    ("Brasil", "BR", "translation (Portuguese, Spanish)"), ("Österreich", "AT", "translation (German)"),
    ("ÖSterreich", "AT", "translation (German)"), ("Royaume-Uni", "GB", "translation (French)"),
    ("Cameroun", "CM", "translation (French)"), ("Alemania", "DE", "translation (Spanish)"),
    ("Swaziland", "SZ", "former name"), ("Zaire", "CD", "former name"), ("Burma", "MM", "former name"),
    ("Upper Volta", "BF", "former name"), ("East Timor", "TL", "former name"),
])
def test_exact_translated_and_former_names(text: str, iso: str, how: str) -> None:
    hit = resolve_country(text)
    assert hit is not None and (hit.code, hit.how) == (iso, how)
    assert hit.exact == (how in ("code", "name", "alias"))


def test_estados_unidos_is_the_united_states() -> None:
    hit = resolve_country("Estados Unidos")
    assert hit is not None and hit.code == "US" and hit.how.startswith("translation (") and not hit.exact


@pytest.mark.parametrize("text,iso", [("Democratic Republic of Congol", "CD"), ("Rawanda", "RW"), ("Latvija", "LV"),
                                      ("Untied Kingdom", "GB"), ("Argentinia", "AR")])
def test_near_misses_are_read_and_say_so(text: str, iso: str) -> None:
    hit = resolve_country(text)
    assert hit is not None and hit.code == iso and hit.how.startswith("near-miss of ") and not hit.exact


@pytest.mark.parametrize("text", [
    "Czechoslovakia", "Yugoslavia", "USSR, Union of Soviet Socialist Republics", "Serbia and Montenegro",  # several successors
    "Congo",  # two countries
    "Kostromskaya oblasty", "Narnia", "Atlantis", "Mali Republic of Nowhere", "Peruvia", "", "  ",
])
def test_unknown_ambiguous_or_too_far_is_nothing(text: str) -> None:
    assert resolve_country(text) is None and to_iso2(text) is None


def test_near_misses_never_pick_between_close_countries() -> None:
    # one edit from both Niger and Nigeria, and from both Mali and Malta: no guess
    assert to_iso2("Nigera") in (None, "NG")
    assert to_iso2("Malt") is None


def test_alias_file_is_short_and_names_current_countries() -> None:
    import pycountry

    data = yaml.safe_load(ALIASES.read_text(encoding="utf-8"))
    entries = [(code, n) for part in ("aliases", "former_names") for code, names in data[part].items() for n in names]
    assert len(entries) < 80
    for code, _ in entries:
        assert code == "XK" or pycountry.countries.get(alpha_2=code) is not None


def _frame(**cols: list) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"record_id": [str(i) for i in range(n)], "name": [f"Co-op {i}" for i in range(n)], "line": list(range(2, n + 2))}
    return pd.DataFrame(base | cols)


def test_conform_reports_every_reading_that_was_not_exact() -> None:
    out, _, dropped, resolved = conform(_frame(country=["Brasil", "GB", "England", "Zaire", "Rawanda", "Narnia"]), "t")
    assert out["country"].tolist()[:5] == ["BR", "GB", "GB", "CD", "RW"] and pd.isna(out["country"].iloc[5])
    assert [(r.record_id, r.line, r.field) for r in resolved] == [("0", 2, "country"), ("3", 5, "country"), ("4", 6, "country")]
    assert resolved[0].reason == "'Brasil' read as BR: translation (Portuguese, Spanish)"
    assert resolved[1].reason == "'Zaire' read as CD: former name"
    assert [(d.record_id, d.reason) for d in dropped] == [("5", "unknown country 'Narnia'")]


def test_the_second_column_fills_an_empty_or_unreadable_country() -> None:
    frame = _frame(country=["Kostromskaya oblasty", None, "FR", "Narnia"], locality=[None, None, "Lyon", None])
    frame["country" + FALLBACK_SUFFIX] = ["RUS", "PER", "DEU", "Nowhere"]
    frame["locality" + FALLBACK_SUFFIX] = ["Kostroma", None, "Paris", None]
    out, _, dropped, _ = conform(frame, "t")
    assert out["country"].tolist()[:3] == ["RU", "PE", "FR"] and pd.isna(out["country"].iloc[3])
    assert out["locality"].iloc[0] == "Kostroma" and out["locality"].iloc[2] == "Lyon"  # only where the first is empty
    assert pd.isna(out["locality"].iloc[1])
    assert [(d.record_id, d.reason) for d in dropped] == [
        ("0", "unknown country 'Kostromskaya oblasty'; country RU taken from the second country column ('RUS')"),
        ("3", "unknown country 'Narnia'")]
