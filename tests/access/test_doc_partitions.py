"""Documents written one source at a time equal those written from the whole release."""
from __future__ import annotations

import itertools
from pathlib import Path

import pyoxigraph as ox

import pytest

from se_pipeline.access.describe import pick_labels
from se_pipeline.access.doc_partitions import (
    ConceptLabels, NotGrouped, owner, record_lines, route, shares, source_parts,
)
from se_pipeline.access.static_docs import write_source_documents, write_static_documents
from se_pipeline.namespaces import DEFAULT_DATA_BASE, ESSGLOBAL, OWL, RDF_TYPE, SCHEMA, SE_GRAPH, SKOS
from se_pipeline.rdf.vocabulary import vocabulary_quads

B = DEFAULT_DATA_BASE
INIT = f"<{RDF_TYPE}> <{ESSGLOBAL}SSEInitiative>"
WORKER_COOP = "<https://w3id.org/se-pipeline/taxonomy/practice/worker-coop>"

GRAPHS = {
    "a": [
        f'<{B}a/1> {INIT} .', f'<{B}a/1> <{SCHEMA}name> "Alpha \\u00E9 Co-op" .',
        f'<{B}a/1> <{SCHEMA}address> <{B}a/1#address> .', f'<{B}a/1#address> <{SCHEMA}postalCode> "M1 1AA" .',
        f'<{B}a/1> <https://w3id.org/se-pipeline/ontology/practice> {WORKER_COOP} .',
        f'<{B}a/2> {INIT} .', f'<{B}a/2> <{SCHEMA}name> "Alpha Two" .',
        f'<{B}a/2> <{OWL}sameAs> <{B}b/7> .',                        # outgoing, in a source graph
        f'<{B}a/3> {INIT} .', f'<{B}a/3> <{OWL}sameAs> <{B}a/1> .',  # incoming to a record read before
    ],
    "b": [
        f'<{B}b/7> {INIT} .', f'<{B}b/7> <{SCHEMA}name> "Beta Seven" .',
        f'<{B}a/1> <https://w3id.org/se-pipeline/ontology/hasOutlet> <{B}b/7> .',  # about a's record
        f'<{B}c/9> {INIT} .', f'<{B}c/9> <{SCHEMA}name> "Gamma, only typed here" .',  # c has no graph
        f'{WORKER_COOP} <{SKOS}prefLabel> "Coopérative de travail"@fr .',          # a label in a source graph
    ],
    "links": [
        f'<{B}a/1> <{OWL}sameAs> <{B}b/7> .', f'<{B}b/7> <{OWL}sameAs> <{B}c/9> .',
        f'<https://w3id.org/se-pipeline/link/x> <{RDF_TYPE}> <https://w3id.org/se-pipeline/ontology/Link> .',
    ],
}


def _parts(tmp_path: Path) -> list[tuple[str, Path]]:
    parts = []
    for name, lines in GRAPHS.items():
        path = tmp_path / f"{name}.nt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        parts.append((SE_GRAPH + name, path))
    return parts


def _whole_store(parts: list[tuple[str, Path]]) -> ox.Store:
    store = ox.Store()
    for graph, path in parts:
        store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
    store.extend(vocabulary_quads(store, SE_GRAPH + "vocabulary"))
    return store


def _files(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_documents_by_source_equal_documents_from_the_whole_release(tmp_path: Path) -> None:
    """Record by record from the files (the release's way) and from a store per source (the
    fallback) give the bytes a store of the whole release gives."""
    parts = _parts(tmp_path)
    whole, split, stored = tmp_path / "whole", tmp_path / "split", tmp_path / "stored"
    n = write_static_documents(_whole_store(parts), whole, B)
    m = k = 0
    labels = None
    for part in source_parts(parts, B):
        labels = labels or ConceptLabels(part.routed.labels)
        m += write_source_documents(part, split, labels, {})
        k += write_static_documents(part.store(), stored, B, only=part.segment, names=part.routed.names)
    assert n == m == k == 5
    expected, got = _files(whole), _files(split)
    assert got.keys() == expected.keys()
    assert [k for k in expected if expected[k] != got[k]] == []
    assert _files(stored) == expected
    page = got[Path("id/a/1.html")].decode()
    assert "Beta Seven" in page and "Coopérative de travail" in page and "hasOutlet" in page
    assert f"{B}a/3" in page  # the incoming link from later in a's own file


def test_records_are_read_one_after_the_other_and_a_record_met_again_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.nt"
    path.write_text("\n".join(GRAPHS["a"] + GRAPHS["b"][0:1]) + "\n", encoding="utf-8")
    got = [(iri, len(lines)) for iri, lines in record_lines(path, B + "a/")]
    assert got == [(B + "a/1", 5), (B + "a/2", 3), (B + "a/3", 2)]  # a/1 with its address; b's line skipped
    path.write_text("\n".join(GRAPHS["a"] + [f'<{B}a/1#address> <{SCHEMA}addressLocality> "Late" .']) + "\n",
                    encoding="utf-8")
    with pytest.raises(NotGrouped, match="a/1"):
        list(record_lines(path, B + "a/"))


def test_a_file_whose_records_are_not_grouped_is_described_from_a_store_with_the_same_bytes(tmp_path: Path) -> None:
    """E.g. a last good graph written by older code: the files written before the record
    came back are removed, and the source is described again from a store of it."""
    parts = _parts(tmp_path)
    a = parts[0][1]
    a.write_text(a.read_text(encoding="utf-8") + f'<{B}a/1> <{SCHEMA}alternateName> "Late" .\n', encoding="utf-8")
    whole, split = tmp_path / "whole", tmp_path / "split"
    write_static_documents(_whole_store(parts), whole, B)
    kept = tmp_path / "written-before.txt"  # another source's file, already in the digests
    kept.write_text("kept", encoding="utf-8")
    for part in source_parts(parts, B):
        digests = {str(kept): "digest"}
        write_source_documents(part, split, ConceptLabels(part.routed.labels), digests)
        if part.segment == "a":
            assert sorted(Path(p).name for p in digests) == sorted(
                [kept.name] + [f"{i}.{ext}" for i in (1, 2, 3)
                               for ext in ("html", "fr.html", "es.html", "pt.html", "jsonld", "ttl")])
    assert kept.is_file()
    assert _files(split) == _files(whole)
    assert "Late" in (split / "id/a/1.ttl").read_text(encoding="utf-8")


def test_labels_from_our_vocabulary_win_and_the_rest_do_not_depend_on_order() -> None:
    concept = "https://w3id.org/se-pipeline/taxonomy/practice/WorkerCoop"
    ours = ConceptLabels([])(concept)
    assert set(ours) == {"en", "fr", "es", "pt"}
    data = [ox.Quad(ox.NamedNode(concept), ox.NamedNode(SKOS + "prefLabel"), ox.Literal("Autre", language=lang),
                    ox.NamedNode(SE_GRAPH + "b")) for lang in ("fr", "de")]
    assert ConceptLabels(data)(concept) == ours  # ours for fr; de is not shown
    candidates = [("fr", "Zeta", False), (None, "Alpha", False), ("fr", "Beta", False), ("en", "Gamma", False)]
    assert pick_labels(candidates) == pick_labels(candidates[::-1]) == {"en": "Alpha", "fr": "Beta"}


def test_only_iris_with_labels_are_kept_in_the_label_cache() -> None:
    """A writer describes every record of its sources with one `ConceptLabels`: the address
    nodes and web pages records point at (one or two per record) must not pile up in it."""
    concept = "https://w3id.org/se-pipeline/taxonomy/practice/WorkerCoop"
    data_concept = "https://example.org/concept/1"
    label = ox.Quad(ox.NamedNode(data_concept), ox.NamedNode(SKOS + "prefLabel"), ox.Literal("Un", language="fr"),
                    ox.NamedNode(SE_GRAPH + "b"))
    labels = ConceptLabels([label])
    for i in range(100):
        assert labels(f"https://w3id.org/se-pipeline/id/a/{i}#address") == {}
    assert labels(concept)["fr"] and labels(data_concept) == {"fr": "Un"}
    assert set(labels.cache) == {concept, data_concept}


def test_two_writers_sharing_the_sources_write_the_documents_of_the_whole_release_once(tmp_path: Path) -> None:
    parts = _parts(tmp_path)
    whole, split = tmp_path / "whole", tmp_path / "split"
    write_static_documents(_whole_store(parts), whole, B)
    routed = route(parts, B)
    dealt = shares(routed.enterprises_by_segment(), 2)
    assert dealt[0] | dealt[1] == {"a", "b", "links"} and not dealt[0] & dealt[1]
    written = []
    for i in (0, 1):
        for part in source_parts(parts, B, (i, 2)):
            assert part.segment in dealt[i] or (i == 0 and part.segment == "c")  # c: records only in others' graphs
            written.append(part.segment)
            write_source_documents(part, split, ConceptLabels(part.routed.labels), {})
    assert sorted(written) == ["a", "b", "c"]
    assert _files(split) == _files(whole)


def test_two_writers_get_the_best_split_of_the_enterprises() -> None:
    # Largest first to the least loaded would give 7 and 5 here.
    assert shares({"a": 3, "b": 3, "c": 2, "d": 2, "e": 2}, 2) == [{"a", "b"}, {"c", "d", "e"}]
    # The 10^6 synthetic release's sources: 616,395 and 375,744 enterprises as dealt by file size.
    work = {"coops_uk": 233075, "standard_csv": 148496, "transformap": 147928, "usda_csa": 130844,
            "dotcoop": 122099, "wfto": 105149, "fairtrade": 104548, "links": 0}
    first, second = shares(work, 2)
    assert first | second == set(work) and not first & second
    busiest = max(sum(work[s] for s in share) for share in (first, second))
    every_split = (max(sum(w for w, side in zip(work.values(), sides) if side == k) for k in (0, 1))
                   for sides in itertools.product((0, 1), repeat=len(work)))
    assert busiest == min(every_split) == 503_102
    assert shares({"a": 1}, 2) == [{"a"}, set()]


def test_many_writers_or_sources_are_dealt_largest_first_to_the_least_loaded() -> None:
    assert shares({"big": 900, "mid": 500, "small": 400, "tiny": 10}, 3) == [{"big"}, {"mid"}, {"small", "tiny"}]
    many = {f"s{k:02d}": 100 - k for k in range(20)}
    first, second = shares(many, 2)
    assert first | second == set(many) and abs(sum(many[s] for s in first) - sum(many[s] for s in second)) <= 100
    assert shares(many, 1) == [set(many)]


def test_a_source_store_holds_its_graph_and_only_what_was_routed_to_it(tmp_path: Path) -> None:
    stores = {part.segment: part.store() for part in source_parts(_parts(tmp_path), B)}
    assert set(stores) == {"a", "b", "c"}          # links has no records of its own: never loaded
    about_a = {(q.predicate.value.rsplit("/", 1)[-1], q.graph_name.value.rsplit("/", 1)[-1])
               for q in stores["a"] if q.subject.value == B + "a/1"}
    assert {("hasOutlet", "b"), ("owl#sameAs", "links")} <= about_a   # routed from b's graph and links
    assert {owner(q.subject.value, B) for q in stores["a"]} == {"a", None}  # None: concepts
    assert {(q.subject.value, q.predicate.value) for q in stores["c"] if owner(q.subject.value, B) == "b"} \
        == {(B + "b/7", OWL + "sameAs")}             # the incoming link only
    assert {q.subject.value for q in stores["c"] if q.predicate.value == RDF_TYPE} >= {B + "c/9"}


def test_owner_is_the_source_segment_of_record_iris_only() -> None:
    assert owner(B + "coops_uk/R1#address", B) == "coops_uk"
    assert owner(B + "coops_uk", B) is None
    assert owner("https://example.org/coops_uk/R1", B) is None


def test_routing_reads_blocks_of_whole_lines_whatever_the_block_size(tmp_path: Path, monkeypatch) -> None:
    """A file read in blocks smaller than a line, or without a final newline, routes the
    same statements as one read whole (the prefilter must not cut or drop a line)."""
    from se_pipeline.access import doc_partitions

    parts = _parts(tmp_path)
    links = parts[-1][1]
    links.write_bytes(links.read_bytes().rstrip(b"\n"))  # last line without its newline

    def routed() -> tuple:
        r = doc_partitions.route(parts, B)
        return (r.own, r.names, {k: sorted(map(str, v)) for k, v in r.extras.items()}, sorted(map(str, r.labels)),
                r.enterprises)

    whole = routed()
    assert whole[0] == {SE_GRAPH + "a": 10, SE_GRAPH + "b": 2, SE_GRAPH + "links": 0}
    assert whole[4] == {SE_GRAPH + "a": 3, SE_GRAPH + "b": 2, SE_GRAPH + "links": 0}  # enterprises typed
    assert sorted(whole[2]) == ["a", "b", "c"] and len(whole[3]) == 1
    assert f"<{B}b/7> <{OWL}sameAs> <{B}c/9> <{SE_GRAPH}links>" in whole[2]["c"]  # the file's last line
    for size in (1, 7, 64):
        monkeypatch.setattr(doc_partitions, "_BLOCK", size)
        assert routed() == whole


def test_only_the_names_of_records_at_either_end_of_a_same_as_link_are_kept(tmp_path: Path) -> None:
    """A page names the records linked to it, no others: a names table of every record
    was ~0.2 GB per document writer at 10^6 enterprises."""
    from se_pipeline.access.doc_partitions import route

    d = tmp_path / "d.nt"
    d.write_text(f'<{B}d/1> {INIT} .\n<{B}d/1> <{SCHEMA}name> "Delta, not linked" .\n'
                 f'<{B}d/2> {INIT} .\n<{B}d/2> <{SCHEMA}name> "Delta Two" .\n<{B}d/2> <{OWL}sameAs> <{B}d/3> .\n'
                 f'<{B}d/3> <{SCHEMA}name> "Delta Three" .\n', encoding="utf-8")
    routed = route(_parts(tmp_path) + [(SE_GRAPH + "d", d)], B)
    assert routed.names == {B + "a/1": "Alpha \u00e9 Co-op", B + "a/2": "Alpha Two", B + "b/7": "Beta Seven",
                            B + "c/9": "Gamma, only typed here", B + "d/2": "Delta Two", B + "d/3": "Delta Three"}
    assert routed.own[SE_GRAPH + "d"] == 6


def test_lines_with_unicode_escapes_are_found_and_other_escapes_are_not() -> None:
    from se_pipeline.access.doc_partitions import _escaped

    lines = [b'<x> <p> "plain" .', b'<x> <p> "caf\\u00E9" .', b'<x> <p> "a \\"quote\\"" .',
             b'<x> <p> "back\\\\u slash" .', b'<x> <p> "\\U0001F600" .', b'<x\\u0041> <p> "s" .']
    block = b"\n".join(lines)  # the last line without its newline
    found: dict[int, bytes] = {}
    _escaped(block, found)
    assert sorted(found.values()) == sorted([lines[1], lines[4], lines[5]])
    assert all(block[at:at + len(line)] == line for at, line in found.items())
