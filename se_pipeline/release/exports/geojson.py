"""`enterprises.geojson`: every located enterprise as a GeoJSON Point (RFC 7946).

Coordinates are `[longitude, latitude]` (WGS84); properties: `name`, `iri`, `source`,
`website` (first, or null), `practices` (concept IRIs) and `practice_labels` (English).
Enterprises without coordinates are not features (a Point needs them); they are in the
other exports.
"""
from __future__ import annotations

from pathlib import Path

from se_pipeline.release.exports.common import Enterprise, json_text
from se_pipeline.release.exports.labels import labels_for


def features(rows: list[Enterprise]) -> list[dict]:
    """A GeoJSON point feature for every located enterprise of `rows`."""
    located = [e for e in rows if e.get("lat") is not None and e.get("lon") is not None]
    labels = labels_for({p for e in located for p in e.list("practices")})
    out = []
    for e in located:
        websites = e.list("websites")
        out.append({
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
    return out


class GeoJsonWriter:
    """`enterprises.geojson` written source by source: the bytes `json_bytes` gives for
    the whole FeatureCollection, without holding every feature at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._out = path.open("wb")
        self._out.write(b'{"type":"FeatureCollection","features":[')
        self._first = True

    def write(self, rows: list[Enterprise]) -> str:
        """Write the features of `rows`; returns their text, joined by commas (a source's
        can be kept and `add`ed to a later file: `exports.parts`)."""
        text = ",".join(json_text(feature) for feature in features(rows))
        self.add(text)
        return text

    def add(self, text: str) -> None:
        """Append features `write` returned before (several joined by commas)."""
        if text:
            self._out.write((text if self._first else "," + text).encode("utf-8"))
            self._first = False

    def __enter__(self) -> "GeoJsonWriter":
        return self

    def __exit__(self, kind: type | None, *_: object) -> None:
        if kind is None:
            self._out.write(b"]}\n")
        self._out.close()
