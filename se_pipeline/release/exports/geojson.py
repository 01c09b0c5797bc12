"""`enterprises.geojson`: every located enterprise as a GeoJSON Point (RFC 7946).

Coordinates are `[longitude, latitude]` (WGS84); properties: `name`, `iri`, `source`,
`website` (first, or null), `practices` (concept IRIs) and `practice_labels` (English).
Enterprises without coordinates are not features (a Point needs them); they are in the
other exports.
"""
from __future__ import annotations

from pathlib import Path

from se_pipeline.release.exports.common import Enterprise, dump_json
from se_pipeline.release.exports.labels import labels_for


def feature_collection(rows: list[Enterprise]) -> dict:
    located = [e for e in rows if e.get("lat") is not None and e.get("lon") is not None]
    labels = labels_for({p for e in located for p in e.list("practices")})
    features = []
    for e in located:
        websites = e.list("websites")
        features.append({
            "type": "Feature",
            "id": e.identifier,
            "geometry": {"type": "Point", "coordinates": [float(e.get("lon")), float(e.get("lat"))]},
            "properties": {
                "name": e.get("name"),
                "iri": e.iri,
                "source": e.get("source"),
                "website": websites[0] if websites else None,
                "practices": e.list("practices"),
                "practice_labels": [labels[p]["en"] for p in e.list("practices")],
            },
        })
    return {"type": "FeatureCollection", "features": features}


def write_geojson(rows: list[Enterprise], path: Path) -> Path:
    return dump_json(feature_collection(rows), path)
