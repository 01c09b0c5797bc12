"""The landing page's map: country outlines, clustered points coloured by where they came from.

Everything is inlined into index.html (Leaflet, leaflet.markercluster, topojson-client and
Natural Earth's 1:110m country outlines, vendored unchanged in `map_assets/`, origins and
licences in `map_assets/ORIGIN.txt`), so the page still needs no network: no tile server,
no CDN. A point's colour says whether the source gave it or the pipeline geocoded it, and
at what precision (sep:geocodePrecision), with a legend.

The page's data reaches the browser only as JSON inside `<script type="application/json">`
(with `<`, `>` and `&` escaped, so a name cannot close the element) and is put on the page
by `map.js` as text. A Content-Security-Policy allows exactly the inline scripts written
here (by their SHA-256), so even markup that slipped through could not run a script.
"""
from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from se_pipeline.geocode.model import PRECISION_SCHEME, Precision

ASSETS = Path(__file__).with_name("map_assets")
SCRIPTS = ("leaflet.js", "leaflet.markercluster.js", "topojson-client.min.js", "map.js")
STYLES = ("leaflet.css", "MarkerCluster.css", "MarkerCluster.Default.css")
OWN = "source"

#: Legend order and colours (Okabe-Ito, distinguishable with the common colour-vision deficiencies).
LEGEND: tuple[tuple[str, str, str], ...] = (
    (OWN, "given by the source", "#0072b2"),
    (Precision.ADDRESS.value, "geocoded: address", "#009e73"),
    (Precision.POSTCODE.value, "geocoded: postcode", "#e69f00"),
    (Precision.LOCALITY.value, "geocoded: locality", "#cc79a7"),
    (Precision.REGION.value, "geocoded: region", "#d55e00"),
    (Precision.COUNTRY.value, "geocoded: country", "#7f7f7f"),
)
COLOURS = {key: colour for key, _, colour in LEGEND}

MAP_CSS = """
#enterprise-map{height:34rem;background:#cfe0ec;border:1px solid #e3e3e3;border-radius:.3rem}
#map-legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;font-size:.9rem}
#map-legend .swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-right:.35rem;
  vertical-align:-.05rem;border:1px solid #fff;box-shadow:0 0 0 1px #999}
.marker-cluster.cluster{background:rgba(29,53,87,.25)}
.marker-cluster.cluster div,.marker-cluster.cluster span{display:block;margin:3px;border-radius:50%;
  background:#1d3557;color:#fff;font:600 12px/1 system-ui,sans-serif;text-align:center;
  height:calc(100% - 6px);display:flex;align-items:center;justify-content:center}
"""


@dataclass
class MapBlock:
    total: int
    own: int
    points: list[tuple[float, float, str, str, str]]      # (lat, long, name, IRI, legend key)
    legend: list[dict[str, object]] = field(default_factory=list)
    data_json: Markup = Markup("")
    countries_json: Markup = Markup("")
    scripts: list[Markup] = field(default_factory=list)
    css: Markup = Markup("")


def script_json(value: object) -> Markup:
    """JSON that is safe as the text of a <script> element: no `<`, `>` or `&` can end it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return Markup(text)


@lru_cache(maxsize=1)
def _assets() -> tuple[tuple[Markup, ...], Markup, Markup]:
    scripts = []
    for name in SCRIPTS:
        code = (ASSETS / name).read_text(encoding="utf-8")
        if "</script" in code.lower():
            raise ValueError(f"{name} contains '</script': it cannot be inlined")
        scripts.append(Markup(code))
    css = Markup("\n".join((ASSETS / n).read_text(encoding="utf-8") for n in STYLES) + MAP_CSS)
    countries = Markup((ASSETS / "countries-110m.json").read_text(encoding="utf-8").replace("<", "\\u003c"))
    return tuple(scripts), css, countries


def legend_key(precision_iri: str) -> str:
    """sep:geocodePrecision concept IRI -> legend key (the source's own point: no precision)."""
    if precision_iri.startswith(PRECISION_SCHEME):
        key = precision_iri[len(PRECISION_SCHEME):]
        if key in COLOURS:
            return key
    return OWN


def map_block(coords: list[tuple[str, float, float, str, str]], total: int) -> MapBlock:
    """`coords`: (IRI, lat, long, name, precision IRI or "") of every located enterprise."""
    points = [(round(la, 5), round(lo, 5), name, iri, legend_key(prec)) for iri, la, lo, name, prec in sorted(coords)]
    counts = Counter(p[4] for p in points)
    legend = [{"key": k, "label": label, "colour": colour, "n": counts.get(k, 0)}
              for k, label, colour in LEGEND if counts.get(k) or k in (OWN, Precision.POSTCODE.value)]
    scripts, css, countries = _assets()
    return MapBlock(total=total, own=counts.get(OWN, 0), points=points, legend=legend,
                    data_json=script_json({"points": points, "legend": legend}),
                    countries_json=countries, scripts=list(scripts), css=css)


def csp(block: MapBlock) -> str:
    """The page's Content-Security-Policy: its own inline scripts (by hash) and nothing else."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in block.scripts)
    return (f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; img-src data:; "
            "base-uri 'none'; form-action 'none'")
