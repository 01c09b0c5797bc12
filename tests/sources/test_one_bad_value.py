"""One bad value never costs a record, in every source.

For each source, a valid record of its bundled sample is taken in the source's real
format (a CSV row, a JSON object, a GeoJSON feature, a JSON-LD node, a Murmurations
profile), ONE of its fields is corrupted, the bytes are parsed and canonicalised as
ingest does, and every record published before is still published. Identity fields
(the record id, the name, and what the format needs to see a record at all: JSON-LD
`@id` / `@type`) are left alone: they are the record.

Two sweeps: a deterministic one giving every field a value invalid for its type (the
value must then be dropped with a reason naming the record), and a hypothesis one
giving a random field arbitrary junk (text, numbers out of range, lists, objects, null).
"""
from __future__ import annotations

import copy
import csv
import io
import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from se_pipeline.canonical.normalise import conform
from se_pipeline.sources.base import SourceContext
from se_pipeline.sources.registry import SourceSpec, all_sources

SOURCES = all_sources()
CSV_SOURCES = ("coops_uk", "coops_uk_outlets", "dotcoop", "fairtrade", "ica_youth", "ncba", "standard_csv", "usfwc")
JSON_RECORDS: dict[str, Callable[[Any], list[dict[str, Any]]]] = {
    "wfto": lambda d: d["members"] if isinstance(d, dict) else d,
    "ica": lambda d: list(d["values"].values()) if isinstance(d["values"], dict) else d["values"],
    "usda_csa": lambda d: d["data"], "usda_farmers_markets": lambda d: d["data"],
    "usda_food_hubs": lambda d: d["data"], "usda_onfarm_markets": lambda d: d["data"],
    "transformap": lambda d: [f.get("properties") if isinstance(f, dict) else None for f in d["features"]],
}
JSONLD_SAMPLES = {"ofn": "ofn_enterprises_sample.jsonld", "essglobal_rdf": "partner_essglobal.jsonld"}
#: Canonical field -> a value no reader may accept for it.
INVALID = {"country": "Qwzx Republic", "lat": "999", "lon": "-999", "founded": "31/02/1960",
           "dissolved": "31/02/1960", "status_date": "31/02/1960", "counted_on": "31/02/1960",
           "updated": "31/02/1960", "members": "-3", "workers": "twelve", "websites": "not a url",
           "email": "not-an-email"}
DROPPED_FIELD = {"lat": "lat/lon", "lon": "lat/lon"}
JUNK = ["", "n/a", "NaN", "inf", "-1e309", "1e400", "9" * 40, "<b>&amp;</b>", "\x07\x1b", "31/02/1960",
        "http://", "mailto:", "@", ",,;;", '"', "\r\n\r\n", "Kostromskaya oblasty", "🙂" * 3, "x" * 5000]


def test_every_source_is_covered() -> None:
    assert set(SOURCES) == set(CSV_SOURCES) | set(JSON_RECORDS) | set(JSONLD_SAMPLES) | {"murmurations"}


# --------------------------------------------------------------------------- formats


@dataclass
class Case:
    """A sample in its format, a way to corrupt one field of one record, and the record's name."""

    spec: SourceSpec
    fields: list[str]
    corrupt: Callable[[str, Any], bytes]
    name: str
    url: str
    mapped: dict[str, str]  # raw field -> canonical field (where the mapping says so)
    baseline: Counter[str]  # names published from the sample as it is


def _mapped(spec: SourceSpec) -> dict[str, str]:
    out: dict[str, str] = {}
    for fld, cols in (spec.mapping.get("columns") or {}).items():
        for c in cols if isinstance(cols, list) else [cols]:
            out.setdefault(str(c), fld)
    return out


def _identity(spec: SourceSpec) -> set[str]:
    cols = spec.mapping.get("columns") or {}
    keep = {str(c) for f in ("record_id", "name") for c in (cols.get(f) if isinstance(cols.get(f), list) else [cols.get(f)]) if c}
    for key in ("group_by", "organisation_column"):
        if spec.mapping.get(key):
            keep.add(spec.mapping[key])
    return keep | {"Identifier", "Name", "FLO ID", "_id", "id", "contact_id", "listing_id", "name", "profile_url"}


def _published(spec: SourceSpec, raw: bytes, url: str) -> tuple[Counter[str], list[Any]]:
    res = spec.parse(raw, SourceContext(spec.name, spec.mapping, url=url))
    df, _, dropped, _ = conform(res.frame, spec.name, date_order=spec.mapping.get("date_order", "dmy"),
                                strip_html=bool(spec.mapping.get("html")))
    return Counter(df["name"]), [(n, d) for d in dropped for n in df.loc[df["record_id"] == d.record_id, "name"]]


def _unique_published_name(spec: SourceSpec, raw: bytes, url: str, candidates: list[str]) -> str:
    names, _ = _published(spec, raw, url)
    return next(n for n in candidates if names.get(n) == 1 and candidates.count(n) == 1)


def _csv_case(spec: SourceSpec) -> Case:
    text = spec.sample.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    name_col = header.index(spec.mapping["columns"]["name"])
    name = _unique_published_name(spec, spec.sample.read_bytes(), spec.sample_url, [r[name_col].strip() for r in body])
    target = next(i for i, r in enumerate(body) if r[name_col].strip() == name)
    skip = _identity(spec)
    fields = [h for h in header if h.strip() and h not in skip]

    def corrupt(field: str, value: Any) -> bytes:
        out = copy.deepcopy(body)
        out[target][header.index(field)] = value if isinstance(value, str) else json.dumps(value)
        buf = io.StringIO(newline="")
        csv.writer(buf, lineterminator="\r\n").writerows([header] + out)
        return buf.getvalue().encode("utf-8")

    return Case(spec, fields, corrupt, name, spec.sample_url, _mapped(spec), _published(spec, text.encode(), spec.sample_url)[0])


def _json_case(spec: SourceSpec) -> Case:
    doc = json.loads(spec.sample.read_bytes())
    recs = JSON_RECORDS[spec.name](doc)
    names = [str(r.get("name") or r.get("listing_name") or r.get("organisation_name") or r.get("display_name") or "")
             if isinstance(r, dict) else "" for r in recs]
    name = _unique_published_name(spec, spec.sample.read_bytes(), spec.sample_url, names)
    target = names.index(name)
    skip = _identity(spec) | {"organisation_name", "listing_name", "display_name"}
    fields = [k for k in recs[target] if k not in skip]
    if spec.name == "transformap":
        fields.append("geometry")

    def corrupt(field: str, value: Any) -> bytes:
        d = copy.deepcopy(doc)
        if field == "geometry":
            d["features"][target]["geometry"] = {"type": "Point", "coordinates": value}
        else:
            JSON_RECORDS[spec.name](d)[target][field] = value
        return json.dumps(d, ensure_ascii=False).encode("utf-8")

    mapped = _mapped(spec) | ({"geometry": "lat"} if spec.name == "transformap" else {})
    return Case(spec, fields, corrupt, name, spec.sample_url, mapped, _published(spec, spec.sample.read_bytes(), spec.sample_url)[0])


def _jsonld_case(spec: SourceSpec) -> Case:
    path = spec.sample.parent / JSONLD_SAMPLES[spec.name]
    doc = json.loads(path.read_bytes())
    nodes = doc["@graph"]
    names = {p for p in (spec.mapping.get("properties") or {}).get("name", [])} | {"name"}
    # the first node that carries a name: an enterprise; its other nodes (address...) too
    target = next(i for i, n in enumerate(nodes) if names & set(n))
    name = str(next(nodes[target][k] for k in nodes[target] if k in names))
    fields = [f"{i}|{k}" for i, n in enumerate(nodes) for k in n
              if k not in ("@id", "@type", "@context") and k not in names]

    def corrupt(field: str, value: Any) -> bytes:
        d = copy.deepcopy(doc)
        i, key = field.split("|", 1)
        d["@graph"][int(i)][key] = value
        return json.dumps(d, ensure_ascii=False).encode("utf-8")

    return Case(spec, fields, corrupt, name, path.as_uri(), {}, _published(spec, path.read_bytes(), path.as_uri())[0])


def _murmurations_case(spec: SourceSpec, folder: Path) -> Case:
    shutil.copytree(spec.sample.parent, folder, dirs_exist_ok=True)
    index = folder / spec.sample.name
    raw_index = index.read_bytes()
    nodes = json.loads(raw_index)["data"]
    profiles = {n["profile_url"]: folder / n["profile_url"] for n in nodes
                if isinstance(n, dict) and isinstance(n.get("profile_url"), str) and n.get("status") != "deleted"
                and (folder / n["profile_url"]).is_file()}
    docs: dict[str, dict[str, Any]] = {}
    for u, p in profiles.items():
        try:
            doc = json.loads(p.read_bytes())
        except ValueError:  # the sample's broken profile: quarantined, not a record to corrupt
            continue
        if isinstance(doc, dict):
            docs[u] = doc
    names = [str(d.get("name", "")) for d in docs.values()]
    name = _unique_published_name(spec, raw_index, index.as_uri(), names)
    url = next(u for u, d in docs.items() if d.get("name") == name)
    fields = [k for k in docs[url] if k not in ("name", "profile_url")]

    def corrupt(field: str, value: Any) -> bytes:
        d = copy.deepcopy(docs[url])
        d[field] = value
        profiles[url].write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
        return raw_index

    return Case(spec, fields, corrupt, name, index.as_uri(), {}, _published(spec, raw_index, index.as_uri())[0])


@pytest.fixture(scope="module", params=sorted(SOURCES))
def case(request, tmp_path_factory) -> Iterator[Case]:
    spec = SOURCES[request.param]
    if spec.name in CSV_SOURCES:
        yield _csv_case(spec)
    elif spec.name in JSON_RECORDS:
        yield _json_case(spec)
    elif spec.name in JSONLD_SAMPLES:
        yield _jsonld_case(spec)
    else:
        yield _murmurations_case(spec, tmp_path_factory.mktemp("murmurations"))


def _check(case: Case, field: str, value: Any) -> list[Any]:
    """Parse the corrupted bytes: every record published before is published; returns
    the dropped values of the corrupted record."""
    names, dropped = _published(case.spec, case.corrupt(field, value), case.url)
    assert names[case.name] == 1, f"{case.spec.name}: record {case.name!r} lost when {field!r} = {value!r}"
    lost = case.baseline - names
    assert not lost, f"{case.spec.name}: {field!r} = {value!r} cost records {lost}"
    return [d for n, d in dropped if n == case.name]


# --------------------------------------------------------------------------- the sweeps


def test_every_field_takes_an_invalid_value(case: Case) -> None:
    """Each field in turn gets a value invalid for what it holds (or generic junk): the
    record stays; a typed field's bad value is dropped with a reason naming the record."""
    for field in case.fields:
        canonical = case.mapped.get(field)
        value = INVALID.get(canonical or "", "\x07<b>bad &amp; value</b>")
        dropped = _check(case, field, value)
        if canonical in INVALID:
            expect = DROPPED_FIELD.get(canonical, canonical)
            assert any(d.field == expect and d.reason for d in dropped), (
                f"{case.spec.name}: {field!r} = {value!r} neither kept nor dropped with a reason: {dropped}")


JSON_JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(JUNK),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40),
    st.lists(st.sampled_from(JUNK), max_size=3), st.dictionaries(st.sampled_from(["@value", "a", "lat"]),
                                                                  st.sampled_from(JUNK), max_size=2),
)
#: JSON-LD values: junk literals, lists of them, value objects (a key JSON-LD does not
#: allow in a value object is a syntax error of the document, not a bad value).
JSONLD_JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from(JUNK),
    st.lists(st.sampled_from(JUNK), max_size=3), st.builds(lambda v: {"@value": v}, st.sampled_from(JUNK)),
)
CSV_JUNK = st.one_of(st.sampled_from(JUNK),
                     st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                             max_size=40))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_one_random_field_of_junk_never_costs_a_record(case: Case, data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(case.fields), label="field")
    junk = CSV_JUNK if case.spec.name in CSV_SOURCES else JSONLD_JUNK if case.spec.name in JSONLD_SAMPLES else JSON_JUNK
    value = data.draw(junk, label="value")
    _check(case, field, value)
