"""A partner's records as our graph gets them (`records.gated_lines`): blank nodes become
`#genid-` nodes of the record that reaches them, named by what they say."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from se_pipeline.sources.dcat_catalog.records import gated_lines, leave_out_republished, skolem_iris

R = "https://rede.example.org/id/"
EX = "https://rede.example.org/vocab#"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://purl.org/essglobal/vocab/SSEInitiative>"


def _triples(text: str) -> list[ox.Triple]:
    return list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES))


def _iris(text: str, records: list[str]) -> dict[str, str]:
    """{blank label in `text`: its IRI}."""
    return {node.value: iri.value for node, iri in skolem_iris(_triples(text), records).items()}


NESTED = f"""<{R}1> <{EX}contato> _:%(a)s .
_:%(a)s <{EX}telefone> "+55 81 1234" .
_:%(a)s <{EX}endereco> _:%(b)s .
_:%(b)s <{EX}rua> "Rua Um" .
<{R}2> <{EX}contato> _:%(c)s .
_:%(c)s <{EX}telefone> "+55 81 1234" .
_:%(c)s <{EX}endereco> _:%(d)s .
_:%(d)s <{EX}rua> "Rua Dois" .
"""


def test_the_same_statements_give_the_same_iris_whatever_the_labels() -> None:
    one = _iris(NESTED % {"a": "a", "b": "b", "c": "c", "d": "d"}, [f"{R}1", f"{R}2"])
    two = _iris(NESTED % {"a": "x9", "b": "genid7", "c": "q", "d": "zz"}, [f"{R}1", f"{R}2"])
    assert [one[k] for k in "abcd"] == [two[k] for k in ("x9", "genid7", "q", "zz")]
    assert one["a"].startswith(f"{R}1#genid-") and one["b"].startswith(f"{R}1#genid-")  # nested: the record's too
    assert one["c"].startswith(f"{R}2#genid-") and one["d"].startswith(f"{R}2#genid-")
    assert len(set(one.values())) == 4
    # A's digest is made of what its nested node says: another street, another contact.
    assert one["a"].partition("#")[2] != one["c"].partition("#")[2]
    assert one["b"].partition("#")[2] != one["d"].partition("#")[2]


def test_a_node_two_records_reach_is_the_first_records_and_one_node() -> None:
    text = f"""<{R}2> <{EX}rede> _:s .
<{R}1> <{EX}rede> _:s .
_:s <{EX}nome> "Rede Sul" .
"""
    assert _iris(text, [f"{R}2", f"{R}1"]) == {"s": _iris(text, [f"{R}1"])["s"]}
    assert _iris(text, [f"{R}2"])["s"].startswith(f"{R}2#genid-")


def test_nodes_in_a_cycle_stay_apart_and_nodes_no_record_reaches_get_none() -> None:
    text = f"""<{R}1> <{EX}p> _:a .
_:a <{EX}next> _:b .
_:b <{EX}next> _:a .
_:lone <{EX}p> "nobody's" .
"""
    found = _iris(text, [f"{R}1"])
    assert set(found) == {"a", "b"} and found["a"] != found["b"]


def test_gated_lines_have_no_blank_node_and_each_subjects_lines_together(tmp_path: Path) -> None:
    partner = tmp_path / "partner.nt"
    nested = NESTED % {"a": "a", "b": "b", "c": "c", "d": "d"}
    partner.write_text("".join(sorted(nested.splitlines(keepends=True)))
                       + f"<{R}1> {TYPE} .\n<{R}2> {TYPE} .\n<{R}1#address> <{EX}rua> \"Rua Um\" .\n"
                       + f"<{R}10> {TYPE} .\n", encoding="utf-8")
    lines = list(gated_lines(partner, "rede", {f"{R}1": "Um", f"{R}10": "Dez", f"{R}2": "Dois"}))
    text = "".join(lines)
    assert "_:" not in text
    parsed = _triples(text)
    assert len(parsed) == len(lines)
    subjects = [t.subject.value for t in parsed]
    runs = [s for k, s in enumerate(subjects) if k == 0 or subjects[k - 1] != s]
    assert len(runs) == len(set(runs))                               # each subject's lines together
    records = [s.partition("#")[0] for s in runs]
    assert records == sorted(records, key=lambda r: [f"{R}1", f"{R}10", f"{R}2"].index(r))  # record by record
    assert sum(1 for t in parsed if t.predicate.value == f"{EX}rua") == 3


def _records(*pairs: tuple[str, str]) -> dict[str, list[ox.Triple]]:
    """{record: [its dcterms:source, its name]} for (record, source dataset) pairs."""
    return {rec: _triples(f"<{rec}> <http://purl.org/dc/terms/source> <{source}> .\n<{rec}> <https://schema.org/name> \"n\" .\n")
            for rec, source in pairs}


def test_records_a_partner_republishes_from_another_catalog_are_left_out() -> None:
    ours, theirs = "https://w3id.org/se-pipeline/source/wfto", "https://w3id.org/se-pipeline/source/rede"
    records = _records((f"{R}a", ours), (f"{R}b", theirs), (f"{R}c", ours))
    records[f"{R}d"] = _triples(f"<{R}d#x> <http://purl.org/dc/terms/source> <{theirs}> .\n")  # a node's, not the record's
    assert leave_out_republished(records, [theirs]) == 1
    assert sorted(records) == [f"{R}a", f"{R}c", f"{R}d"]
    assert leave_out_republished(records, []) == 0 and len(records) == 3
