"""Partner exports: standard CSV v4 (+ round trip through the standard_csv source), Mykomap
vocabs.json, Murmurations profiles (validated by JSON Schema), GeoJSON; hostile values."""
from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from se_pipeline.canonical.normalise import conform
from se_pipeline.canonical.schema import ensure_columns
from se_pipeline.files import read_digests, sha256_file
from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.namespaces import ESS_ORG_STRUCTURE, ESS_QUALIFIERS, SEPT
from se_pipeline.release.exports import STANDARD_COLUMNS, write_partner_exports
from se_pipeline.release.exports.standard_csv import iri_of_identifier
from se_pipeline.state import GoodFrames
from se_pipeline.sources.base import SourceContext
from se_pipeline.sources.registry import get_source
from se_pipeline.state import write_frame

BASE = "https://w3id.org/se-pipeline/id/"
HERE = Path(__file__).resolve().parent
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SCHEMA = json.loads((HERE / "murmurations_organizations_schema-v1.0.0.subset.json").read_text(encoding="utf-8"))
SAMPLE_SOURCES = ("coops_uk", "essglobal_rdf", "murmurations", "ofn", "transformap")
CONCEPTS = ("organisational_structure", "primary_activity", "activities", "qualifiers", "membership_type")
LONG_NAME = "Ω" * 150 + " very long name " + "x" * 300


def sample_frame(name: str) -> pd.DataFrame:
    spec = get_source(name)
    res = spec.parse(spec.sample.read_bytes(), SourceContext(spec.name, spec.mapping, url=spec.sample_url))
    return conform(res.frame, name, date_order=spec.mapping.get("date_order", "dmy"),
                   strip_html=bool(spec.mapping.get("html")))[0]


def hostile_frame() -> pd.DataFrame:
    rows = [
        {"record_id": 'q"uote,comma', "name": 'The "Quoted", Co-op', "description": "line 1\nline 2, with \"quotes\"\r\nline 3",
         "street": "1 Main St\nUnit 2", "locality": "Llanfair, Gwynedd", "country": "GB", "lat": 1e-05, "lon": -1e-05,
         "websites": ["https://example.org/a?b=1&c=2", "https://second.example.org"],
         "organisational_structure": [ESS_ORG_STRUCTURE + "OS60", ESS_ORG_STRUCTURE + "OS130"],
         "qualifiers": [ESS_QUALIFIERS + "Organic"], "practices": [SEPT + "practice/WorkerCoop"],
         "status": SEPT + "status/Active", "founded": "1999-12-31", "email": "a@b.example.org",
         "member_of": ["coops_uk:R000001"], "identifiers": ["companies-house:01234567"]},
        {"record_id": "<script>alert(1)</script>", "name": "<script>alert('x')</script></script>", "country": "FR",
         "lat": 45.0, "lon": 4.0, "websites": [], "description": "=HYPERLINK(\"http://evil\")"},
        {"record_id": "id/with#hash and space", "name": "Кооператив «Берёза» 🌳 ½", "country": "UA",
         "lat": -89.99999999, "lon": 179.123456789012, "status": SEPT + "status/Dissolved", "dissolved": "2020-02-29"},
        {"record_id": "abc", "name": "Case one", "country": "XK"},
        {"record_id": "ABC", "name": "Case two", "alternate_names": ["Nick, \"name\""]},
        {"record_id": "..", "name": LONG_NAME, "lat": 0.0, "lon": 0.0},
    ]
    for i, r in enumerate(rows, start=1):
        r.update({"source": "hostile", "line": i})
        r.setdefault("lat", None)
        r.setdefault("lon", None)
    df, quarantined, dropped, _ = conform(ensure_columns(pd.DataFrame(rows, dtype="object")), "hostile")
    assert not quarantined and not dropped
    return df


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    out = {name: sample_frame(name) for name in SAMPLE_SOURCES}
    out["hostile"] = hostile_frame()
    return out


@pytest.fixture(scope="module")
def exported(frames, tmp_path_factory) -> tuple[Path, int]:
    """The exports of `frames` in a folder, how many files were written, and (beside the
    folder, as `profiles.sha256`) the profiles' digests."""
    target = tmp_path_factory.mktemp("exports") / "files"
    return target, write_partner_exports(frames, target, BASE, target.parent / "profiles.sha256")


def all_rows(frames) -> list[dict]:
    return [r for name in sorted(frames) for r in frames[name].to_dict("records")]


def iri_of(r: dict) -> str:
    return enterprise_iri(r["source"], str(r["record_id"]), BASE)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_files_written(exported, frames) -> None:
    """Three documents and one profile per enterprise; the digests name every profile by
    its path in the folder ("/" separated) and are the SHA-256 of its bytes."""
    target, written = exported
    n = sum(len(f) for f in frames.values())
    files = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    profiles = {f for f in files if f.startswith("murmurations/")}
    assert files - profiles == {"standard.csv", "vocabs.json", "enterprises.geojson"}
    assert len(profiles) == n and written == len(files)
    digests = read_digests(target.parent / "profiles.sha256")
    assert set(digests) == profiles
    assert all(digests[f] == sha256_file(target / f) for f in profiles)


# The fields of the SSE initiative standard CSV, version 4, transcribed from Digital
# Commons' se-open-data, lib/se_open_data/csv/schemas.rb (SolidarityEconomyAssociation/se-open-data,
# the repository DigitalCommons/se-open-data was renamed from; the stored version defining
# `version: 4`, "Added territory_id field, redefined country_name as country_id"):
# header, and what each field's `desc` allows.
V4_FIELDS = (
    "Identifier", "Name", "Description", "Organisational Structure", "Primary Activity", "Activities",
    "Street Address", "Locality", "Region", "Postcode", "Country ID", "Territory ID", "Website", "Phone",
    "Email", "Twitter", "Facebook", "Companies House Number", "Qualifiers", "Membership Type", "Latitude",
    "Longitude", "Geo Container", "Geo Container Latitude", "Geo Container Longitude",
)
V4_ONE_TERM = ("Organisational Structure", "Primary Activity", "Membership Type")  # "single term URIs", "zero or one"
V4_TERMS = ("Activities", "Qualifiers")  # "zero or more terms ..., separated by semi-colons"
V4_FLOATS = ("Latitude", "Longitude", "Geo Container Latitude", "Geo Container Longitude")  # "a floating point number"
# Identifier: "valid as a portion of a file-name on the (typically, Unix) host's file system"
# and "a URI segment as defined by RFC3986" (section 3.3: segment = *pchar).
PCHAR = re.compile(r"^(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})+$")


def test_standard_csv_is_v4_to_the_letter(exported, frames) -> None:
    target, _ = exported
    with (target / "standard.csv").open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert tuple(header) == V4_FIELDS == STANDARD_COLUMNS
    rows = read_csv(target / "standard.csv")
    iris = {iri_of(r) for r in all_rows(frames)}
    assert len(rows) == len(iris)
    for r in rows:
        ident = r["Identifier"]
        assert PCHAR.match(ident) and ident not in (".", "..") and len(ident.encode("utf-8")) <= 255, ident
        assert iri_of_identifier(ident, BASE) in iris  # the documented mapping back to our IRI
        assert r["Name"]
        for col in V4_ONE_TERM:
            assert ";" not in r[col] and (not r[col] or r[col].startswith("http")), (ident, col)
        for col in V4_TERMS:
            assert all(t.startswith("http") for t in filter(None, r[col].split(";"))), (ident, col)
        for col in V4_FLOATS:
            assert r[col] == "" or math.isfinite(float(r[col])), (ident, col)
        assert r["Country ID"] == "" or re.fullmatch(r"[A-Z]{2}", r["Country ID"]), ident
        assert r["Website"] == "" or re.match(r"^https?://", r["Website"]), ident
    assert len({r["Identifier"] for r in rows}) == len(rows)


def test_standard_csv_columns_and_rows(exported, frames) -> None:
    target, _ = exported
    rows = read_csv(target / "standard.csv")
    assert len(rows) == sum(len(f) for f in frames.values())
    by = {r["Identifier"]: r for r in rows}
    q = by["hostile--q%22uote%2Ccomma"]
    assert q["Name"] == 'The "Quoted", Co-op' and q["Description"] == 'line 1\nline 2, with "quotes"\nline 3'
    # one organisational structure: the first the source lists
    assert q["Organisational Structure"] == f"{ESS_ORG_STRUCTURE}OS60"
    assert (q["Latitude"], q["Longitude"], q["Companies House Number"]) == ("1e-05", "-1e-05", "01234567")
    assert q["Website"] == "https://example.org/a?b=1&c=2"
    assert by["hostile--%3Cscript%3Ealert%281%29%3C%2Fscript%3E"]["Name"] == "<script>alert('x')</script></script>"
    assert by["hostile--.."]["Name"] == LONG_NAME
    assert by["hostile--abc"]["Name"] == "Case one" and by["hostile--ABC"]["Name"] == "Case two"
    assert iri_of_identifier("hostile--id%2Fwith%23hash%20and%20space", BASE) == iri_of(
        {"source": "hostile", "record_id": "id/with#hash and space"})


def _first(values) -> list:
    return list(values)[:1] if isinstance(values, list) else []


def _concepts(r: dict, field: str):
    v = r[field]
    if isinstance(v, list):
        return list(v)
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def _num(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _str(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def test_round_trip_through_standard_csv_source(exported, frames) -> None:
    """Our standard CSV, imported back by the `standard_csv` source, gives the same enterprises."""
    target, _ = exported
    spec = get_source("standard_csv")
    res = spec.parse((target / "standard.csv").read_bytes(), SourceContext(spec.name, spec.mapping))
    back, quarantined, dropped, _ = conform(res.frame, spec.name, date_order=spec.mapping.get("date_order", "dmy"))
    assert not quarantined and res.notes["unmapped"] == {}
    originals = {iri_of(r): r for r in all_rows(frames)}
    assert len(back) == len(originals)
    # only the hostile "XK" country (Kosovo, not in ISO 3166-1's list) may be dropped on re-import
    assert {(d.record_id, d.field) for d in dropped} <= {("hostile--abc", "country")}
    for r in back.to_dict("records"):
        o = originals[iri_of_identifier(r["record_id"], BASE)]
        key = r["record_id"]
        assert r["name"] == o["name"], key
        assert r["websites"] == _first(o["websites"]), key
        assert (_num(r["lat"]), _num(r["lon"])) == (_num(o["lat"]), _num(o["lon"])), key
        if key != "hostile--abc":
            assert _str(r["country"]) == _str(o["country"]), key
        for field in CONCEPTS:
            expected = _concepts(o, field)
            if field == "organisational_structure" and expected:  # v4: one term, the first
                expected = expected[:1]
            assert _concepts(r, field) == expected, (key, field)
        assert _str(r["description"]) == _str(o["description"]), key
        assert _str(r["street"]) == _str(o["street"]), key
        assert _str(r["postcode"]) == _str(o["postcode"]), key
        assert _str(r["email"]) == _str(o["email"]), key


def _abbrev(prefixes: dict[str, str], iri: str) -> str:
    """Mykomap's VocabServiceImpl.abbrevUri: longest matching prefix."""
    for base in sorted(prefixes, key=len, reverse=True):
        if iri.startswith(base):
            return f"{prefixes[base]}:{iri[len(base):]}"
    return iri


def test_vocabs_json_loads_like_mykomap(exported) -> None:
    target, _ = exported
    vocabs = json.loads((target / "vocabs.json").read_text(encoding="utf-8"))
    assert set(vocabs) == {"prefixes", "meta", "vocabs"} and vocabs["meta"]["languages"] == ["EN", "FR", "ES", "PT"]
    assert {v + ":" for v in vocabs["prefixes"].values()} == set(vocabs["vocabs"])
    for vocab in vocabs["vocabs"].values():
        assert set(vocab) == {"EN", "FR", "ES", "PT"}
        for lang in vocab.values():
            assert lang["title"] and lang["terms"] and all(isinstance(t, str) and t for t in lang["terms"].values())
        assert len({frozenset(lang["terms"]) for lang in vocab.values()}) == 1  # same terms in every language
    # every concept cell of standard.csv resolves to a term in every language (Mykomap getTerm)
    columns = ("Organisational Structure", "Primary Activity", "Activities", "Qualifiers", "Membership Type")
    for r in read_csv(target / "standard.csv"):
        for col in columns:
            for iri in filter(None, r[col].split(";")):
                term = _abbrev(vocabs["prefixes"], iri)
                prefix = term.split(":", 1)[0] + ":"
                for lang in ("EN", "FR", "ES", "PT"):
                    assert vocabs["vocabs"][prefix][lang]["terms"][term], (iri, lang)
    # Mykomap's `VocabIndex` (DigitalCommons/mykomap src/map-app/app/model/vocabs.ts): prefixes maps
    # a scheme IRI to its abbreviation (no colon); vocabs maps "abbrev:" to {language: {title, terms}}.
    assert all(isinstance(k, str) and isinstance(v, str) and ":" not in v for k, v in vocabs["prefixes"].items())
    for vocab in vocabs["vocabs"].values():
        for lang in vocab.values():
            assert isinstance(lang["title"], str) and all(isinstance(k, str) and isinstance(v, str)
                                                          for k, v in lang["terms"].items())
    # whole schemes, so Digital Commons' own data (ICA30, ICA40, OS10, ...) is labelled too
    for term in ("aci:ICA30", "aci:ICA40", "aci:ICA10"):
        assert term in vocabs["vocabs"]["aci:"]["EN"]["terms"], term
    assert "os:OS10" in vocabs["vocabs"]["os:"]["EN"]["terms"] and "bmt:BMT10" in vocabs["vocabs"]["bmt:"]["EN"]["terms"]
    reference = SHARED / "reference" / "essglobal" / "standard"
    if reference.is_dir():  # every concept of the reference schemes (read here, never at run time)
        for scheme, prefix in (("organisational-structure", "os:"), ("activities-ica", "aci:"),
                               ("base-membership-type", "bmt:"), ("qualifiers", "qf:"), ("activities-modified", "am:")):
            codes = set(re.findall(r"^<([^>]+)> a skos:Concept", (reference / f"{scheme}.ttl").read_text(encoding="utf-8"), re.M))
            assert {prefix + c for c in codes} <= set(vocabs["vocabs"][prefix]["EN"]["terms"]), scheme
    pr = vocabs["vocabs"]["pr:"]
    assert pr["FR"]["terms"]["pr:WorkerCoop"] == "Coopérative de travail associé"
    os_ = vocabs["vocabs"]["os:"]  # all four from ontology/essglobal-labels.ttl (no reference needed)
    assert os_["EN"]["terms"]["os:OS60"] == "Worker co-operative"
    assert os_["PT"]["terms"]["os:OS60"] == "Cooperativa de trabalho"


def test_murmurations_profiles_validate(exported, frames) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    target, _ = exported
    validator = jsonschema.Draft202012Validator(SCHEMA)
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    files = sorted((target / "murmurations").glob("*.json"))
    assert len(files) == sum(len(f) for f in frames.values())
    assert len({p.name.lower() for p in files}) == len(files)  # unique on case-insensitive file systems
    by_iri = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "<" not in text and ">" not in text  # escaped: safe to inline in HTML
        profile = json.loads(text)
        errors = sorted(validator.iter_errors(profile), key=str)
        assert not errors, (path.name, [e.message for e in errors[:3]])
        assert {"name": "Linked data", "url": profile["unique_id"]} in profile["urls"]
        by_iri[profile["unique_id"]] = profile
    originals = {iri_of(r): r for r in all_rows(frames)}
    assert set(by_iri) == set(originals)
    q = by_iri[BASE + "hostile/q%22uote%2Ccomma"]
    assert q["name"] == 'The "Quoted", Co-op' and q["primary_url"] == "https://example.org/a?b=1&c=2"
    assert {"name": "Website", "url": "https://second.example.org"} in q["urls"]
    assert q["geolocation"] == {"lat": 1e-05, "lon": -1e-05} and q["country_iso_3166"] == "GB"
    assert q["status"] == "active" and q["starts_at"] == 946598400 and "Worker co-operative" in q["tags"]
    assert q["relationships"] == [{"predicate_url": "https://schema.org/memberOf", "object_url": BASE + "coops_uk/R000001"}]
    assert q["full_address"] == "1 Main St, Unit 2, Llanfair, Gwynedd, GB"
    assert by_iri[BASE + "hostile/.."]["name"] == LONG_NAME[:200]
    assert by_iri[BASE + "hostile/ABC"]["nickname"] == 'Nick, "name"'
    assert "country_iso_3166" not in by_iri[BASE + "hostile/abc"]  # XK is not in the schema's list
    script = by_iri[BASE + "hostile/%3Cscript%3Ealert%281%29%3C%2Fscript%3E"]
    assert script["name"] == "<script>alert('x')</script></script>" and script["primary_url"] == script["unique_id"]
    withdrawn = [p for i, p in by_iri.items() if "closed-shop" in i]
    assert withdrawn and withdrawn[0]["status"] == "cancelled"


def test_geojson(exported, frames) -> None:
    target, _ = exported
    text = (target / "enterprises.geojson").read_text(encoding="utf-8")
    assert "<script>" not in text
    fc = json.loads(text)
    located = [r for r in all_rows(frames) if _num(r["lat"]) is not None and _num(r["lon"]) is not None]
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == len(located)
    by = {f["properties"]["iri"]: f for f in fc["features"]}
    for r in located:
        f = by[iri_of(r)]
        assert f["type"] == "Feature" and f["geometry"] == {"type": "Point", "coordinates": [float(r["lon"]), float(r["lat"])]}
        assert f["properties"]["name"] == r["name"] and f["properties"]["source"] == r["source"]
        assert f["properties"]["practices"] == list(r["practices"])
    q = by[BASE + "hostile/q%22uote%2Ccomma"]["properties"]
    assert q["website"] == "https://example.org/a?b=1&c=2" and q["practice_labels"] == ["Worker co-operative"]
    assert by[BASE + "hostile/%3Cscript%3Ealert%281%29%3C%2Fscript%3E"]["properties"]["name"].startswith("<script>")


def test_from_state_parquet(frames, tmp_path) -> None:
    """Frames as the release reads them (Parquet in state/<source>/good/) export identically."""
    for name, frame in frames.items():
        write_frame(tmp_path / "state" / name / "good" / "canonical.parquet", frame)
    loaded = GoodFrames(tmp_path / "state", [*frames, "never_fetched"])
    assert set(loaded) == set(frames)
    a, b = tmp_path / "a", tmp_path / "b"
    write_partner_exports(frames, a, BASE)
    write_partner_exports(loaded, b, BASE)
    for name in ("standard.csv", "vocabs.json", "enterprises.geojson"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert sorted(p.name for p in (a / "murmurations").iterdir()) == sorted(p.name for p in (b / "murmurations").iterdir())


def test_exports_ride_along_in_a_release(tmp_path) -> None:
    """build_release writes the exports from state/<source>/good, covered by SHA256SUMS."""
    from se_pipeline.gate.release_shacl import start_release_validation
    from se_pipeline.gate.source import gate_source
    from se_pipeline.release.build import build_release
    from se_pipeline.settings import Settings
    from se_pipeline.sources.ingest import ingest

    settings = Settings(output_dir=tmp_path / "out")
    specs = [get_source(n) for n in ("ofn", "murmurations")]
    for spec in specs:
        assert ingest(spec, settings, None).ok
        assert gate_source(spec.name, settings).status == "promoted"
    result = build_release(settings, specs, validate=start_release_validation)
    sums = (result.path / "SHA256SUMS").read_text(encoding="utf-8")
    for name in ("standard.csv", "vocabs.json", "enterprises.geojson"):
        assert (result.path / name).is_file() and f"  {name}\n" in sums
    profiles = list((result.path / "murmurations").glob("*.json"))
    with (result.path / "standard.csv").open(encoding="utf-8", newline="") as fh:
        enterprises = sum(1 for _ in csv.DictReader(fh))
    assert enterprises > 50  # both samples made it into the release
    assert len(profiles) == enterprises  # one Murmurations profile per published enterprise
    assert all(f"  murmurations/{p.name}\n" in sums for p in profiles)


def test_real_standard_csv_survives_export_and_reimport(tmp_path) -> None:
    """The real Digital Commons v4 file: import -> export -> import gives the same enterprises."""
    real = SHARED / "samples" / "sse-standard-v4" / "coops-uk_standard_2022-q2_sample.csv"
    if not real.is_file():
        pytest.skip("../shared absent")
    spec = get_source("standard_csv")

    def load(raw: bytes) -> pd.DataFrame:
        res = spec.parse(raw, SourceContext(spec.name, spec.mapping))
        return conform(res.frame, spec.name, date_order=spec.mapping.get("date_order", "dmy"))[0]

    first = load(real.read_bytes())
    write_partner_exports({"standard_csv": first}, tmp_path, BASE)
    second = load((tmp_path / "standard.csv").read_bytes())
    assert len(second) == len(first) > 250
    a = {iri_of(r): r for r in first.to_dict("records")}
    for r in second.to_dict("records"):
        o = a[iri_of_identifier(r["record_id"], BASE)]
        assert (r["name"], r["websites"], _str(r["country"]), _str(r["postcode"])) == (
            o["name"], _first(o["websites"]), _str(o["country"]), _str(o["postcode"]))
        assert (_num(r["lat"]), _num(r["lon"])) == (_num(o["lat"]), _num(o["lon"]))
        for field in CONCEPTS:
            expected = _concepts(o, field)
            if field == "organisational_structure" and expected:  # v4: one term, the first
                expected = expected[:1]
            assert _concepts(r, field) == expected, (r["record_id"], field)


def test_exports_written_source_by_source_equal_whole_documents(frames, exported) -> None:
    """Sources are written one at a time; the GeoJSON and vocabs.json must be the bytes the
    whole collection encodes to, and the CSV every source's rows in source order."""
    from se_pipeline.release.exports.common import json_bytes, source_enterprises
    from se_pipeline.release.exports.geojson import features
    from se_pipeline.release.exports.vocabs import used_concepts, vocab_index

    target, _ = exported
    rows = [e for name in sorted(frames) for e in source_enterprises(frames[name], name, BASE)]
    whole = json_bytes({"type": "FeatureCollection", "features": features(rows)})
    assert (target / "enterprises.geojson").read_bytes() == whole
    assert len({f["properties"]["source"] for f in json.loads(whole)["features"]}) >= 3  # several sources
    assert (target / "vocabs.json").read_bytes() == json_bytes(vocab_index(used_concepts(rows)))
    with (target / "standard.csv").open(encoding="utf-8", newline="") as f:
        assert [iri_of_identifier(r["Identifier"], BASE) for r in csv.DictReader(f)] == [e.iri for e in rows]


def test_sources_written_in_slices_equal_whole_sources(frames, exported, tmp_path, monkeypatch) -> None:
    """A source larger than `ROWS_AT_ONCE` goes in slices (10^6 enterprises: the exports'
    memory); every file, profiles included, is the same bytes as written whole."""
    import se_pipeline.release.exports as exports

    target, _ = exported
    assert max(len(f) for f in frames.values()) > 7  # slices of 7 split some sources
    monkeypatch.setattr(exports, "ROWS_AT_ONCE", 7)
    sliced = tmp_path / "sliced"
    written = write_partner_exports(frames, sliced, BASE, tmp_path / "sliced.sha256")
    assert written == exported[1] == sum(1 for p in target.rglob("*") if p.is_file())
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        assert (sliced / path.relative_to(target)).read_bytes() == path.read_bytes(), path.name
    assert read_digests(tmp_path / "sliced.sha256") == read_digests(target.parent / "profiles.sha256")
