"""Rebuild `labelled_pairs.csv` from the real samples (run once; the CSV is the artefact).

`python -m benchmarks.identity.build_labels`

How each pair is labelled (`basis` column):

* `cuk-id` — Co-operatives UK <-> standard CSV. The standard CSV is Digital Commons'
  conversion of Co-ops UK and its `Identifier` is the CUK Organisation ID (checked: 120
  of the 300 rows carry an id present in the CUK sample, and names / postcodes agree).
  Same id -> true; different ids -> false. The matcher never compares record ids
  across sources, so this label is independent of the matcher's keys. Negatives are the
  hard ones: different-id pairs with similar names (similarity >= 70, any place) or
  the same postcode.
* `manual` — DotCoop <-> Co-ops UK and TransforMap <-> others, reviewed by hand (the
  reviewer listed, for every DotCoop registrant and every UK TransforMap place, the best
  name matches in the other samples with addresses side by side, and decided). Includes
  true pairs the matcher cannot find (e.g. The Phone Co-op registered from a Manchester
  office while Co-ops UK has its Chipping Norton address) and hard negatives (Energy4All
  vs Baywind Energy at the same postcode; Co-operatives UK, Co-operative College,
  Co-operative Press, The Phone Co-op all at M60 0AS).
* `derived` — DotCoop / TransforMap <-> standard CSV, composed of a `manual` label and
  the `cuk-id` correspondence (X = CUK R, R = standard-CSV R).
"""
from __future__ import annotations

import csv
import sys

import pandas as pd

from benchmarks.identity.samples import available, load_frames
from benchmarks.identity.run import LABELS
from se_pipeline.identity.match import name_similarity
from se_pipeline.identity.normalise import match_keys

# DotCoop registrant -> Co-ops UK organisation, judged the same organisation by review.
DOTCOOP_CUK_TRUE = {
    "ppt27501695": "R000004", "ppt29632732": "R000008", "ppt34966234": "R000007",
    "ppt43538565": "R006557", "ppt12436076": "R005553", "ENC-COOPGROUPLTD": "R000001",
    "jw4ihvk4b9": "R000168", "ppt21617774": "R001616", "ppt20246302": "R000029",
    "ppt62595040": "R000001", "ppt10508193": "R000001", "ppt3604316": "R000029",
    "ppt14450748": "R006394", "xha8fkhud6": "R000004", "ppt36337284": "R002180",
    "ppt32119425": "R002167", "ppt10508014": "R000001", "ppt9084291": "R003235",
    "ppt3604105": "R000029", "0l2qnquwr9": "R004810", "ppt75758871": "R000004",
    "ppt38824728": "R000096", "ppt10508873": "R000001", "ppt2207266": "R000043",
    "ppt73361970": "R000004", "ppt12453806": "R003234", "ppt3604167": "R000029",
    "ppt22908750": "R000015", "aqf29adfxt": "R000004", "ppt8468016": "R000009",
    "ppt70938465": "R000004",
}
# Hard negatives judged by review: (DotCoop registrant, CUK organisation).
DOTCOOP_CUK_FALSE = [
    ("ppt76548554", "R002805"), ("ppt76548554", "R007144"), ("ppt76548554", "R006102"), ("ppt76548554", "R015043"),
    ("ppt20246302", "R000043"), ("ppt20246302", "R003234"), ("ppt20246302", "R003235"),
    ("ppt3604316", "R000043"), ("ppt3604316", "R003234"), ("ppt3604167", "R003235"),
    ("ppt9084291", "R003234"), ("ppt9084291", "R000043"), ("ppt12453806", "R000043"), ("ppt12453806", "R003235"),
    ("ppt2207266", "R003234"), ("ppt2207266", "R003235"), ("ppt11586562", "R000001"), ("ppt11586376", "R000001"),
    ("ppt2030211", "R000001"), ("ppt22926431", "R006911"), ("ppt2031187", "R014039"), ("ppt28666468", "R012996"),
    ("ppt2031934", "R000003"), ("ppt30587665", "R004059"), ("ppt40540535", "R007144"), ("AW7907-GANDI", "R002580"),
    ("ppt10508014", "R000043"), ("ppt62595040", "R003234"),
    # the rest of M60 0AS (Holyoake House): other bodies at one postcode
    ("ppt3604316", "R003235"), ("ppt3604167", "R003234"), ("ppt3604167", "R000043"),
]
# TransforMap place (by exact name) -> (source, record, same), judged by review.
TRANSFORMAP = [
    ("Co-op News", "coops_uk", "R000043", True), ("Co-op News", "dotcoop", "ppt2207266", True),
    ("Co-op News", "coops_uk", "R003234", False), ("Co-op News", "coops_uk", "R003235", False),
    ("Co-op News", "dotcoop", "ppt20246302", False), ("Co-op News", "dotcoop", "ppt12453806", False),
    ("Co-op News", "dotcoop", "ppt9084291", False), ("2nd Chance Group CIC", "coops_uk", "R000001", False),
    ("The Fold", "dotcoop", "epag_0004750162", False),
]


def _pair(sa: str, ra: str, sb: str, rb: str, same: bool, basis: str) -> tuple[str, str, str, str, bool, str]:
    if (sa, ra) > (sb, rb):
        sa, ra, sb, rb = sb, rb, sa, ra
    return (sa, ra, sb, rb, same, basis)


def build(frames: dict[str, pd.DataFrame]) -> list[tuple[str, str, str, str, bool, str]]:
    cuk, std = frames["coops_uk"], frames["standard_csv"]
    std_ids, cuk_ids = set(std["record_id"]), set(cuk["record_id"])
    rows = []
    # cuk-id: true pairs, and hard negatives among different ids
    for rid in sorted(std_ids & cuk_ids):
        rows.append(_pair("coops_uk", rid, "standard_csv", rid, True, "cuk-id"))
    kc, ks = match_keys(cuk), match_keys(std)
    for a in kc.itertuples():
        for b in ks.itertuples():
            if a.record_id == b.record_id:
                continue
            same_pc = a.postcode is not None and a.postcode == b.postcode
            if same_pc or name_similarity(a.names, b.names) >= 70:
                rows.append(_pair("coops_uk", a.record_id, "standard_csv", b.record_id, False, "cuk-id"))
    # manual dotcoop <-> cuk, and derived dotcoop <-> std
    dc_ids = set(frames["dotcoop"]["record_id"])
    labelled = [(d, c, True) for d, c in DOTCOOP_CUK_TRUE.items()] + [(d, c, False) for d, c in DOTCOOP_CUK_FALSE]
    for d, c, same in labelled:
        assert d in dc_ids and c in cuk_ids, (d, c)
        rows.append(_pair("coops_uk", c, "dotcoop", d, same, "manual"))
        if c in std_ids:
            rows.append(_pair("dotcoop", d, "standard_csv", c, same, "derived"))
    if "transformap" in frames:
        tm = frames["transformap"]
        for name, src, rid, same in TRANSFORMAP:
            tid = tm.loc[tm["name"] == name, "record_id"]
            if len(tid) != 1:
                print(f"transformap place {name!r} not found once; skipped", file=sys.stderr)
                continue
            rows.append(_pair("transformap", tid.iloc[0], src, rid, same, "manual"))
            if src == "coops_uk" and rid in std_ids:
                rows.append(_pair("transformap", tid.iloc[0], "standard_csv", rid, same, "derived"))
    seen: dict[tuple[str, str, str, str], tuple] = {}
    for r in rows:
        key = r[:4]
        if key in seen and seen[key][4] != r[4]:
            raise SystemExit(f"contradictory labels for {key}")
        seen.setdefault(key, r)
    return sorted(seen.values())


def main() -> int:
    if not available():
        print("shared samples not found (../shared/samples or $SE_SHARED): nothing to build")
        return 0
    frames, notes = load_frames()
    for n in notes:
        print(n)
    rows = build(frames)
    with LABELS.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["source_a", "record_a", "source_b", "record_b", "same", "basis"])
        for r in rows:
            w.writerow([r[0], r[1], r[2], r[3], "true" if r[4] else "false", r[5]])
    df = pd.DataFrame(rows, columns=["sa", "ra", "sb", "rb", "same", "basis"])
    print(df.groupby(["sa", "sb", "basis", "same"]).size().to_string())
    print(f"wrote {len(rows)} pairs to {LABELS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
