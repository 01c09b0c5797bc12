"""The hook: geocode a canonical frame, leaving every source-given point untouched."""
from __future__ import annotations

import logging
import math
import os
from functools import lru_cache
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from se_pipeline.geocode.config import GeocodingConfig
from se_pipeline.geocode.embedded import embedded_layers
from se_pipeline.geocode.files import GazetteerFile
from se_pipeline.geocode.model import Gazetteer, GazetteerInfo, GeocodeError, Hit, Place
from se_pipeline.geocode.online import Cache, OnlineGeocoder

log = logging.getLogger(__name__)


def user_cache_dir() -> Path:
    """Where layer 1's index lives: derived only from installed packages, so one copy serves
    every output directory of the machine (as pip's cache does)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "se-pipeline" / "geocode"


@dataclass
class GeocodeReport:
    """What geocoding did to one frame (goes to the source's status notes)."""

    own: int = 0                      # records with the source's own coordinates
    placed: Counter[str] = field(default_factory=Counter)       # gazetteer id -> records placed
    precision: Counter[str] = field(default_factory=Counter)    # precision -> records placed
    unplaced: int = 0                 # records with an address that no layer could place
    failures: Counter[str] = field(default_factory=Counter)     # gazetteer id -> failed questions

    def as_dict(self) -> dict[str, Any]:
        return {"own": self.own, "placed": dict(self.placed), "precision": dict(self.precision),
                "unplaced": self.unplaced, "failures": dict(self.failures)}


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _has_point(lat: Any, lon: Any) -> bool:
    return all(isinstance(v, (int, float)) and not math.isnan(v) for v in (lat, lon))


class Geocoder:
    """The configured layers, built once per process and reused for every source."""

    def __init__(self, config: GeocodingConfig, state_dir: Path) -> None:
        index_dir = config.index_dir or state_dir / "geocode"
        self.layers: list[Gazetteer] = [GazetteerFile(f.path, f.format, index_dir) for f in config.files]
        if config.embedded:
            embedded_index = config.index_dir or user_cache_dir()
            try:
                embedded_index.mkdir(parents=True, exist_ok=True)
            except OSError:
                embedded_index = index_dir
            self.layers += embedded_layers(embedded_index)
        if config.online:
            cache = Cache(index_dir / "online-cache.sqlite")
            self.layers += [OnlineGeocoder(s, cache) for s in config.online]

    @property
    def gazetteers(self) -> list[GazetteerInfo]:
        return [layer.info for layer in self.layers]

    def locate(self, place: Place, report: GeocodeReport) -> Hit | None:
        for layer in self.layers:
            try:
                hit = layer.locate(place)
            except GeocodeError as e:  # the value is dropped for this run, the record stays
                report.failures[layer.info.id] += 1
                log.warning("geocoding: %s", e)
                continue
            if hit is not None:
                return hit
        return None


@lru_cache(maxsize=4)
def geocoder_for(config: GeocodingConfig, state_dir: Path) -> Geocoder:
    """One Geocoder per process and configuration: indexes opened and area files read once."""
    return Geocoder(config, state_dir)


def geocode_frame(frame: pd.DataFrame, geocoder: Geocoder) -> tuple[pd.DataFrame, GeocodeReport]:
    """Fill lat/lon of rows with an address and no point; mark each filled row with
    `geocode_precision` (concept IRI) and `geocoded_by` (gazetteer IRI)."""
    report = GeocodeReport()
    out = frame.copy()
    precision = list(out["geocode_precision"]) if "geocode_precision" in out else [None] * len(out)
    by = list(out["geocoded_by"]) if "geocoded_by" in out else [None] * len(out)
    lats, lons = list(out["lat"]), list(out["lon"])
    columns = {c: list(out[c]) for c in ("street", "locality", "region", "postcode", "country")}
    for i in range(len(out)):
        if _has_point(lats[i], lons[i]):
            report.own += 1
            continue
        place = Place(**{c: _text(columns[c][i]) for c in columns})
        if not (place.street or place.locality or place.region or place.postcode):
            continue
        hit = geocoder.locate(place, report)
        if hit is None:
            report.unplaced += 1
            continue
        lats[i], lons[i] = round(hit.lat, 6), round(hit.lon, 6)
        precision[i], by[i] = hit.precision.iri, hit.gazetteer.iri
        report.placed[hit.gazetteer.id] += 1
        report.precision[hit.precision.value] += 1
    if report.placed:
        out["lat"] = pd.Series(lats, index=out.index, dtype="float64")
        out["lon"] = pd.Series(lons, index=out.index, dtype="float64")
    out["geocode_precision"] = pd.Series(precision, index=out.index, dtype="object")
    out["geocoded_by"] = pd.Series(by, index=out.index, dtype="object")
    return out, report
