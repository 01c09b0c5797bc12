"""Stable identities over time: withdrawn and renumbered records.

A published IRI is a promise: partners bookmark it and link to it. So a record that
disappears from its source is never deleted — it is republished as *withdrawn* (with the
date we noticed) — and a record that reappears under a new id in the same source (a
registry renumbering, an export with new keys) is linked to its old IRI with evidence
`renumbered` and `dcterms:replaces` / `dcterms:isReplacedBy`.

How the pipeline uses it (`gate.source`, per source, before the identity stage):

1. *before* `SourceState.promote()`, read the previous release's rows:
   `previous = read_frame(state/<source>/good/canonical.parquet)` concatenated with
   `state/<source>/good/withdrawn.parquet` if present (records withdrawn in earlier
   releases must keep being republished with their original date);
2. `current = read_frame(state/<source>/run/canonical.parquet)` (this run's rows);
3. `gone = withdrawn(previous, current, on=<release date YYYY-MM-DD>)` -> write it to
   `state/<source>/run/withdrawn.parquet` (promoted with the rest), feed it to the RDF
   stage like normal canonical rows (its `status` is already sept:status/Withdrawn and
   `status_date` the withdrawal date, and its `withdrawn_on` column becomes
   `sep:withdrawnOn` among the record's own lines: `rdf.enterprises`);
4. `moved = renumbered(previous, current)` -> concatenate with the output of
   `match.find_links` before `match.clusters` / `links_rdf.write_links`, which writes
   the `dcterms:replaces` pair for every `renumbered` link.

Frames are canonical frames (`canonical.schema`); only `source`, `record_id`, `name`,
`postcode`, `country`, `websites`, `identifiers` (and `status`, `status_date` of previous
withdrawn rows) are read.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from se_pipeline.identity.errors import LinkFrameError
from se_pipeline.identity.match import LINK_COLUMNS, empty_links
from se_pipeline.identity.normalise import match_keys
from se_pipeline.namespaces import DEFAULT_DATA_BASE, SEPT

WITHDRAWN = SEPT + "status/Withdrawn"
_KEY = ["source", "record_id"]


def _check(frame: pd.DataFrame, what: str) -> None:
    missing = [c for c in ("source", "record_id", "name") if c not in frame.columns]
    if missing:
        raise LinkFrameError(f"{what} frame lacks columns {missing}")


def _absent(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """Rows of `left` whose (source, record_id) is not in `right`."""
    keys = set(zip(right["source"].astype(str), right["record_id"].astype(str)))
    mask = [(s, r) not in keys for s, r in zip(left["source"].astype(str), left["record_id"].astype(str))]
    return left[np.array(mask, dtype=bool)] if len(left) else left


def withdrawn(previous: pd.DataFrame, current: pd.DataFrame, on: str) -> pd.DataFrame:
    """Previous records absent from the current data, to republish as withdrawn.

    Returns the previous rows (all their columns) with `status` = sept:status/Withdrawn,
    `status_date` and an extra `withdrawn_on` column = `on` (YYYY-MM-DD) — or, for rows
    already withdrawn in an earlier release, their original date. Never drops a record.
    """
    _check(previous, "previous")
    _check(current, "current")
    gone = _absent(previous, current).copy()
    if gone.empty:
        return gone.assign(withdrawn_on=pd.Series(dtype="object"))
    status = gone["status"] if "status" in gone else pd.Series([None] * len(gone), index=gone.index)
    already = (status == WITHDRAWN).to_numpy()
    earlier = gone["withdrawn_on"] if "withdrawn_on" in gone else gone.get("status_date", pd.Series([None] * len(gone), index=gone.index))
    gone["withdrawn_on"] = np.where(already & earlier.notna().to_numpy(), earlier.astype(object), on)
    gone["status"] = WITHDRAWN
    gone["status_date"] = gone["withdrawn_on"]
    return gone.drop_duplicates(subset=_KEY).reset_index(drop=True)


def renumbered(previous: pd.DataFrame, current: pd.DataFrame, base: str = DEFAULT_DATA_BASE) -> pd.DataFrame:
    """Links old IRI -> new IRI for records renumbered within one source.

    A disappeared id and a new id of the same source denote the same record when they
    share a registry identifier, or the same normalised name *and* (the same postcode or
    a website domain). Only unambiguous one-to-one matches are linked (two old records
    claiming one new id means we cannot tell). Columns are `match.LINK_COLUMNS`, with
    `iri_a`/`record_a` the OLD record and `iri_b`/`record_b` the NEW one (not sorted),
    evidence "renumbered", score 1.0, decision "same".
    """
    _check(previous, "previous")
    _check(current, "current")
    old = _absent(previous, current)
    new = _absent(current, previous)
    if "status" in old:
        old = old[old["status"] != WITHDRAWN]  # already handled in an earlier release
    if old.empty or new.empty:
        return empty_links()
    ko, kn = match_keys(old.reset_index(drop=True), base), match_keys(new.reset_index(drop=True), base)
    candidates = []
    for keys_of in (_by_ids, _by_name_postcode, _by_name_domain):
        candidates.append(keys_of(ko).merge(keys_of(kn), on=["source", "key"], suffixes=("_a", "_b")))
    pairs = pd.concat(candidates, ignore_index=True)[["source", "iri_a", "iri_b", "record_id_a", "record_id_b"]].drop_duplicates()
    # one-to-one only
    pairs = pairs[~pairs["iri_a"].duplicated(keep=False) & ~pairs["iri_b"].duplicated(keep=False)]
    if pairs.empty:
        return empty_links()
    return pd.DataFrame(
        {
            "iri_a": pairs["iri_a"], "iri_b": pairs["iri_b"], "source_a": pairs["source"], "source_b": pairs["source"],
            "record_a": pairs["record_id_a"], "record_b": pairs["record_id_b"], "evidence": "renumbered",
            "score": 1.0, "decision": "same",
        },
        columns=list(LINK_COLUMNS),
    ).sort_values(["iri_a", "iri_b"]).reset_index(drop=True)


def _by_ids(k: pd.DataFrame) -> pd.DataFrame:
    e = k[["iri", "source", "record_id", "ids"]].explode("ids").dropna(subset=["ids"])
    return e.rename(columns={"ids": "key"}).assign(key=lambda d: "id|" + d["key"])


def _first_name(k: pd.DataFrame) -> pd.Series:
    return k["names"].map(lambda n: n[0] if n else None)


def _by_name_postcode(k: pd.DataFrame) -> pd.DataFrame:
    out = k[["iri", "source", "record_id"]].assign(key="pc|" + _first_name(k) + "|" + k["postcode"])
    return out.dropna(subset=["key"])


def _by_name_domain(k: pd.DataFrame) -> pd.DataFrame:
    e = k.assign(name=_first_name(k))[["iri", "source", "record_id", "name", "domains"]].explode("domains")
    e = e.dropna(subset=["domains", "name"])
    return e.assign(key="dom|" + e["name"] + "|" + e["domains"])[["iri", "source", "record_id", "key"]]
