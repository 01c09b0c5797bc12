"""Geocoding coverage and accuracy, per source, on the real samples and the bundled ones.

    .venv/bin/python -m benchmarks.geocoding [--config my-config.yaml]

For every source: how many enterprises have a point before geocoding (the source's own)
and after (own + geocoded), and, for the records that carry their own point, how far the
point geocoding would give them is from it (their own coordinates hidden, the rest of the
record as is): median and 90th percentile in km, by precision. The layers are those of the
config's `geocoding:` section (default: the embedded layer 1 only, offline).
Real samples are read from ../shared/samples (or $SE_SHARED/samples) when present.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from se_pipeline.canonical.normalise import conform
from se_pipeline.geocode.apply import Geocoder, geocode_frame
from se_pipeline.geocode.model import PRECISION_SCHEME
from se_pipeline.geocode.pick import distance_km
from se_pipeline.settings import load_settings
from se_pipeline.sources.base import SourceContext
from se_pipeline.sources.registry import all_sources

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("SE_SHARED", REPO.parent / "shared")) / "samples"
REAL: dict[str, str] = {
    "coops_uk": "coops-uk/open_data_organisations_2016-06_sample.csv",
    "coops_uk_outlets": "coops-uk/open_data_outlets_2019-q1_sample.csv",
    "dotcoop": "dotcoop/ActiveDomainsLonLat_2019-10-03_sample.csv",
    "ica_youth": "ica-youth/youth-led-coops_sample.csv",
    "standard_csv": "sse-standard-v4/coops-uk_standard_2022-q2_sample.csv",
    "transformap": "transformap/susy_sample.geojson",
}


def canonical(name: str, raw: bytes) -> pd.DataFrame:
    spec = all_sources()[name]
    parsed = spec.parse(raw, SourceContext(name, spec.mapping))
    return conform(parsed.frame, name, date_order=spec.mapping.get("date_order", "dmy"),
                   strip_html=bool(spec.mapping.get("html", False)))[0]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(frame: pd.DataFrame, geocoder: Geocoder) -> dict[str, object]:
    has = frame["lat"].notna() & frame["lon"].notna()
    after, report = geocode_frame(frame, geocoder)
    hidden = frame.copy()
    hidden.loc[has, ["lat", "lon"]] = None
    hidden = hidden[has].reset_index(drop=True)
    own = frame[has].reset_index(drop=True)
    located, _ = geocode_frame(hidden, geocoder) if len(hidden) else (hidden, None)
    by_precision: dict[str, list[float]] = {}
    for i in range(len(located)):
        precision = located.loc[i, "geocode_precision"]
        if isinstance(precision, str):
            by_precision.setdefault(precision[len(PRECISION_SCHEME):], []).append(
                distance_km(float(own.loc[i, "lat"]), float(own.loc[i, "lon"]),
                            float(located.loc[i, "lat"]), float(located.loc[i, "lon"])))
    return {"n": len(frame), "before": int(has.sum()), "after": int((after["lat"].notna()).sum()),
            "report": report, "distances": by_precision}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="run config whose geocoding: section to use")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        settings = load_settings(args.config, state)
        geocoder = Geocoder(settings.geocoding, Path(state) / "state")
        print("layers:", ", ".join(g.id for g in geocoder.gazetteers))
        inputs: list[tuple[str, str, bytes]] = []
        if SAMPLES.is_dir():
            inputs += [("real", name, (SAMPLES / rel).read_bytes()) for name, rel in REAL.items()
                       if (SAMPLES / rel).is_file()]
        else:
            print(f"({SAMPLES} absent: real samples skipped)")
        for name, spec in sorted(all_sources().items()):
            sample = Path(spec.sample_url.removeprefix("file://"))
            if sample.is_file():
                inputs.append(("bundled", name, sample.read_bytes()))
        print(f"{'set':8} {'source':22} {'records':>7} {'with point before':>18} {'after':>14} "
              f"{'unplaced':>8}  own point vs geocoded (km): precision n median p90")
        t0 = time.perf_counter()
        for kind, name, raw in inputs:
            m = measure(canonical(name, raw), geocoder)
            n = max(1, int(m["n"]))
            dist = "; ".join(f"{p} {len(d)} {statistics.median(d):.2f} {percentile(d, 0.9):.2f}"
                             for p, d in sorted(m["distances"].items())) or "-"
            print(f"{kind:8} {name:22} {m['n']:>7} {m['before']:>8} ({100 * m['before'] / n:5.1f} %) "
                  f"{m['after']:>5} ({100 * m['after'] / n:5.1f} %) {m['report'].unplaced:>8}  {dist}")
        print(f"({time.perf_counter() - t0:.1f} s, indexes already built)")


if __name__ == "__main__":
    main()
