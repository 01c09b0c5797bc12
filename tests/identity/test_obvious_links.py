"""Links that catch the obvious: the Co-operatives UK / DotCoop pairs of issue 26.

The fixtures are small files in the two sources' real formats (the shared samples do
not hold these organisations): each pair sits at one postcode under the same or nearly
the same name, an acronym, or a domain stem; beside them, bodies at the same postcodes
and an acronym elsewhere that must stay apart.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from se_pipeline.canonical.normalise import conform
from se_pipeline.identity.match import find_links
from se_pipeline.identity.normalise import domain_stem, initials, name_key, normalise_name
from se_pipeline.sources.base import SourceContext
from se_pipeline.sources.registry import get_source
from tests.identity.helpers import frames, pairs, rec

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPECTED = {  # CUK organisation -> DotCoop registrant
    "R900001": "ppt90000001",  # Two Rivers Community Energy Society Limited, identical
    "R900002": "ppt90000002",  # Humane Limited, identical
    "R900003": "ppt90000003",  # Turo Technology LLP, identical
    "R900004": "ppt90000004",  # Orchard Community Energy Ltd. / Limited
    "R900005": "ppt90000005",  # co-operative independent financial solutions lts / ... Ltd
    "R900006": "ppt90000006",  # URBED / URBED (Urbanism Environment and Design) Ltd
    "R900007": "ppt90000007",  # BCP (bcp.coop) / Bute Community Power Limited
}


def _canonical(name: str, file: str) -> pd.DataFrame:
    spec = get_source(name)
    res = spec.parse((FIXTURES / file).read_bytes(), SourceContext(name, spec.mapping))
    return conform(res.frame, name, date_order=spec.mapping.get("date_order", "dmy")).frame


@pytest.fixture(scope="module")
def canonical() -> dict[str, pd.DataFrame]:
    return {"coops_uk": _canonical("coops_uk", "open_data_organisations_pairs.csv"),
            "dotcoop": _canonical("dotcoop", "ActiveDomainsLonLat_pairs.csv")}


def test_every_pair_of_the_issue_is_linked_and_nothing_else(canonical) -> None:
    links = find_links(canonical)
    same = links[links["decision"] == "same"]
    found = {(a, b) if s == "coops_uk" else (b, a)
             for a, b, s in zip(same["record_a"], same["record_b"], same["source_a"])}
    assert found == set(EXPECTED.items())
    # the bodies sharing those postcodes, and "BCP" against a Brighton "BCP", are not even uncertain
    others = set(links["record_a"]) | set(links["record_b"])
    assert not others & {"R900008", "R900009", "R900010"}


def test_html_references_in_dotcoop_names_are_decoded_once(canonical) -> None:
    dot = canonical["dotcoop"].set_index("record_id")
    assert dot.loc["ppt90000008", "name"] == "Perthshire Care &"
    assert dot.loc["ppt90000008", "region"] == "Perth & Kinross"


@pytest.mark.parametrize("a,b", [
    ("Orchard Community Energy Ltd.", "Orchard Community Energy Limited"),
    ("Co-op Bakers LLP", "Co-operative Bakers"), ("Tea & Cakes Ltd", "Tea and Cakes Limited"),
    ("A.B.C. Housing Co-op", "ABC Housing Cooperative"), ("ACME, Inc.", "Acme Incorporated"),
])
def test_legal_suffixes_punctuation_case_and_ampersands_normalise_away(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_acronyms_and_domain_stems() -> None:
    assert initials(normalise_name("Bute Community Power Limited")) == "bcp"
    assert initials(normalise_name("Friends of the Earth")) == "fe" and initials("humane") == ""
    assert domain_stem("bcp.coop") == "bcp" and domain_stem("two-rivers.org.uk") == "tworivers"


def test_a_domain_stem_spelling_the_other_name_links_at_one_postcode() -> None:
    links = find_links(frames(
        rec("a", "1", "Webarch Co-operative Limited", postcode="S3 7AL"),
        rec("b", "1", "WA", websites=["https://webarch.coop"], postcode="S3 7AL"),
        rec("a", "2", "Sheffield Food Assembly", postcode="S3 7AL"),
        rec("b", "2", "SFA", postcode="S1 2BB"),  # the initials, but elsewhere
        rec("a", "3", "Green Grocers Ltd", postcode="LS1 1AA"),
        rec("b", "3", "GG", postcode="LS1 1AA"),  # two letters name too many bodies
    ))
    assert pairs(links) == {("1", "1", "name+place")}


def test_one_whole_name_in_one_country_links_unless_repeated_or_far() -> None:
    links = find_links(frames(
        rec("a", "1", "Berkshire Country Markets Limited", postcode="RG7 3SY"),
        rec("b", "1", "Berkshire Country Markets", postcode="GU46 6YJ"),
        # the same name twice in each source: which is which is unknown
        rec("a", "2", "Community Food Shop Ltd", postcode="LS1 1AA"), rec("a", "3", "Community Food Shop", postcode="B1 1AA"),
        rec("b", "2", "Community Food Shop", postcode="EX1 1AA"), rec("b", "3", "Community Food Shop", postcode="NE1 1AA"),
        # known coordinates far apart veto it
        rec("a", "4", "Riverside Growers Co-operative", lat=50.37, lon=-4.14),
        rec("b", "4", "Riverside Growers Co-operative", lat=57.48, lon=-4.22),
        # a one-word name is not informative enough
        rec("a", "5", "Humane Limited", postcode="LE1 5GG"), rec("b", "5", "Humane", postcode="N1 9GU"),
    ))
    assert pairs(links) == {("1", "1", "name")}
    assert name_key("The Phone Co-op Limited") == name_key("the Phone Co-op") == "phone cooperative"
