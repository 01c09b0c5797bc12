"""Candidate links between records of different sources, and clusters of them.

Each source keeps its own IRIs (minted from its own record ids, see `identity.iri`); this
module only says which records denote the same enterprise. Evidence, strongest first:

1. `registry-id` — a shared registry identifier (`fca:525R`, `companies-house:…`,
   `flo:…`, `usda:…`, `dotcoop:…`), after `normalise.identifier_key` (zero padding);
2. `domain` — a shared website domain, except hosting / social platforms
   (`normalise.GENERIC_DOMAINS`) and umbrella domains used by several records of one
   source (a network's site listing its members);
3. `name+place` — similar normalised names (rapidfuzz) in the same country *and* the same
   postcode, coordinates within `max_km`, or the same locality; at the very same place
   (postcode or 500 m) an acronym is a name too: "BCP" for "Bute Community Power", or a
   website `bcp.coop` whose stem is the other's initials or whole name;
4. `name` — the same whole name (`normalise.name_key`: informative after legal forms
   are dropped) in the same country, anywhere in it, when one of the two sources has that
   name only once (a registry's one "Berkshire Country Markets" and a directory's entry
   in another town); coordinates more than `max_name_km` apart veto it.

Never all pairs: candidates come from BLOCKS (equal key values joined with pandas
merges): registry id, domain, (country, name key), (country, postcode), (country, first
name token), (country, locality, name token) and (≈`max_km` grid cell and its 8
neighbours, name token). Name evidence is only ever scored for pairs in the same
country. Oversized blocks (`block_cap`) are skipped, so the work stays roughly linear in
the number of records.

Only cross-source pairs are produced: duplicates inside a source are that source's
problem, except records renumbered between releases (see `identity.history`, whose
links use the same columns and can be concatenated before `clusters`).

Curated decisions (`identity.decisions`) always win: "same" adds a `curated` link with
score 1.0; "not the same" removes the matcher's link, and any other "same" link that
would put the two records into one cluster is downgraded to "uncertain".
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from se_pipeline.identity.decisions import NO_DECISIONS, Decisions
from se_pipeline.identity.errors import LinkFrameError
from se_pipeline.identity.iri import parse_enterprise_iri
from se_pipeline.identity.normalise import domain_stem, initials, match_keys
from se_pipeline.identity.thresholds import DEFAULT, Thresholds
from se_pipeline.namespaces import DEFAULT_DATA_BASE

LINK_COLUMNS: tuple[str, ...] = (
    "iri_a", "iri_b", "source_a", "source_b", "record_a", "record_b", "evidence", "score", "decision",
)
#: Evidence types, strongest first; a pair found by several keeps the strongest.
EVIDENCE_ORDER: dict[str, int] = {"curated": 0, "registry-id": 1, "renumbered": 2, "domain": 3, "name+place": 4,
                                  "name": 5}
#: The canonical columns the matcher (and the links graph's merged view) reads.
MATCH_COLUMNS = ("source", "record_id", "name", "alternate_names", "websites", "identifiers",
           "postcode", "country", "locality", "lat", "lon")
_EARTH_KM = 6371.0088


def empty_links() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c == "score" else "object") for c in LINK_COLUMNS})


# --------------------------------------------------------------------------- blocking


#: Pairs expanded at a time from equal-sized blocks (`_block_pairs`): bounds the
#: arrays of one expansion whatever the number of blocks.
PAIRS_AT_ONCE = 4_000_000


def _codes(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Pairs of record positions (< n) as single integers `a * n + b`: half the memory of
    two columns, and a sort dedupes and orders them without a hash table."""
    return a.astype("int64") * n + b


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """`np.unique` of integers by a sort: numpy 2.4's `np.unique` hashes, about a hundred
    times slower on millions of pair codes (benchmarks/README.md)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _member(values: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """`np.isin(values, ordered)` for a sorted `ordered`, by binary search (see `_sorted_unique`)."""
    if not len(ordered):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return ordered[at] == values


def _pair_frame(codes: list[np.ndarray], n: int) -> pd.DataFrame:
    """The distinct pairs (columns a, b; a < b) of the codes, in (a, b) order."""
    unique = _sorted_unique(np.concatenate(codes)) if codes else np.zeros(0, dtype="int64")
    return pd.DataFrame({"a": unique // n, "b": unique % n})


def _cross_pairs(ra: np.ndarray, rb: np.ndarray, src: np.ndarray) -> np.ndarray:
    """The pairs (a, b), a < b, of records from different sources (`src`: source code per record), as codes."""
    ok = (ra < rb) & (src[ra] != src[rb])
    return _codes(ra[ok], rb[ok], len(src))


def _self_pairs(keyed: pd.DataFrame, cap: int, src: np.ndarray) -> np.ndarray:
    """Cross-source pairs of record positions sharing a `key` (as codes, see `_codes`);
    keys held by > cap records skipped.

    Keys are integer codes and each block expands to its s(s-1)/2 pairs a < b, blocks
    of one size together (upper-triangle indices), `PAIRS_AT_ONCE` at a time: merging
    millions of rows on strings, then a self-merge's s^2 rows per block, were in turn
    the matcher's memory peak at 10^6 records (benchmarks/README.md)."""
    n = len(src)
    key = pd.factorize(keyed["key"])[0]
    known = key >= 0
    # One row per (key, record), sorted by key then record: blocks are runs, a < b inside.
    rows = _sorted_unique(_codes(key[known], keyed["r"].to_numpy(dtype="int64")[known], n))
    key, r = rows // n, rows % n
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype="int64")
    sizes = np.diff(np.r_[starts, len(key)])
    kept = (sizes > 1) & (sizes <= cap)
    found = [np.zeros(0, dtype="int64")]
    for size in np.unique(sizes[kept]):
        first = starts[kept & (sizes == size)]
        upper, lower = np.triu_indices(int(size), 1)
        step = max(1, PAIRS_AT_ONCE // len(upper))
        for k in range(0, len(first), step):
            at = first[k:k + step, None]
            a, b = r[at + upper].ravel(), r[at + lower].ravel()
            other = src[a] != src[b]
            found.append(_codes(a[other], b[other], n))
    return np.concatenate(found)


def _exploded(keys: pd.DataFrame, column: str) -> pd.DataFrame:
    e = keys[["r", column]].explode(column)
    return e.dropna(subset=[column])


def _tokens(keys: pd.DataFrame) -> pd.DataFrame:
    """(r, token, first): the first token of every name variant (first=True) and every
    token of >= 3 characters (first=False)."""
    names = _exploded(keys, "names")
    split = names["names"].str.split()
    first = pd.DataFrame({"r": names["r"], "token": split.str[0], "first": True})
    every = names.assign(token=split).explode("token")
    every = every[every["token"].notna() & (every["token"].str.len() >= 3)]
    every = pd.DataFrame({"r": every["r"], "token": every["token"], "first": False})
    return pd.concat([first.dropna(subset=["token"]), every], ignore_index=True)


def _grid(keys: pd.DataFrame, km: float) -> pd.DataFrame:
    """Grid cell (≈ km square) of each geocoded record, as integer (i, j)."""
    geo = keys[keys["lat"].notna() & keys["lon"].notna()]
    lat = geo["lat"].to_numpy(dtype=float)
    lon = geo["lon"].to_numpy(dtype=float)
    i = np.floor(lat * 111.32 / km).astype("int64")
    j = np.floor(lon * 111.32 * np.cos(np.radians(lat)) / km).astype("int64")
    return pd.DataFrame({"r": geo["r"].to_numpy(), "i": i, "j": j})


#: Half of a cell's eight neighbours: a pair in cells (c, c + d) is the pair in
#: (c + d, c) the other way round, so -d would only find the same pairs again.
_HALF_NEIGHBOURS = ((0, 1), (1, -1), (1, 0), (1, 1))


def _grid_pairs(keys: pd.DataFrame, toks: pd.DataFrame, t: Thresholds, src: np.ndarray) -> np.ndarray:
    """Cross-source pairs sharing a name token whose grid cells are the same or
    neighbours (as codes, see `_codes`)."""
    cells = _grid(keys, t.max_km)
    if cells.empty:
        return np.zeros(0, dtype="int64")
    tok = toks[["r", "token"]].drop_duplicates()
    left = cells.merge(tok.assign(token=pd.factorize(tok["token"])[0]), on="r")
    block = left.groupby(["i", "j", "token"]).ngroup().to_numpy()
    small = np.bincount(block)[block] <= t.block_cap
    left = left[small]
    found = [_self_pairs(pd.DataFrame({"r": left["r"], "key": block[small]}), t.block_cap, src)]
    # One neighbouring cell at a time: the nine shifted copies at once were the matcher's
    # memory peak at 10^6 records (benchmarks/README.md).
    for di, dj in _HALF_NEIGHBOURS:
        m = left.merge(left.assign(i=left["i"] + di, j=left["j"] + dj), on=["i", "j", "token"], suffixes=("_x", "_y"))
        x, y = m["r_x"].to_numpy(), m["r_y"].to_numpy()
        found.append(_cross_pairs(np.minimum(x, y), np.maximum(x, y), src))
    return np.concatenate(found)


def _name_candidates(keys: pd.DataFrame, t: Thresholds, src: np.ndarray) -> pd.DataFrame:
    """Pairs sharing (country, postcode), (country, first name token), (country,
    locality, name token) or (name token, neighbouring grid cells).

    Block keys are combined integer codes, not joined strings ("country|locality|token"
    was one new string per record and name token)."""
    words = _tokens(keys)
    toks = pd.DataFrame({"r": words["r"].to_numpy(dtype="int64"), "token": pd.factorize(words["token"])[0],
                         "first": words["first"].to_numpy()})
    del words
    n_tok = int(toks["token"].max()) + 1 if len(toks) else 1
    country = pd.factorize(keys["country"])[0]           # by record position (keys["r"] is 0..n-1)
    postcode = pd.factorize(keys["postcode"])[0]
    locality = pd.factorize(keys["locality"])[0]
    r = keys["r"].to_numpy(dtype="int64")
    parts = []
    ok = (country >= 0) & (postcode >= 0)
    parts.append(_self_pairs(pd.DataFrame({"r": r[ok], "key": country[ok].astype("int64") * (postcode.max(initial=0) + 1) + postcode[ok]}),
                             t.block_cap, src))
    ft = toks[toks["first"].to_numpy() & (country[toks["r"].to_numpy()] >= 0)]
    parts.append(_self_pairs(pd.DataFrame({"r": ft["r"], "key": country[ft["r"].to_numpy()].astype("int64") * n_tok + ft["token"]}),
                             t.block_cap, src))
    at = toks["r"].to_numpy()
    ok = (country[at] >= 0) & (locality[at] >= 0)
    place = country[at[ok]].astype("int64") * (locality.max(initial=0) + 1) + locality[at[ok]]
    parts.append(_self_pairs(pd.DataFrame({"r": at[ok], "key": place * n_tok + toks["token"].to_numpy()[ok]}), t.block_cap, src))
    parts.append(_grid_pairs(keys, toks, t, src))
    return _pair_frame(parts, len(src))


def _key_candidates(keys: pd.DataFrame, t: Thresholds, src: np.ndarray) -> pd.DataFrame:
    """Pairs with the same (country, name key), where one of the two sources has that key
    only once: a name repeated in both sources (two "Community Shop"s here, three there)
    says nothing about which is which."""
    country = pd.factorize(keys["country"])[0]
    key = pd.factorize(keys["key"])[0]
    ok = (country >= 0) & (key >= 0)
    block = country.astype("int64") * (key.max(initial=0) + 1) + key
    r = keys["r"].to_numpy(dtype="int64")
    pairs = _pair_frame([_self_pairs(pd.DataFrame({"r": r[ok], "key": block[ok]}), t.block_cap, src)], len(src))
    per_source = pd.Series(1, index=pd.MultiIndex.from_arrays([src[ok], block[ok]])).groupby(level=[0, 1]).transform("size")
    count = np.zeros(len(src), dtype="int64")
    count[r[ok]] = per_source.to_numpy()
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    return pairs[(count[a] == 1) | (count[b] == 1)].reset_index(drop=True)


# --------------------------------------------------------------------------- scoring


def _haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


#: rapidfuzz threads (GIL released): the matcher runs alone between the source and release stages.
_WORKERS = -1


def _similarity(xs: list[str], ys: list[str], flat_xs: list[str] | None = None, flat_ys: list[str] | None = None) -> np.ndarray:
    """Name similarity 0..100 of aligned name lists.

    Mean of token_set_ratio (word subsets score high) and token_sort_ratio (extra words
    cost), or the plain ratio of the names without spaces when higher ("Web Architects" /
    "Webarchitects"). `flat_xs` / `flat_ys` are the names without spaces, when the caller
    has them already.
    """
    if not xs:
        return np.zeros(0)
    s = (cpdist(xs, ys, scorer=fuzz.token_set_ratio, workers=_WORKERS)
         + cpdist(xs, ys, scorer=fuzz.token_sort_ratio, workers=_WORKERS)) / 2
    if flat_xs is None or flat_ys is None:
        flat_xs, flat_ys = [x.replace(" ", "") for x in xs], [y.replace(" ", "") for y in ys]
    flat = cpdist(flat_xs, flat_ys, scorer=fuzz.ratio, workers=_WORKERS)
    return np.maximum(s, flat).astype(float)


def _subset(xs: list[str], ys: list[str]) -> np.ndarray:
    """True where all words of the shorter name occur in the longer one, and the shorter
    name is informative (>= 2 words, one word of >= 6 letters, or one word of >= 4 letters
    that the longer name starts with: "URBED" / "URBED (Urbanism Environment and Design)")."""
    out = np.zeros(len(xs), dtype=bool)
    for k, (x, y) in enumerate(zip(xs, ys)):
        wx, wy = x.split(), y.split()
        sx, sy = set(wx), set(wy)
        short, first = (sx, wy[:1]) if len(sx) <= len(sy) else (sy, wx[:1])
        other = sy if short is sx else sx
        word = next(iter(short)) if len(short) == 1 else ""
        out[k] = bool(short) and short <= other and (
            len(short) >= 2 or len(word) >= 6 or (len(word) >= 4 and first == [word]))
    return out


def _acronym(cols: "_Columns", a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True where one record's one-word name or website stem is the other's initials
    ("BCP" / `bcp.coop` for "Bute Community Power") or the other's name run together
    (`webarchitects.coop`). Only asked for pairs at the very same place; vectorised as
    integer codes (`_Columns.tag_*`, `_Columns.ident`)."""
    out = np.zeros(len(a), dtype=bool)
    for p, q in ((a, b), (b, a)):
        reps = cols.tag_count[p]
        total = int(reps.sum())
        if not total:
            continue
        pair = np.repeat(np.arange(len(p)), reps)
        k = np.arange(total) - np.repeat(np.cumsum(reps) - reps, reps)
        wanted = q[pair] * cols.vocabulary + cols.tag_code[cols.tag_start[p][pair] + k]
        at = np.minimum(np.searchsorted(cols.ident, wanted), len(cols.ident) - 1)
        np.logical_or.at(out, pair, cols.ident[at] == wanted if len(cols.ident) else np.zeros(total, dtype=bool))
    return out


def name_similarity(a: list[str], b: list[str]) -> float:
    """Similarity 0..100 of two records' name variants (best pair), as the matcher scores it."""
    pairs = [(x, y) for x in a for y in b]
    if not pairs:
        return 0.0
    return float(_similarity([p[0] for p in pairs], [p[1] for p in pairs]).max())


@dataclass(frozen=True)
class _Columns:
    """What the scorers compare, as numpy arrays indexed by record position: strings as
    integer codes (-1 unknown), and every record's name variants as a slice
    (`name_start`, `name_count`) of `names` / `flat` (the names without spaces).

    Built once per run: gathering these per pair from the keys frame (Arrow strings,
    list cells exploded per chunk) cost more than the string scorers themselves.
    """

    country: np.ndarray
    postcode: np.ndarray
    locality: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    name_start: np.ndarray
    name_count: np.ndarray
    names: np.ndarray
    flat: np.ndarray
    # For `_acronym`: each record's "tags" (one-word names, website stems) as a slice of
    # `tag_code`, and the sorted codes `record * vocabulary + token` of what a tag may
    # spell (the record's initials, its name run together).
    tag_start: np.ndarray
    tag_count: np.ndarray
    tag_code: np.ndarray
    ident: np.ndarray
    vocabulary: int

    @classmethod
    def of(cls, keys: pd.DataFrame) -> "_Columns":
        counts = np.fromiter((len(n) for n in keys["names"]), dtype="int64", count=len(keys))
        names = np.array([x for n in keys["names"] for x in n], dtype=object)
        # Three letters at least: two-letter initials ("gg", "uk") name too many bodies.
        tags = [[x for x in [*(x for x in n if " " not in x), *(domain_stem(d) for d in ds)] if 3 <= len(x) <= 12]
                for n, ds in zip(keys["names"], keys["domains"])]
        idents = [[x for x in (initials(n[0]), n[0].replace(" ", "")) if len(x) >= 3] if len(n) else []
                  for n in keys["names"]]
        tag_count = np.fromiter((len(t) for t in tags), dtype="int64", count=len(tags))
        codes, vocab = pd.factorize(pd.Series([x for t in tags for x in t] + [x for i in idents for x in i], dtype=object))
        n_tags = int(tag_count.sum())
        owner = np.repeat(np.arange(len(idents), dtype="int64"), [len(i) for i in idents])
        return cls(
            tag_start=np.cumsum(tag_count) - tag_count, tag_count=tag_count, tag_code=codes[:n_tags].astype("int64"),
            ident=np.unique(owner * max(len(vocab), 1) + codes[n_tags:]), vocabulary=max(len(vocab), 1),
            country=pd.factorize(keys["country"])[0], postcode=pd.factorize(keys["postcode"])[0],
            locality=pd.factorize(keys["locality"])[0],
            lat=keys["lat"].to_numpy(dtype=float), lon=keys["lon"].to_numpy(dtype=float),
            name_start=np.cumsum(counts) - counts, name_count=counts, names=names,
            flat=np.array([x.replace(" ", "") for x in names], dtype=object),
        )


def _name_sims(cols: _Columns, a: np.ndarray, b: np.ndarray, want_subset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised `name_similarity` for every pair (a[k], b[k]): the best over all pairs
    of their name variants; and, for the pairs flagged in `want_subset`, whether some
    variant of one name is a word-subset of the other's (a Python loop, so only asked
    where the score can use it)."""
    n = len(a)
    best, sub = np.zeros(n), np.zeros(n, dtype=bool)
    ca, cb = cols.name_count[a], cols.name_count[b]
    reps = ca * cb
    total = int(reps.sum())
    if not total:
        return best, sub
    pair = np.repeat(np.arange(n), reps)                       # pair of each name combination
    k = np.arange(total) - np.repeat(np.cumsum(reps) - reps, reps)
    x = cols.name_start[a][pair] + k // cb[pair]
    y = cols.name_start[b][pair] + k % cb[pair]
    sims = _similarity(cols.names[x].tolist(), cols.names[y].tolist(), cols.flat[x].tolist(), cols.flat[y].tolist())
    has = reps > 0
    best[has] = np.maximum.reduceat(sims, (np.cumsum(reps) - reps)[has])
    ask = want_subset[pair]
    if ask.any():
        np.logical_or.at(sub, pair[ask], _subset(cols.names[x[ask]].tolist(), cols.names[y[ask]].tolist()))
    return best, sub


def _place(cols: _Columns, a: np.ndarray, b: np.ndarray, t: Thresholds) -> pd.DataFrame:
    """Country and place agreement of each pair: vectorised and cheap, so it comes first
    and pairs that cannot score never reach the string scorers."""
    ca, cb = cols.country[a], cols.country[b]
    known = (ca >= 0) & (cb >= 0)
    same_country = known & (ca == cb)
    same_pc = (cols.postcode[a] >= 0) & (cols.postcode[a] == cols.postcode[b]) & same_country
    same_loc = (cols.locality[a] >= 0) & (cols.locality[a] == cols.locality[b]) & same_country
    km = _haversine_km(cols.lat[a], cols.lon[a], cols.lat[b], cols.lon[b])
    place = np.where(same_pc | (km <= 0.5), 1.0, np.where(km <= t.max_km, 0.95, np.where(same_loc, 0.9, 0.0)))
    return pd.DataFrame({"a": a, "b": b, "same_country": same_country, "country_clash": known & (ca != cb),
                         "place": place, "km": km})


def _features(cols: _Columns, pairs: pd.DataFrame, t: Thresholds, evidence: str) -> pd.DataFrame:
    """Place agreement and name similarity of each pair that can still score.

    For name+place evidence `_score` gives 0 outside one country or without place
    agreement, and uses the word-subset rule only at the very same place; those pairs
    are dropped (most candidates of the name-token blocks) and the subset test is only
    run where it counts. The scores of the pairs kept are unchanged.
    """
    out = _place(cols, pairs["a"].to_numpy(), pairs["b"].to_numpy(), t)
    if evidence == "name+place":
        out = out[out["same_country"].to_numpy() & (out["place"].to_numpy() > 0)].reset_index(drop=True)
        want_subset = out["place"].to_numpy() >= 1.0
    else:
        want_subset = np.zeros(len(out), dtype=bool)
    out["name_sim"], out["subset"] = _name_sims(cols, out["a"].to_numpy(), out["b"].to_numpy(), want_subset)
    if want_subset.any():
        at = np.flatnonzero(want_subset)
        out.loc[at, "subset"] |= _acronym(cols, out["a"].to_numpy()[at], out["b"].to_numpy()[at])
    return out


def _score(feat: pd.DataFrame, evidence: str, t: Thresholds) -> np.ndarray:
    name = feat["name_sim"].to_numpy() / 100
    place = feat["place"].to_numpy()
    if evidence == "registry-id":
        return np.ones(len(feat))
    if evidence == "domain":
        s = 0.8 + 0.2 * np.maximum(name, place)
        return np.where(feat["country_clash"].to_numpy(), s * 0.9, s)
    if evidence == "name":  # same country by construction; far-apart coordinates veto
        return np.where(feat["km"].to_numpy() > t.max_name_km, 0.0, t.same_name)
    # name+place: same country and some place agreement required. At the very same
    # place (postcode / 500 m), a name that is a word-subset of the other ("Dorstone
    # Village Shop" / "… Shop Association") is strong evidence: at least 0.95.
    name = np.where(feat["subset"].to_numpy() & (place >= 1.0), np.maximum(name, 0.95), name)
    return np.where(feat["same_country"].to_numpy() & (place > 0), name * place, 0.0)


# --------------------------------------------------------------------------- main entry


def source_keys(name: str, frame: pd.DataFrame, base: str) -> pd.DataFrame:
    """The matcher's keys (`normalise.match_keys`) of one source's canonical rows."""
    missing = [c for c in MATCH_COLUMNS if c not in frame.columns]
    if missing:
        raise LinkFrameError(f"frame {name!r} lacks canonical columns {missing}")
    return match_keys(frame, base)


def combine_keys(parts: list[pd.DataFrame], base: str = DEFAULT_DATA_BASE) -> pd.DataFrame:
    """The sources' keys as one frame, each record once (its first row), with its
    position `r`: the frame every blocking and scoring step indexes."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return match_keys(pd.DataFrame({c: [] for c in MATCH_COLUMNS}), base).assign(r=[])
    keys = pd.concat(parts, ignore_index=True).drop_duplicates(subset=["iri"]).reset_index(drop=True)
    keys["r"] = np.arange(len(keys))
    return keys


def _keys(frames: Mapping[str, pd.DataFrame], base: str) -> pd.DataFrame:
    return combine_keys([source_keys(name, frame, base) for name, frame in frames.items() if len(frame)], base)


def _evidence_pairs(keys: pd.DataFrame, t: Thresholds) -> dict[str, pd.DataFrame]:
    """Cross-source candidate pairs (record positions) per kind of evidence."""
    ids = _exploded(keys, "ids").rename(columns={"ids": "key"})
    dom = _exploded(keys, "domains").rename(columns={"domains": "key"})
    dom = dom.merge(keys[["r", "source"]], on="r")
    per_source = dom.groupby(["key", "source"])["r"].transform("nunique")
    umbrella = set(dom.loc[per_source > t.domain_max_per_source, "key"])
    dom = dom[~dom["key"].isin(umbrella)][["r", "key"]]
    src = pd.factorize(keys["source"])[0]
    return {
        "registry-id": _pair_frame([_self_pairs(ids, 50, src)], len(src)),
        "domain": _pair_frame([_self_pairs(dom, 50, src)], len(src)),
        "name+place": _name_candidates(keys, t, src),
        "name": _key_candidates(keys, t, src),
    }


#: Candidate pairs scored at a time, so the arrays of one chunk's name combinations and
#: scores stay small whatever the number of candidates (millions at 10^5 records).
PAIR_CHUNK = 250_000


def _score_pairs(cols: "_Columns", evidence: str, pairs: pd.DataFrame, t: Thresholds) -> list[pd.DataFrame]:
    """The pairs (positions a, b into `cols`) of one kind of evidence whose score is at
    least `t.uncertain` (columns a, b, evidence, score). A pair's score depends on its two
    records' keys only, which is what lets `find_links_since` keep earlier scores."""
    scored = []
    for start in range(0, len(pairs), PAIR_CHUNK):
        feat = _features(cols, pairs.iloc[start:start + PAIR_CHUNK], t, evidence)
        if evidence == "name+place":
            feat = feat[(feat["name_sim"] >= t.name_min) | feat["subset"]]
        feat = feat.assign(score=_score(feat, evidence, t), evidence=evidence)
        scored.append(feat[feat["score"] >= t.uncertain][["a", "b", "evidence", "score"]])
    return scored


@dataclass
class Matched:
    """What a match found, and what the next one can start from.

    `links`: the links (`find_links`'s frame); `keys`: the keys it matched on (with `r`);
    `scored`: every candidate pair that scored at least `uncertain`, per kind of evidence
    (columns iri_a, iri_b, evidence, score; a pair found by several kinds once per kind),
    before the strongest is kept and before curated decisions apply; `candidates`: per
    kind of evidence, every candidate pair as `a * len(keys) + b` (positions in `keys`)."""

    links: pd.DataFrame
    keys: pd.DataFrame
    scored: pd.DataFrame
    candidates: dict[str, np.ndarray]


def find_links(
    frames: Mapping[str, pd.DataFrame],
    decisions: Decisions = NO_DECISIONS,
    thresholds: Thresholds = DEFAULT,
    base: str = DEFAULT_DATA_BASE,
) -> pd.DataFrame:
    """Candidate links between records of different sources (columns `LINK_COLUMNS`).

    `frames` maps source name -> canonical frame (as `state.read_frame` returns); each is
    read once, to build its keys, so a mapping that reads frames when asked for
    (`stage.match_frames`) is never held whole. Pairs
    are ordered `iri_a < iri_b`; one row per pair carrying its strongest evidence; rows
    sorted by evidence strength, then score (descending). `decision` is "same" when
    score >= `thresholds.same`, "uncertain" when >= `thresholds.uncertain`.
    """
    return match_keys_frame(_keys(frames, base), decisions, thresholds, base).links


def match_keys_frame(keys: pd.DataFrame, decisions: Decisions = NO_DECISIONS, thresholds: Thresholds = DEFAULT,
                     base: str = DEFAULT_DATA_BASE) -> Matched:
    """`find_links` of records given by their keys (`combine_keys`), scoring every candidate."""
    if keys.empty:  # sources whose every record was quarantined: nothing to block on
        return Matched(_apply_decisions(empty_links(), decisions, base), keys, _scored_iris(keys, []), {})
    cols = _Columns.of(keys)
    scored = []
    candidates = _evidence_pairs(keys, thresholds)
    for evidence, pairs in candidates.items():
        if not pairs.empty:
            scored += _score_pairs(cols, evidence, pairs, thresholds)
    links = _to_links(keys, scored, thresholds)
    return Matched(_apply_decisions(links, decisions, base), keys, _scored_iris(keys, scored),
                   _candidate_codes(candidates, len(keys)))


def _candidate_codes(candidates: dict[str, pd.DataFrame], n: int) -> dict[str, np.ndarray]:
    return {e: _codes(p["a"].to_numpy(dtype="int64"), p["b"].to_numpy(dtype="int64"), n) for e, p in candidates.items()}


def find_links_since(
    before: Matched,
    keys: pd.DataFrame,
    changed: set[str],
    decisions: Decisions = NO_DECISIONS,
    thresholds: Thresholds = DEFAULT,
    base: str = DEFAULT_DATA_BASE,
) -> Matched:
    """`match_keys_frame(keys)` again, scoring only what a change can alter.

    `before` is an earlier match (its keys, scored pairs and candidates, same code and thresholds);
    `changed` the IRIs whose keys differ from `before`'s (added and modified records:
    a withdrawn one is simply absent from `keys`). A pair's score depends only on its two
    records' keys, so the score of a pair of unchanged records is the one `before` found.
    Whether a pair is a candidate at all does not: a block that grows past `block_cap`,
    a domain that becomes an umbrella, a name that stops being unique in a source, change
    the candidacy of pairs of unchanged records. So the candidates are made by the
    blocking again and compared with `before`'s, and scored are only the candidate
    pairs that involve a changed record or were not candidates before; candidates of
    unchanged records that were keep their earlier score (or their absence, when it was
    below `uncertain`). The result is the from-scratch match's (tested)."""
    if keys.empty or before.keys.empty:
        return match_keys_frame(keys, decisions, thresholds, base)
    n = len(keys)
    at = pd.Index(keys["iri"])
    fresh = np.zeros(n, dtype=bool)
    fresh[at.get_indexer(list(changed & set(at)))] = True
    then = at.get_indexer(before.keys["iri"])            # earlier position -> position now (-1: withdrawn)
    n_before = len(before.keys)
    old = before.scored
    oa, ob = at.get_indexer(old["iri_a"]), at.get_indexer(old["iri_b"])
    keep_old = (oa >= 0) & (ob >= 0)
    oa, ob = oa[keep_old], ob[keep_old]
    old_codes = _codes(np.minimum(oa, ob), np.maximum(oa, ob), n)
    old_evidence = old["evidence"].to_numpy()[keep_old]
    old_score = old["score"].to_numpy(dtype=float)[keep_old]
    to_score: dict[str, pd.DataFrame] = {}
    kept: list[pd.DataFrame] = []
    candidates = _evidence_pairs(keys, thresholds)
    for evidence, pairs in candidates.items():
        a, b = pairs["a"].to_numpy(dtype="int64"), pairs["b"].to_numpy(dtype="int64")
        codes = _codes(a, b, n)
        touched = fresh[a] | fresh[b]
        was = before.candidates.get(evidence, np.zeros(0, dtype="int64"))
        pa, pb = then[was // n_before], then[was % n_before]
        alive = (pa >= 0) & (pb >= 0)
        were = _sorted_unique(_codes(np.minimum(pa[alive], pb[alive]), np.maximum(pa[alive], pb[alive]), n))
        was_candidate = _member(codes, were)
        rescore = touched | ~was_candidate
        to_score[evidence] = pairs[rescore]
        same = codes[~rescore]
        mine = (old_evidence == evidence) & _member(old_codes, np.sort(same))
        kept.append(pd.DataFrame({"a": old_codes[mine] // n, "b": old_codes[mine] % n, "evidence": evidence,
                                  "score": old_score[mine]}))
    involved = _sorted_unique(np.concatenate([np.r_[p["a"].to_numpy(dtype="int64"), p["b"].to_numpy(dtype="int64")]
                                         for p in to_score.values()] or [np.zeros(0, dtype="int64")]))
    scored = [k for k in kept if len(k)]
    if len(involved):
        cols = _Columns.of(keys.iloc[involved].reset_index(drop=True))
        for evidence, pairs in to_score.items():
            if pairs.empty:
                continue
            local = pd.DataFrame({"a": np.searchsorted(involved, pairs["a"].to_numpy(dtype="int64")),
                                  "b": np.searchsorted(involved, pairs["b"].to_numpy(dtype="int64"))})
            for part in _score_pairs(cols, evidence, local, thresholds):
                scored.append(part.assign(a=involved[part["a"].to_numpy(dtype="int64")],
                                          b=involved[part["b"].to_numpy(dtype="int64")]))
    links = _to_links(keys, scored, thresholds)
    return Matched(_apply_decisions(links, decisions, base), keys, _scored_iris(keys, scored),
                   _candidate_codes(candidates, n))


def _scored_iris(keys: pd.DataFrame, scored: list[pd.DataFrame]) -> pd.DataFrame:
    """Scored pairs by IRI (positions mean nothing to the next run)."""
    if not scored:
        return pd.DataFrame({"iri_a": pd.Series(dtype="object"), "iri_b": pd.Series(dtype="object"),
                             "evidence": pd.Series(dtype="object"), "score": pd.Series(dtype="float64")})
    s = pd.concat(scored, ignore_index=True)
    iri = keys["iri"].to_numpy()
    return pd.DataFrame({"iri_a": iri[s["a"].to_numpy(dtype="int64")], "iri_b": iri[s["b"].to_numpy(dtype="int64")],
                         "evidence": s["evidence"].to_numpy(), "score": s["score"].to_numpy(dtype=float)})


def _to_links(keys: pd.DataFrame, scored: list[pd.DataFrame], t: Thresholds) -> pd.DataFrame:
    if not scored:
        return empty_links()
    s = pd.concat(scored, ignore_index=True)
    s["order"] = s["evidence"].map(EVIDENCE_ORDER)
    s = s.sort_values(["a", "b", "score", "order"], ascending=[True, True, False, True])
    s = s.drop_duplicates(subset=["a", "b"], keep="first")
    iri, source, rid = keys["iri"].to_numpy(), keys["source"].to_numpy(), keys["record_id"].to_numpy()
    a, b = s["a"].to_numpy(), s["b"].to_numpy()
    swap = iri[a] > iri[b]
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    score = np.round(s["score"].to_numpy(dtype=float), 4)
    return pd.DataFrame(
        {
            "iri_a": iri[a], "iri_b": iri[b], "source_a": source[a], "source_b": source[b],
            "record_a": rid[a], "record_b": rid[b], "evidence": s["evidence"].to_numpy(),
            "score": score, "decision": np.where(score >= t.same, "same", "uncertain"),
        }
    )


def _sort(links: pd.DataFrame) -> pd.DataFrame:
    order = links["evidence"].map(EVIDENCE_ORDER).fillna(99)
    return (
        links.assign(_o=order, _s=-links["score"].astype(float))
        .sort_values(["_o", "_s", "iri_a", "iri_b"], kind="stable")
        .drop(columns=["_o", "_s"])
        .reset_index(drop=True)
    )


def _apply_decisions(links: pd.DataFrame, decisions: Decisions, base: str) -> pd.DataFrame:
    """Curated decisions win: drop vetoed pairs, add curated ones, enforce vetoes on clusters."""
    if decisions.items:
        pair = list(zip(links["iri_a"], links["iri_b"]))
        curated = {d.pair for d in decisions.items}
        links = links[[p not in curated for p in pair]]
        rows = []
        for d in decisions.same:
            a, b = d.pair
            pa, pb = parse_enterprise_iri(a, base) or ("", a), parse_enterprise_iri(b, base) or ("", b)
            rows.append((a, b, pa[0], pb[0], pa[1], pb[1], "curated", 1.0, "same"))
        if rows:
            links = pd.concat([links, pd.DataFrame(rows, columns=list(LINK_COLUMNS))], ignore_index=True)
    links = _sort(links)
    if decisions.different:
        links = enforce_vetoes(links, decisions)
    return links


def enforce_vetoes(links: pd.DataFrame, decisions: Decisions) -> pd.DataFrame:
    """Downgrade to "uncertain" every "same" link that would cluster a vetoed pair.

    Links are taken strongest first (the frame's order), so a weak chain loses to the
    steward and to strong evidence. Works for any link frame (matcher + history).
    """
    forbidden: dict[str, set[str]] = {}
    for d in decisions.different:
        forbidden.setdefault(d.a, set()).add(d.b)
        forbidden.setdefault(d.b, set()).add(d.a)
    uf = _UnionFind()
    members: dict[str, set[str]] = {}
    banned: dict[str, set[str]] = {}
    decision = links["decision"].to_numpy().copy()
    for k, (a, b, dec) in enumerate(zip(links["iri_a"], links["iri_b"], links["decision"])):
        if dec != "same":
            continue
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        ma, mb = members.get(ra, {a}), members.get(rb, {b})
        ba = banned.get(ra, forbidden.get(a, set()))
        bb = banned.get(rb, forbidden.get(b, set()))
        if ba & mb or bb & ma:
            decision[k] = "uncertain"
            continue
        root = uf.union(ra, rb)
        members[root] = ma | mb
        banned[root] = ba | bb
    out = links.copy()
    out["decision"] = decision
    return out


class _UnionFind:
    """Union-find whose root is always the smallest IRI, so cluster ids are stable."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = parent.setdefault(x, x)
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str) -> str:
        ra, rb = self.find(a), self.find(b)
        root, child = (ra, rb) if ra <= rb else (rb, ra)
        self.parent[child] = root
        return root


def clusters(links: pd.DataFrame) -> dict[str, str]:
    """Transitive closure of the "same" links: record IRI -> cluster id.

    The cluster id is the smallest IRI of the cluster, so it does not depend on the
    order of the links and stays put as long as that record is in the cluster. Records
    with no "same" link are absent (they are their own cluster).
    """
    uf = _UnionFind()
    same = links[links["decision"] == "same"] if len(links) else links
    for a, b in zip(same["iri_a"], same["iri_b"]):
        uf.union(a, b)
    return {x: uf.find(x) for x in uf.parent}
