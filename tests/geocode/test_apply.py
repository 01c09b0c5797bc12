"""The hook: what geocoding adds to canonical rows, to RDF, to the catalog and to the config."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyoxigraph as ox
import pytest

from se_pipeline.canonical.schema import ensure_columns
from se_pipeline.geocode.apply import Geocoder, geocode_frame
from se_pipeline.geocode.catalog import gazetteer_triples
from se_pipeline.geocode.config import GeocodingConfig
from se_pipeline.geocode.model import GAZETTEER, Precision
from se_pipeline.namespaces import DCTERMS, DEFAULT_DATA_BASE, SEP
from se_pipeline.rdf.enterprises import enterprise_lines
from se_pipeline.settings import ConfigError, load_settings


def rows(*records: dict) -> pd.DataFrame:
    return ensure_columns(pd.DataFrame([{"source": "s", "line": i + 1, "name": f"Co-op {i}", "record_id": str(i), **r}
                                        for i, r in enumerate(records)]))


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Geocoder:
    return Geocoder(GeocodingConfig(), tmp_path_factory.mktemp("state"))


def test_own_points_are_never_replaced_and_new_ones_say_how(embedded: Geocoder) -> None:
    frame = rows(
        {"postcode": "SW1A 1AA", "country": "GB", "lat": 50.0, "lon": -4.0},   # the source's own point, even if far
        {"postcode": "SW1A 1AA", "locality": "London", "country": "GB"},       # postcode first
        {"locality": "Hebden Bridge", "postcode": "ZZ9 9ZZ", "country": "GB"},  # unknown postcode: the locality
        {"locality": "Newport", "country": "GB"},                              # ambiguous: left unplaced
        {"name": "No address at all"},
    )
    out, report = geocode_frame(frame, embedded)
    assert (out.loc[0, "lat"], out.loc[0, "lon"]) == (50.0, -4.0) and pd.isna(out.loc[0, "geocode_precision"])
    assert out.loc[1, "geocode_precision"] == Precision.POSTCODE.iri
    assert out.loc[1, "geocoded_by"] == GAZETTEER + "code-point-open" and abs(out.loc[1, "lat"] - 51.501) < 0.01
    assert out.loc[2, "geocode_precision"] == Precision.LOCALITY.iri
    assert out.loc[2, "geocoded_by"] == GAZETTEER + "geonames-cities500"
    assert pd.isna(out.loc[3, "lat"]) and pd.isna(out.loc[4, "lat"]) and len(out) == 5
    assert report.as_dict() == {"own": 1, "placed": {"code-point-open": 1, "geonames-cities500": 1},
                                "precision": {"Postcode": 1, "Locality": 1}, "unplaced": 1, "failures": {}}
    assert list(frame["lat"].isna()) == [False, True, True, True, True]      # the input is not modified


def test_rdf_says_how_a_geocoded_point_was_obtained(embedded: Geocoder) -> None:
    out, _ = geocode_frame(rows({"postcode": "SW1A 1AA", "country": "GB"}, {"lat": 1.5, "lon": 2.5}), embedded)
    records = out.to_dict("records")
    geocoded = ox.parse("".join(enterprise_lines(records[0], DEFAULT_DATA_BASE)), format=ox.RdfFormat.N_TRIPLES)
    by = {q.predicate.value: q.object.value for q in geocoded}
    assert by[SEP + "geocodePrecision"] == Precision.POSTCODE.iri
    assert by[SEP + "geocodedBy"] == GAZETTEER + "code-point-open"
    own = "".join(enterprise_lines(records[1], DEFAULT_DATA_BASE))
    assert "wgs84_pos#lat" in own and "geocode" not in own


def test_catalog_describes_each_gazetteer_and_flags_share_alike_data() -> None:
    rel, run = ox.NamedNode("https://w3id.org/se-pipeline/release/r1"), ox.NamedNode("https://w3id.org/se-pipeline/release/r1#run")
    open_only = gazetteer_triples(rel, run, {"coops_uk": {"code-point-open": 3, "unknown-thing": 2}, "ica": {}})
    licences = {t.object.value for t in open_only if t.predicate.value == DCTERMS + "license"}
    assert licences == {"https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}
    assert not any(t.predicate.value == DCTERMS + "rights" for t in open_only)
    assert any(t.predicate.value == SEP + "geocodedRecords" and t.object.value == "3" for t in open_only)
    with_osm = gazetteer_triples(rel, run, {"coops_uk": {"nominatim": 1, "code-point-open": 2}})
    rights = [t for t in with_osm if t.predicate.value == DCTERMS + "rights"]
    assert len(rights) == 1 and rights[0].subject == rel
    label = next(t.object.value for t in with_osm if t.subject == rights[0].object and t.predicate.value.endswith("label"))
    assert "ODbL" in label and GAZETTEER + "nominatim" in label


def test_config_section(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("geocoding: {embedded: false}\n", encoding="utf-8")
    assert load_settings(config, tmp_path).geocoding.embedded is False
    assert load_settings(None, tmp_path).geocoding == GeocodingConfig()
    config.write_text("geocoding: {online: [{service: nominatim}]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ODbL"):
        load_settings(config, tmp_path)
    config.write_text(f"geocoding: {{files: [{{format: onspd, path: {tmp_path}/missing.csv}}]}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="missing.csv"):
        load_settings(config, tmp_path)
    config.write_text("geocoding: {colour: red}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="colour"):
        load_settings(config, tmp_path)


def test_ingest_geocodes_the_bundled_sample_and_says_so(tmp_path: Path) -> None:
    """The hook in `sources.ingest`: the real Co-operatives UK sample has postcodes and no
    coordinates; after ingest most records have a point, marked, and the status counts them."""
    from se_pipeline.settings import Settings
    from se_pipeline.sources.ingest import ingest
    from se_pipeline.sources.registry import all_sources
    from se_pipeline.state import SourceState, read_frame, read_json

    settings = Settings(output_dir=tmp_path)
    outcome = ingest(all_sources()["coops_uk"], settings, http=None)
    assert outcome.ok, outcome.error
    run = SourceState.of(settings.state_dir, "coops_uk").run
    frame = read_frame(run / "canonical.parquet")
    placed = frame[frame["geocoded_by"].notna()]
    assert len(frame) == outcome.rows and len(placed) >= len(frame) // 2
    assert set(placed["geocode_precision"]) <= {Precision.POSTCODE.iri, Precision.LOCALITY.iri}
    assert placed["lat"].between(49, 61).all() and placed["lon"].between(-9, 2).all()   # Great Britain
    notes = read_json(run / "status.json")["notes"]["geocoding"]
    assert sum(notes["placed"].values()) == len(placed) and notes["own"] == 0

    off = Settings(output_dir=tmp_path / "off", geocoding=GeocodingConfig(enabled=False))
    assert ingest(all_sources()["coops_uk"], off, http=None).ok
    untouched = read_frame(SourceState.of(off.state_dir, "coops_uk").run / "canonical.parquet")
    assert untouched["lat"].isna().all() and "geocoding" not in read_json(
        SourceState.of(off.state_dir, "coops_uk").run / "status.json")["notes"]


def test_gazetteers_in_the_catalog_satisfy_dcat_ap() -> None:
    """The official DCAT-AP 3.0.1 shapes (../shared/reference), on the gazetteer descriptions alone."""
    import pyshacl
    import rdflib

    reference = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "dcat-ap" / "3.0.1"
    if not (reference / "shapes.ttl").is_file():
        pytest.skip("../shared/reference/dcat-ap absent")
    rel, run = ox.NamedNode("https://w3id.org/se-pipeline/release/r1"), ox.NamedNode("https://w3id.org/se-pipeline/release/r1#run")
    triples = gazetteer_triples(rel, run, {"coops_uk": {"code-point-open": 2, "geonames-cities500": 1, "nominatim": 1}})
    data = rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")
    shapes = rdflib.Graph().parse(reference / "shapes.ttl").parse(reference / "range.ttl")
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    violations = [report.value(r, sh.resultMessage) for r in report.subjects(rdflib.RDF.type, sh.ValidationResult)
                  if report.value(r, sh.resultSeverity) == sh.Violation
                  and str(report.value(r, sh.focusNode)).startswith(GAZETTEER)]
    assert violations == []
