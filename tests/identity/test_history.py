from __future__ import annotations

import pandas as pd

from se_pipeline.canonical.schema import ensure_columns
from se_pipeline.identity.history import WITHDRAWN, renumbered, withdrawn
from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.namespaces import SEP
from se_pipeline.rdf.enterprises import enterprise_lines
from tests.identity.helpers import rec


def _frame(*rows: dict) -> pd.DataFrame:
    return ensure_columns(pd.DataFrame(list(rows)))


PREVIOUS = _frame(
    rec("s", "1", "Stays Same", postcode="M1 1AA"),
    rec("s", "2", "Old Name Ltd", postcode="M2 2AA"),                        # renamed, same id
    rec("s", "3", "Mover Co-op", postcode="M3 3AA"),                         # moved, same id
    rec("s", "4", "Gone For Good", postcode="M4 4AA"),                       # removed
    rec("s", "5", "Renumbered Bakery Limited", postcode="M5 5AA"),           # new id 50, same name+postcode
    rec("s", "6", "Web Renumbered", websites=["http://web6.org"]),           # new id 60, same name+domain
    rec("s", "7", "Registry Renumbered", identifiers=["fca:77R"]),           # new id 70, same registry id
    rec("s", "8", "Twin Shop", postcode="M8 8AA"),                           # ambiguous: two new twins
)
CURRENT = _frame(
    rec("s", "1", "Stays Same", postcode="M1 1AA"),
    rec("s", "2", "Brand New Name", postcode="M2 2AA"),
    rec("s", "3", "Mover Co-op", postcode="Z9 9ZZ"),
    rec("s", "50", "Renumbered Bakery", postcode="M55AA"),
    rec("s", "60", "Web Renumbered Ltd", websites=["https://www.web6.org/home"]),
    rec("s", "70", "Registry Renamed Too", identifiers=["fca:0077R"]),
    rec("s", "80", "Twin Shop", postcode="M8 8AA"),
    rec("s", "81", "Twin Shop", postcode="M8 8AA"),
    rec("s", "90", "Totally New", postcode="M9 9AA"),
)


def test_withdrawn_records_are_returned_not_deleted() -> None:
    gone = withdrawn(PREVIOUS, CURRENT, on="2024-06-01")
    assert sorted(gone["record_id"]) == ["4", "5", "6", "7", "8"]
    assert set(gone["status"]) == {WITHDRAWN}
    assert set(gone["withdrawn_on"]) == {"2024-06-01"}
    assert "Gone For Good" in set(gone["name"])  # the row is kept whole, for republishing
    row = gone[gone["record_id"] == "4"].iloc[0].to_dict()
    lines = enterprise_lines(row, "https://example.org/id/")
    dated = [line for line in lines if f"<{SEP}withdrawnOn>" in line]
    assert dated == [f'<https://example.org/id/s/4> <{SEP}withdrawnOn> "2024-06-01"^^<http://www.w3.org/2001/XMLSchema#date> .\n']
    own = [n for n, line in enumerate(lines) if line.startswith("<https://example.org/id/s/4> ")]
    assert own == list(range(len(own)))  # written with the record's own lines, before its `#` nodes


def test_withdrawn_keeps_the_original_date_in_later_releases() -> None:
    first = withdrawn(PREVIOUS, CURRENT, on="2024-06-01")
    previous2 = pd.concat([CURRENT, first], ignore_index=True)
    second = withdrawn(previous2, CURRENT, on="2024-07-01")
    assert set(second["withdrawn_on"]) == {"2024-06-01"}
    assert sorted(second["record_id"]) == ["4", "5", "6", "7", "8"]


def test_renumbered_detection() -> None:
    links = renumbered(PREVIOUS, CURRENT)
    got = {(a, b) for a, b in zip(links["record_a"], links["record_b"])}
    assert got == {("5", "50"), ("6", "60"), ("7", "70")}  # not the ambiguous twins, not 4 -> 90
    assert set(links["evidence"]) == {"renumbered"} and set(links["decision"]) == {"same"}
    assert links["iri_a"].iloc[0] == enterprise_iri("s", "5")  # a = old record


def test_no_change_means_nothing_to_do() -> None:
    assert withdrawn(CURRENT, CURRENT, on="2024-06-01").empty
    assert renumbered(CURRENT, CURRENT).empty
