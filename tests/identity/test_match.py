from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from se_pipeline.identity.decisions import Decision, Decisions
from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.identity import match
from se_pipeline.identity.match import (
    LINK_COLUMNS, _Columns, _grid_pairs, _name_sims, _pair_frame, _self_pairs, _subset, clusters, find_links,
    name_similarity,
)
from se_pipeline.identity.thresholds import Thresholds
from tests.identity.helpers import frames, pairs, rec

I = enterprise_iri


def test_registry_id_links_across_padding_and_sources() -> None:
    links = find_links(frames(
        rec("a", "1", "Alpha Housing Limited", identifiers=["companies-house:1673378"], postcode="E8 3DY"),
        rec("b", "X", "Completely Other Name", identifiers=["companies-house:01673378"], country="GB"),
        rec("b", "Y", "Unrelated", identifiers=["companies-house:01673379"]),
    ))
    assert list(links.columns) == list(LINK_COLUMNS)
    assert pairs(links) == {("1", "X", "registry-id")}
    assert links["score"].iloc[0] == 1.0


def test_no_links_within_one_source() -> None:
    links = find_links(frames(
        rec("a", "1", "Same Name", postcode="M1 1AA", identifiers=["fca:1R"], websites=["http://same.org"]),
        rec("a", "2", "Same Name", postcode="M1 1AA", identifiers=["fca:1R"], websites=["http://same.org"]),
    ))
    assert links.empty


def test_domain_links_but_generic_hosts_do_not() -> None:
    links = find_links(frames(
        rec("a", "1", "Green Grocers", websites=["https://www.greengrocers.coop/shop"], locality="Leeds"),
        rec("b", "1", "Green Grocers Ltd", websites=["http://greengrocers.coop"], locality="York"),
        rec("a", "2", "Blue Bakery", websites=["https://www.facebook.com/bluebakery"], locality="Hull"),
        rec("b", "2", "Red Bakery", websites=["https://facebook.com/redbakery"], locality="Bath"),
        rec("a", "3", "One Club", websites=["https://wordpress.com"], locality="Bath"),
        rec("b", "3", "Two Club", websites=["https://wordpress.com"], locality="Hull"),
    ))
    assert pairs(links, None) == {("1", "1", "domain")}


def test_umbrella_domain_used_by_many_records_is_not_evidence() -> None:
    rows = [rec("a", f"n{i}", f"Garden {i}", websites=[f"http://network.org/g{i}"], locality=f"Town{i}") for i in range(5)]
    rows.append(rec("b", "x", "Network Office", websites=["http://network.org"], locality="Elsewhere"))
    assert find_links(frames(*rows)).empty


def test_name_place_links_same_postcode_and_nearby_but_not_other_towns() -> None:
    links = find_links(frames(
        rec("a", "1", "The Unicorn Grocery Limited", postcode="M21 0BN"),
        rec("b", "1", "Unicorn Grocery", postcode="m210bn"),
        rec("a", "2", "Riverside Credit Union Ltd", lat=53.4000, lon=-2.2000),
        rec("b", "2", "Riverside Credit Union", lat=53.4100, lon=-2.2050),  # ~1.2 km
        rec("a", "3", "Hilltop Country Market", postcode="TA1 4ER", locality="Taunton", lat=51.01, lon=-3.10),
        rec("b", "3", "Hilltop Country Market", postcode="LS2 7DT", locality="Leeds", lat=53.80, lon=-1.55),
    ))
    assert pairs(links) == {("1", "1", "name+place"), ("2", "2", "name+place")}


def test_similar_names_in_same_postcode_but_different_bodies_not_linked() -> None:
    links = find_links(frames(
        rec("a", "1", "Co-operatives UK", postcode="M60 0AS"),
        rec("b", "1", "Co-operative College", postcode="M60 0AS"),
    ))
    assert pairs(links) == set()


def test_name_evidence_never_crosses_countries() -> None:
    links = find_links(frames(
        rec("a", "1", "Sunrise Dairy Cooperative", country="GB", postcode="12345", locality="Springfield", lat=0.0, lon=0.0),
        rec("b", "1", "Sunrise Dairy Cooperative", country="US", postcode="12345", locality="Springfield", lat=0.0, lon=0.0),
    ))
    assert links.empty


def test_curated_decisions_win_both_ways() -> None:
    f = frames(
        rec("a", "1", "Unicorn Grocery", postcode="M21 0BN"),
        rec("b", "1", "Unicorn Grocery", postcode="M21 0BN"),
        rec("a", "2", "Phone Co-op", postcode="OX7 5XL"),
        rec("b", "2", "Midlands Telephone Co-operative", postcode="M60 0AS"),
    )
    assert pairs(find_links(f)) == {("1", "1", "name+place")}
    d = Decisions.of([
        Decision(I("a", "1"), I("b", "1"), False, "steward", "2024-01-01"),
        Decision(I("a", "2"), I("b", "2"), True, "steward", "2024-01-01"),
    ])
    links = find_links(f, d)
    assert pairs(links, None) == {("2", "2", "curated")}
    assert links["score"].tolist() == [1.0]


def test_curated_veto_blocks_transitive_cluster() -> None:
    f = frames(
        rec("a", "1", "Delta Foods", identifiers=["fca:9R"]),
        rec("b", "1", "Delta Foods", identifiers=["fca:9R"], websites=["http://delta.coop"]),
        rec("c", "1", "Delta Foods", websites=["http://delta.coop"]),
    )
    assert len(set(clusters(find_links(f)).values())) == 1
    d = Decisions.of([Decision(I("a", "1"), I("c", "1"), False, "s", "2024-01-01")])
    links = find_links(f, d)
    cmap = clusters(links)
    assert cmap.get(I("a", "1"), I("a", "1")) != cmap.get(I("c", "1"), I("c", "1"))
    assert (links["decision"] == "uncertain").sum() == 1  # the weaker link is kept, downgraded


def test_clusters_transitive_and_stable() -> None:
    rows = [("https://x/c", "https://x/d"), ("https://x/a", "https://x/b"), ("https://x/b", "https://x/c"), ("https://x/e", "https://x/f")]
    links = pd.DataFrame({"iri_a": [r[0] for r in rows], "iri_b": [r[1] for r in rows], "decision": ["same", "same", "same", "uncertain"]})
    c1 = clusters(links)
    c2 = clusters(links.iloc[::-1])
    assert c1 == c2
    assert {c1[k] for k in ("https://x/a", "https://x/b", "https://x/c", "https://x/d")} == {"https://x/a"}
    assert "https://x/e" not in c1


def test_a_match_through_any_name_variant_of_either_record() -> None:
    """Scoring takes the best of every (variant, variant) combination, whatever the
    number of variants on each side (0 variants: no name evidence)."""
    links = find_links(frames(
        rec("a", "1", "Zephyr Holdings", alternate_names=["Harbour Wholefoods", "Quay Stores"], postcode="BS1 4DJ"),
        rec("b", "1", "Bristol Trading Company", alternate_names=["Quay Foods", "Harbour Wholefoods Co-op"],
            postcode="BS1 4DJ"),
        rec("a", "2", "Single Name Bakery", postcode="LS1 1AA"),
        rec("b", "2", "Unrelated", alternate_names=["Single Name Bakery Ltd"], postcode="LS1 1AA"),
    ))
    assert pairs(links) == {("1", "1", "name+place"), ("2", "2", "name+place")}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["green bakers", "green", "bakers union", "harbour wholefoods",
                                          "harbour", "oak valley growers 12", "valley oak"]),
                         max_size=3, unique=True), min_size=2, max_size=6))
def test_vectorised_name_scores_equal_the_pairwise_definition(names: list[list[str]]) -> None:
    keys = pd.DataFrame({"names": names, "country": "GB", "postcode": None, "locality": None,
                         "lat": float("nan"), "lon": float("nan"), "domains": [[] for _ in names]})
    a, b = np.array([i for i in range(len(names)) for j in range(len(names))]), np.array(
        [j for i in range(len(names)) for j in range(len(names))])
    best, sub = _name_sims(_Columns.of(keys), a, b, np.ones(len(a), dtype=bool))
    for k, (i, j) in enumerate(zip(a, b)):
        assert best[k] == name_similarity(names[i], names[j])
        combos = [(x, y) for x in names[i] for y in names[j]]
        assert sub[k] == bool(_subset([x for x, _ in combos], [y for _, y in combos]).any())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 11), st.sampled_from(["k1", "k2", "k3", "k4", None])), max_size=40),
       st.lists(st.integers(0, 2), min_size=12, max_size=12), st.integers(1, 5), st.integers(1, 7))
def test_block_pairs_are_every_cross_source_pair_sharing_a_small_enough_key(
        rows: list[tuple[int, str | None]], sources: list[int], cap: int, at_once: int) -> None:
    """The expansion by block size, a few pairs at a time, against the definition."""
    src = np.array(sources)
    keyed = pd.DataFrame({"r": [r for r, _ in rows], "key": [k for _, k in rows]})
    members: dict[str, set[int]] = {}
    for r, k in rows:
        if k is not None:
            members.setdefault(k, set()).add(r)
    expected = {(a, b) for m in members.values() if len(m) <= cap
                for a in m for b in m if a < b and src[a] != src[b]}
    old = match.PAIRS_AT_ONCE
    match.PAIRS_AT_ONCE = at_once
    try:
        found = _pair_frame([_self_pairs(keyed, cap, src)], len(src))
    finally:
        match.PAIRS_AT_ONCE = old
    assert set(zip(found["a"], found["b"])) == expected
    assert list(zip(found["a"], found["b"])) == sorted(expected)   # distinct, in order


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3), st.sets(st.sampled_from(["oak", "ash", "elm"]), max_size=2)),
                min_size=1, max_size=25),
       st.integers(1, 6))
def test_grid_pairs_are_every_cross_source_pair_in_neighbouring_cells_sharing_a_token(
        recs: list[tuple[int, int, set[str]]], cap: int) -> None:
    """Half the neighbours, both ways round, against the definition over all nine."""
    n = len(recs)
    src = np.arange(n) % 3
    km = 2.0
    # Points in the middle of cell (i, j) near the equator (cos(lat) ~ 1 at the scale used).
    lat = [(i + 0.5) * km / 111.32 / 1000 for i, _, _ in recs]
    keys = pd.DataFrame({"r": range(n), "lat": lat, "lon": [(j + 0.5) * km / 111.32 / 1000 for _, j, _ in recs]})
    cells = match._grid(keys, km / 1000)
    toks = pd.DataFrame([(r, t) for r, (_, _, ts) in enumerate(recs) for t in sorted(ts)], columns=["r", "token"])
    size: dict[tuple[int, int, str], int] = {}
    for r, t in zip(toks["r"], toks["token"]):
        c = (cells["i"][r], cells["j"][r], t)
        size[c] = size.get(c, 0) + 1
    expected = set()
    for x, tx in zip(toks["r"], toks["token"]):
        for y, ty in zip(toks["r"], toks["token"]):
            cx, cy = (cells["i"][x], cells["j"][x], tx), (cells["i"][y], cells["j"][y], ty)
            if (x < y and tx == ty and src[x] != src[y] and size[cx] <= cap and size[cy] <= cap
                    and abs(cx[0] - cy[0]) <= 1 and abs(cx[1] - cy[1]) <= 1):
                expected.add((x, y))
    found = _pair_frame([_grid_pairs(keys, toks, Thresholds(max_km=km / 1000, block_cap=cap), src)], n)
    assert set(zip(found["a"], found["b"])) == expected


def test_sources_without_records_have_no_links_but_curated_ones() -> None:
    empty = {name: pd.DataFrame({c: [] for c in match.MATCH_COLUMNS}) for name in ("a", "b")}
    assert find_links(empty).empty
    same = Decisions.of([Decision(I("a", "1"), I("b", "9"), True, "steward", "2026-12-02", "one shop")])
    assert pairs(find_links(empty, same), None) == {("1", "9", "curated")}


def test_frames_are_read_once_each_from_a_mapping_that_reads_when_asked() -> None:
    """`stage.match_frames` hands the matcher frames read on demand, so they are not all
    held beside its peak: the matcher must ask for each once and find the same links."""
    from collections.abc import Mapping

    given = frames(
        rec("a", "1", "The Unicorn Grocery Limited", postcode="M21 0BN", identifiers=["fca:1R"]),
        rec("b", "1", "Unicorn Grocery", postcode="m210bn"),
        rec("c", "9", "Unicorn Grocery Co-op", identifiers=["fca:1R"]),
    )
    reads: list[str] = []

    class OnDemand(Mapping):
        def __getitem__(self, source: str) -> pd.DataFrame:
            reads.append(source)
            return given[source].copy()

        def __iter__(self):
            return iter(given)

        def __len__(self) -> int:
            return len(given)

    lazy = find_links(OnDemand())
    assert sorted(reads) == sorted(given)
    pd.testing.assert_frame_equal(lazy, find_links(given))
    assert pairs(lazy, None)
