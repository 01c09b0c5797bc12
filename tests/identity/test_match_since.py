"""A match made from the previous one (`find_links_since`: only pairs a change can alter
are scored) equals a match from scratch on the same records, and the links graph the
`enterprise_links` stage writes from it equals the one a run without kept state writes."""
from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from se_pipeline.canonical.schema import ensure_columns
from se_pipeline.identity.match import Matched, combine_keys, find_links_since, match_keys_frame, source_keys
from se_pipeline.identity.thresholds import Thresholds
from se_pipeline.identity.stage import MATCH_STATE, link_sources, links_path
from se_pipeline.settings import Settings
from se_pipeline.state import SourceState, write_frame

from .helpers import rec

#: Small caps, so that a few records push a block, a domain or a name past them (and back).
TIGHT = Thresholds(block_cap=4, domain_max_per_source=1)
BASE = "https://w3id.org/se-pipeline/id/"


def _world(seed: int) -> list[dict]:
    """Two sources of records sharing names, postcodes, domains and registry ids (so every
    kind of evidence finds pairs, and blocks near the cap)."""
    rnd = random.Random(seed)
    words = ["Green", "Valley", "Bakery", "Coop", "Housing", "Energy", "Bute", "Community", "Power", "Farm"]
    out = []
    for source in ("alpha", "beta"):
        for k in range(40):
            name = " ".join(rnd.sample(words, rnd.choice((2, 3))))
            out.append(rec(source, f"{source[0]}{k}", name, postcode=rnd.choice(["AB1 2CD", "EF3 4GH", "IJ5 6KL", None]),
                           locality=rnd.choice(["Leeds", "York", None]),
                           lat=53.8 + rnd.random() / 50, lon=-1.5 + rnd.random() / 50,
                           websites=[f"https://{rnd.choice(['green', 'valley', 'bute'])}{rnd.randint(0, 6)}.coop"],
                           identifiers=[f"fca:{rnd.randint(1, 30)}"] if rnd.random() < 0.3 else []))
    return out


def _keys(rows: list[dict]) -> pd.DataFrame:
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r["source"], []).append(r)
    return combine_keys([source_keys(s, ensure_columns(pd.DataFrame(rs)), BASE) for s, rs in by.items()], BASE)


def _links(matched: Matched) -> set[tuple]:
    return {tuple(r) for r in matched.links.itertuples(index=False)}


def _changed(before: pd.DataFrame, now: pd.DataFrame) -> set[str]:
    text = lambda k: {i: repr(r) for i, r in zip(k["iri"], k.drop(columns=["r", "iri"]).astype(str).itertuples(index=False))}
    old = text(before)
    return {i for i, t in text(now).items() if old.get(i) != t}


@pytest.mark.parametrize("seed", range(6))
def test_a_match_since_the_previous_equals_one_from_scratch(seed: int) -> None:
    rows = _world(seed)
    before = match_keys_frame(_keys(rows), thresholds=TIGHT, base=BASE)
    assert len(before.links) > 5  # the world links records, or the test proves nothing
    rnd = random.Random(1000 + seed)
    edited = [dict(r) for r in rows]
    for r in rnd.sample([r for r in edited if r["source"] == "alpha"], 4):
        r["name"] = rnd.choice(edited)["name"]            # a rename: makes and breaks links
    for r in rnd.sample(edited, 3):
        r["postcode"] = "AB1 2CD"                         # fills a postcode block past the cap
    for r in rnd.sample(edited, 2):
        r["websites"] = ["https://green1.coop"]           # a domain turns umbrella
    withdrawn = set(rnd.sample(range(len(edited)), 5))
    edited = [r for k, r in enumerate(edited) if k not in withdrawn]
    edited += [rec("beta", f"new{k}", rows[k]["name"], postcode=rows[k].get("postcode"), country="GB")
               for k in range(3)]                          # added records named as existing ones
    keys = _keys(edited)
    scratch = match_keys_frame(keys, thresholds=TIGHT, base=BASE)
    since = find_links_since(before, keys, _changed(before.keys, keys), thresholds=TIGHT, base=BASE)
    assert _links(since) == _links(scratch)
    assert list(since.links["iri_a"]) == list(scratch.links["iri_a"])  # the same order too
    assert set(map(tuple, since.scored.itertuples(index=False))) == set(map(tuple, scratch.scored.itertuples(index=False)))
    assert _links(scratch) != _links(before)  # the edits changed the links


def test_nothing_changed_scores_nothing_and_finds_the_same() -> None:
    keys = _keys(_world(7))
    before = match_keys_frame(keys, thresholds=TIGHT, base=BASE)
    assert _links(find_links_since(before, keys, set(), thresholds=TIGHT, base=BASE)) == _links(before)


# ---------------------------------------------------------------------------- the stage


def _good(settings: Settings, rows: list[dict]) -> None:
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r["source"], []).append(r)
    for source, rs in by.items():
        good = SourceState.of(settings.state_dir, source).good
        good.mkdir(parents=True, exist_ok=True)
        write_frame(good / "canonical.parquet", ensure_columns(pd.DataFrame(rs)))
        (good / "status.json").write_text("{}", encoding="utf-8")  # what marks a good copy


def _stage_rows() -> list[dict]:
    return [
        rec("coops_uk", "1", "Bute Community Power", postcode="PA20 0AA", identifiers=["fca:1"]),
        rec("dotcoop", "d1", "Bute Community Power Ltd", postcode="PA20 0AA", websites=["https://bcp.coop"]),
        rec("fairtrade", "f1", "BCP", postcode="PA20 0AA", websites=["https://bcp.coop"]),  # transitive
        rec("coops_uk", "2", "Leeds Bread Co-op", postcode="LS6 1AA", lat=53.81, lon=-1.56),
        rec("dotcoop", "d2", "Leeds Bread Coop", postcode="LS6 1AA", lat=53.81, lon=-1.56),
        rec("coops_uk", "3", "Valley Housing", postcode="YO1 7AA"),
        rec("dotcoop", "d3", "Hill Energy", postcode="YO1 7AA"),
        rec("coops_uk", "4", "Gone Cooperative", postcode="M1 1AA", websites=["https://gone.coop"]),
        rec("dotcoop", "d4", "Gone Co-operative", postcode="M1 1AA", websites=["https://gone.coop"]),
    ]


def test_the_stage_writes_the_links_a_cold_match_writes(tmp_path: Path) -> None:
    names = ["coops_uk", "dotcoop", "fairtrade"]
    incremental = Settings(output_dir=tmp_path / "incremental")
    cold = Settings(output_dir=tmp_path / "cold")
    rows = _stage_rows()
    _good(incremental, rows)
    first = link_sources(incremental, names)
    assert first.rescored is None and "owl#sameAs" in first.path.read_text(encoding="utf-8")
    edited = [dict(r) for r in rows if r["record_id"] != "4"]                       # withdrawn: its link goes
    edited[[r["record_id"] for r in edited].index("2")]["name"] = "Headingley Books"  # a rename removes a link
    edited[[r["record_id"] for r in edited].index("3")]["name"] = "Hill Energy"       # and one creates one
    edited.append(rec("coops_uk", "5", "Leeds Bread Co-operative", postcode="LS6 1AA"))  # added, linked
    # The withdrawn record came back under a new id: a renumbering (dcterms:replaces).
    edited.append(rec("coops_uk", "40", "Gone Cooperative", postcode="M1 1AA", websites=["https://gone.coop"]))
    moved = pd.DataFrame([{"iri_a": f"{BASE}coops_uk/4", "iri_b": f"{BASE}coops_uk/40", "source_a": "coops_uk",
                           "source_b": "coops_uk", "record_a": "4", "record_b": "40", "evidence": "renumbered",
                           "score": 1.0, "decision": "same"}])
    for settings in (incremental, cold):
        _good(settings, edited)
        moved.to_parquet(SourceState.of(settings.state_dir, "coops_uk").good / "renumbered.parquet", index=False)
    second = link_sources(incremental, names)
    assert second.rescored is not None and 0 < second.rescored < len(edited)
    scratch = link_sources(cold, names)
    assert scratch.rescored is None
    text = second.path.read_text(encoding="utf-8")
    assert text == scratch.path.read_text(encoding="utf-8")
    for wanted in ("coops_uk/3> <http://www.w3.org/2002/07/owl#sameAs> <https://w3id.org/se-pipeline/id/dotcoop/d3>",
                   "coops_uk/40> <http://purl.org/dc/terms/replaces> <https://w3id.org/se-pipeline/id/coops_uk/4>",
                   "coops_uk/5> <http://www.w3.org/2002/07/owl#sameAs>"):
        assert wanted in text
    assert "coops_uk/2> <http://www.w3.org/2002/07/owl#sameAs>" not in text
    assert "fairtrade/f1" in text and "dotcoop/d1" in text


def test_kept_state_from_other_code_or_missing_is_not_used(tmp_path: Path) -> None:
    settings = Settings(output_dir=tmp_path)
    _good(settings, _stage_rows())
    link_sources(settings, ["coops_uk", "dotcoop", "fairtrade"])
    folder = links_path(settings).parent / MATCH_STATE
    made = folder / "made_from.json"
    made.write_text(made.read_text(encoding="utf-8").replace('"made_from": "', '"made_from": "x'), encoding="utf-8")
    links_path(settings).with_suffix(".json").unlink()  # so the links are not reused whole
    assert link_sources(settings, ["coops_uk", "dotcoop", "fairtrade"]).rescored is None
    (folder / "scored.parquet").unlink()
    links_path(settings).with_suffix(".json").unlink()
    assert link_sources(settings, ["coops_uk", "dotcoop", "fairtrade"]).rescored is None
