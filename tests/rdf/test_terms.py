"""Property tests: every term `rdf.terms` produces is accepted by Oxigraph's strict parser
and round-trips to the same value (the one escaping function guarding all N-Triples text)."""
from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given, settings, strategies as st

from se_pipeline.rdf import terms
from se_pipeline.rdf.errors import TermError

S = "<https://example.org/s>"
P = "<https://example.org/p>"
text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=200)


def parse_one(line: str) -> ox.Triple:
    triples = list(ox.parse(line.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES))
    assert len(triples) == 1
    return triples[0]


@settings(max_examples=400, deadline=None)
@given(text)
def test_any_text_literal_round_trips(value: str) -> None:
    t = parse_one(terms.triple(S, P, terms.literal(value)))
    assert t.object.value == value


@settings(max_examples=200, deadline=None)
@given(text, st.sampled_from(["en", "pt-BR", "fr", "es-419", "zh-Hant-TW"]))
def test_language_literal_round_trips_with_lower_case_tag(value: str, lang: str) -> None:
    t = parse_one(terms.triple(S, P, terms.literal(value, lang=lang)))
    assert (t.object.value, t.object.language) == (value, lang.lower())


@settings(max_examples=400, deadline=None)
@given(text)
def test_iri_is_valid_or_refused(value: str) -> None:
    try:
        term = terms.iri("https://example.org/" + value)
    except TermError:
        return
    t = parse_one(terms.triple(S, P, term))
    assert t.object.value.startswith("https://example.org/")


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(min_value=-10**30, max_value=10**30))
def test_decimal_never_uses_exponent_and_keeps_value(number: float | int) -> None:
    from decimal import Decimal

    t = parse_one(terms.triple(S, P, terms.decimal(number)))
    assert "e" not in t.object.value.lower()
    assert Decimal(t.object.value) == Decimal(str(number))


def test_small_float_is_a_valid_decimal() -> None:
    assert terms.decimal(1e-05) == '"0.00001"^^<http://www.w3.org/2001/XMLSchema#decimal>'


@pytest.mark.parametrize("bad", ["", "no scheme", "http://exa mple.org/\x00", "://x"])
def test_unusable_iris_are_refused(bad: str) -> None:
    if bad == "http://exa mple.org/\x00":  # forbidden characters are percent-encoded, not refused
        assert terms.iri(bad) == "<http://exa%20mple.org/%00>"
        return
    with pytest.raises(TermError):
        terms.iri(bad)


@pytest.mark.parametrize("value,datatype", [("1e-05", terms.XSD_DECIMAL), ("12.5", terms.XSD_INTEGER),
                                            ("2024-13-01", terms.XSD_DATE), ("yes", terms.XSD_BOOLEAN)])
def test_ill_typed_literals_are_refused(value: str, datatype: str) -> None:
    with pytest.raises(TermError):
        terms.literal(value, datatype=datatype)


@pytest.mark.parametrize("lang", ["", "en_GB", "toolongsubtag", "-en"])
def test_bad_language_tags_are_refused(lang: str) -> None:
    with pytest.raises(TermError):
        terms.literal("x", lang=lang)


def test_unpaired_surrogates_are_refused() -> None:
    with pytest.raises(TermError):
        terms.literal("a\ud800b")


def test_dated_membership_becomes_a_membership_node() -> None:
    from se_pipeline.rdf.enterprises import enterprise_lines

    row = {"source": "usfwc", "record_id": "7", "name": "Co-op", "member_of": ["usfwc:USFWC@2015-03-01", "ripess:RIPESS"]}
    lines = "".join(enterprise_lines(row, "https://x.org/id/"))
    triples = {(t.subject.value, t.predicate.value.rsplit("/", 1)[-1], t.object.value)
               for t in ox.parse(lines.encode(), format=ox.RdfFormat.N_TRIPLES)}
    e = "https://x.org/id/usfwc/7"
    assert (e, "memberOf", "https://x.org/id/usfwc/USFWC") in triples
    assert (e, "memberOf", "https://x.org/id/ripess/RIPESS") in triples
    assert (e + "#membership-0", "startDate", "2015-03-01") in triples
    assert (e + "#membership-0", "organisation", "https://x.org/id/usfwc/USFWC") in triples
    assert not any(s.endswith("#membership-1") for s, _, _ in triples)
