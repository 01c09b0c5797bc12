"""`se-pipeline run --config` pointed at every real sample in ../shared/samples at once.

Issue "Every source the mission names": each real file publishes every record or
quarantines it with a reason, and the release passes the independent acceptance check.
Expected counts come from the files themselves (rows, features, DotCoop registrants),
never from our parsers.
"""
from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from se_pipeline.cli import main
from se_pipeline.quarantine import read_quarantine

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLES = SHARED / "samples"
CHECK = SHARED / "acceptance" / "check_release.py"
GRAPH = "https://w3id.org/se-pipeline/graph/"


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


#: source -> (real file, how many records it holds, counted from the file)
REAL = {
    "coops_uk": ("coops-uk/open_data_organisations_2016-06_sample.csv", lambda p: len(_csv_rows(p))),
    "coops_uk_outlets": ("coops-uk/open_data_outlets_2019-q1_sample.csv", lambda p: len(_csv_rows(p))),
    "dotcoop": ("dotcoop/ActiveDomainsLonLat_2019-10-03_sample.csv",
                lambda p: len({r["RegistrantId"] for r in _csv_rows(p)})),  # one enterprise per registrant
    "ica_youth": ("ica-youth/youth-led-coops_sample.csv", lambda p: len(_csv_rows(p))),
    "standard_csv": ("sse-standard-v4/coops-uk_standard_2022-q2_sample.csv", lambda p: len(_csv_rows(p))),
    "transformap": ("transformap/susy_sample.geojson", lambda p: len(json.loads(p.read_bytes())["features"])),
}


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not all((SAMPLES / f).is_file() for f, _ in REAL.values()):
        pytest.skip("../shared/samples absent")
    tmp = tmp_path_factory.mktemp("real-samples")
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump({"file_roots": [str(SAMPLES.resolve())], "sources": {
        name: {"url": (SAMPLES / f).resolve().as_uri()} for name, (f, _) in REAL.items()}}))
    assert main(["run", "--config", str(config), "--output", str(tmp / "out")]) == 0
    return (tmp / "out" / "latest").resolve()


@pytest.mark.parametrize("source", sorted(REAL))
def test_every_real_record_is_published_or_quarantined_with_a_reason(release: Path, source: str) -> None:
    path, count = REAL[source]
    expected = count(SAMPLES / path)
    store = ox.Store()
    with gzip.open(release / "dataset.nq.gz", "rb") as f:
        store.bulk_load(f, format=ox.RdfFormat.N_QUADS)
    published = store.query(f"""
        SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ GRAPH <{GRAPH}{source}> {{
            ?e <http://purl.org/dc/terms/identifier> ?id FILTER(!CONTAINS(STR(?e), "#")) }} }}""")
    n_published = int(next(iter(published))["n"].value)
    quarantined = [q for q in read_quarantine(release / "quarantine.csv") if q.source == source]
    assert all(q.reason for q in quarantined)
    assert n_published > 0 and n_published + len(quarantined) == expected, (n_published, len(quarantined), expected)


def test_the_release_of_real_samples_passes_the_acceptance_check(release: Path) -> None:
    if not CHECK.is_file():
        pytest.skip("../shared/acceptance/check_release.py absent")
    done = subprocess.run([sys.executable, str(CHECK), str(release)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_quarantine_names_line_and_reason_for_each_real_source_that_withholds(release: Path) -> None:
    by_source = Counter(q.source for q in read_quarantine(release / "quarantine.csv") if q.source in REAL)
    for q in read_quarantine(release / "quarantine.csv"):
        if q.source in REAL:
            assert q.line > 0 and q.reason, q
    assert by_source["coops_uk"] > 0  # the real Co-operatives UK file has rows we must withhold
