"""Benchmark the identity matcher on the real shared samples.

`python -m benchmarks.identity.run` — loads Co-ops UK, DotCoop, standard CSV and
TransforMap samples through the project's adapters, runs `find_links` without curated
decisions, and scores the clusters against `labelled_pairs.csv` (a pair is predicted
"same" when both records end up in one cluster, so transitive links count).

Prints precision / recall / F1 overall, per labelling basis, per evidence of the direct
link (or "transitive"), and a sweep of the `same` threshold; the chosen thresholds are
`se_pipeline.identity.thresholds.DEFAULT`. Then the Co-operatives UK / DotCoop pairs of
issue 26 that the shared samples lack (real-format fixtures in `tests/identity/fixtures`):
how many are linked, and any other link among them.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pandas as pd

from benchmarks.identity.samples import available, load_frames, parse_file
from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.identity.match import clusters, find_links
from se_pipeline.identity.thresholds import DEFAULT

LABELS = Path(__file__).resolve().parent / "labelled_pairs.csv"
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "identity" / "fixtures"
#: Issue 26's pairs (Co-ops UK organisation, DotCoop registrant), in the fixtures.
ISSUE_PAIRS = {("R900001", "ppt90000001"), ("R900002", "ppt90000002"), ("R900003", "ppt90000003"),
               ("R900004", "ppt90000004"), ("R900005", "ppt90000005"), ("R900006", "ppt90000006"),
               ("R900007", "ppt90000007")}
SWEEP = (0.70, 0.75, 0.80, 0.85, 0.88, 0.90, 0.92, 0.94, 0.96, 0.98)


def load_labels() -> pd.DataFrame:
    df = pd.read_csv(LABELS, dtype=str, keep_default_na=False)
    df["same"] = df["same"] == "true"
    df["iri_a"] = [enterprise_iri(s, r) for s, r in zip(df["source_a"], df["record_a"])]
    df["iri_b"] = [enterprise_iri(s, r) for s, r in zip(df["source_b"], df["record_b"])]
    return df


def predict(links: pd.DataFrame, labels: pd.DataFrame, same: float) -> pd.DataFrame:
    """Labels with `pred` (same cluster at threshold `same`) and `evidence` of the direct link."""
    links = links.assign(decision=["same" if s >= same else "uncertain" for s in links["score"]])
    links.loc[links["evidence"].isin(["curated", "renumbered"]), "decision"] = "same"
    cmap = clusters(links)
    direct = {(a, b): e for a, b, e, d in zip(links["iri_a"], links["iri_b"], links["evidence"], links["decision"]) if d == "same"}
    out = labels.copy()
    out["pred"] = [cmap.get(a, a) == cmap.get(b, b) for a, b in zip(out["iri_a"], out["iri_b"])]
    out["evidence"] = [
        direct.get((min(a, b), max(a, b)), "transitive") if p else "-" for a, b, p in zip(out["iri_a"], out["iri_b"], out["pred"])
    ]
    return out


def prf(df: pd.DataFrame) -> tuple[int, int, int, float, float, float]:
    tp = int((df["pred"] & df["same"]).sum())
    fp = int((df["pred"] & ~df["same"]).sum())
    fn = int((~df["pred"] & df["same"]).sum())
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return tp, fp, fn, p, r, f


def _line(label: str, df: pd.DataFrame) -> str:
    tp, fp, fn, p, r, f = prf(df)
    return f"  {label:<28} TP={tp:<4} FP={fp:<3} FN={fn:<3} precision={p:.3f} recall={r:.3f} F1={f:.3f}"


def main() -> int:
    if not available():
        print("SKIP: shared samples not found (../shared/samples or $SE_SHARED); nothing to benchmark")
        return 0
    frames, notes = load_frames()
    for n in notes:
        print("note:", n)
    labels = load_labels()
    labels = labels[labels["source_a"].isin(frames) & labels["source_b"].isin(frames)]
    print(f"labelled pairs: {len(labels)} ({int(labels['same'].sum())} true, {int((~labels['same']).sum())} false)")
    print(labels.groupby(["basis", "same"]).size().rename("pairs").to_string())
    sweep_t = dataclasses.replace(DEFAULT, uncertain=min(DEFAULT.uncertain, min(SWEEP)))
    t0 = time.perf_counter()
    links = find_links(frames, thresholds=sweep_t)
    print(f"\nfind_links on {sum(len(f) for f in frames.values())} records: {time.perf_counter() - t0:.2f}s, {len(links)} candidate links")

    print("\nthreshold sweep (same >= t):")
    for t in SWEEP:
        print(_line(f"same >= {t:.2f}", predict(links, labels, t)))

    chosen = predict(links, labels, DEFAULT.same)
    print(f"\nchosen thresholds: {DEFAULT}")
    print(_line("OVERALL", chosen))
    print("by labelling basis:")
    for basis, g in chosen.groupby("basis"):
        print(_line(basis, g))
    print("by evidence of the predicted link (precision; recall = share of all true pairs found this way):")
    n_true = int(chosen["same"].sum())
    for ev, g in chosen[chosen["pred"]].groupby("evidence"):
        tp, fp = int(g["same"].sum()), int((~g["same"]).sum())
        print(f"  {ev:<28} TP={tp:<4} FP={fp:<3} precision={tp / (tp + fp):.3f} recall-share={tp / n_true:.3f}")
    fps = chosen[chosen["pred"] & ~chosen["same"]]
    fns = chosen[~chosen["pred"] & chosen["same"]]
    if len(fps):
        print("false positives:\n" + fps[["source_a", "record_a", "source_b", "record_b", "basis", "evidence"]].to_string(index=False))
    print(f"false negatives: {len(fns)} (first 15)\n" + fns[["source_a", "record_a", "source_b", "record_b", "basis"]].head(15).to_string(index=False))
    fixtures = {"coops_uk": parse_file("coops_uk", FIXTURES / "open_data_organisations_pairs.csv"),
                "dotcoop": parse_file("dotcoop", FIXTURES / "ActiveDomainsLonLat_pairs.csv")}
    fl = find_links(fixtures)
    fl = fl[fl["decision"] == "same"]
    got = {(a, b) if s == "coops_uk" else (b, a) for a, b, s in zip(fl["record_a"], fl["record_b"], fl["source_a"])}
    print(f"\nissue 26 pairs (tests/identity/fixtures): {len(got & ISSUE_PAIRS)}/{len(ISSUE_PAIRS)} linked, "
          f"{len(got - ISSUE_PAIRS)} other links; by evidence: {fl['evidence'].value_counts().to_dict()}")
    labelled = set(zip(labels["iri_a"], labels["iri_b"])) | set(zip(labels["iri_b"], labels["iri_a"]))
    final = links[links["score"] >= DEFAULT.same]
    unl = final[[(a, b) not in labelled for a, b in zip(final["iri_a"], final["iri_b"])]]
    print(f"\n'same' links at the chosen threshold not covered by the labelled set: {len(unl)}")
    if len(unl):
        print(unl.groupby(["source_a", "source_b", "evidence"]).size().to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
