from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given, settings, strategies as st

from se_pipeline.identity.iri import check_base, enterprise_iri, parse_enterprise_iri

BASE = "https://data.example.org/id/"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=80))
def test_any_record_id_gives_a_valid_reversible_iri(record_id: str) -> None:
    iri = enterprise_iri("coops_uk", record_id, BASE)
    ox.NamedNode(iri)  # strict IRI check
    assert iri.startswith(BASE + "coops_uk/")
    assert parse_enterprise_iri(iri, BASE) == ("coops_uk", record_id)


def test_iri_depends_on_source_and_id_only() -> None:
    assert enterprise_iri("wfto", "12", BASE) != enterprise_iri("usda_csa", "12", BASE)
    assert enterprise_iri("wfto", "a/b#c d", BASE) == BASE + "wfto/a%2Fb%23c%20d"


def test_base_must_be_http_and_gets_trailing_slash() -> None:
    assert check_base("https://x.org/data") == "https://x.org/data/"
    with pytest.raises(ValueError):
        check_base("ftp://x.org/")
