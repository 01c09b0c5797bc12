"""The static landing page (rendered in headless Chromium) and the static IRI documents."""
from __future__ import annotations

import base64
import html
import gzip
import hashlib
import json
import re
import shutil
import struct
import urllib.request
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest
import rdflib

from se_pipeline.access.landing import write_landing_page
from se_pipeline.access.landing_map import COLOURS, OWN
from se_pipeline.access.pages import LANGS
from se_pipeline.access.server import HTML_CSP, ServeConfig, serve_in_thread
from se_pipeline.access.static_docs import release_store, write_static_documents
from se_pipeline.namespaces import DEFAULT_DATA_BASE, ESSGLOBAL, GEO, RDF_TYPE, SCHEMA
from tests.conftest import Chromium

EVIL = "<script>alert(1)</script>"
EVIL_IRI = DEFAULT_DATA_BASE + "coops_uk/EVIL1"


@pytest.fixture(scope="module")
def evil_release(sample_release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample release plus an enterprise whose name is a script."""
    target = tmp_path_factory.mktemp("evil") / sample_release.name
    shutil.copytree(sample_release, target)
    for p in target.iterdir():
        p.chmod(0o644)
    g = "<https://w3id.org/se-pipeline/graph/coops_uk>"
    extra = (f'<{EVIL_IRI}> <{RDF_TYPE}> <{ESSGLOBAL}SSEInitiative> {g} .\n'
             f'<{EVIL_IRI}> <{SCHEMA}name> "{EVIL}" {g} .\n'
             f'<{EVIL_IRI}> <http://purl.org/dc/terms/source> <https://w3id.org/se-pipeline/source/coops_uk> {g} .\n'
             f'<{EVIL_IRI}> <{GEO}lat> "10.5"^^<http://www.w3.org/2001/XMLSchema#decimal> {g} .\n'
             f'<{EVIL_IRI}> <{GEO}long> "20.5"^^<http://www.w3.org/2001/XMLSchema#decimal> {g} .\n'
             f'<{EVIL_IRI}2> <{RDF_TYPE}> <{ESSGLOBAL}SSEInitiative> {g} .\n'
             f'<{EVIL_IRI}2> <{SCHEMA}name> "<script>document.title=\'PWNED\'</script><img src=x onerror=\\"document.title=\'PWNED\'\\">" {g} .\n'
             f'<{EVIL_IRI}2> <{GEO}lat> "-10.5"^^<http://www.w3.org/2001/XMLSchema#decimal> {g} .\n'
             f'<{EVIL_IRI}2> <{GEO}long> "-20.5"^^<http://www.w3.org/2001/XMLSchema#decimal> {g} .\n'
             f'<{EVIL_IRI}2> <http://purl.org/dc/terms/source> <https://w3id.org/se-pipeline/source/coops_uk> {g} .\n')
    with gzip.open(target / "dataset.nq.gz", "rb") as f:
        data = f.read()
    with gzip.open(target / "dataset.nq.gz", "wb") as f:
        f.write(data + extra.encode())
    (target / "SHA256SUMS").unlink()  # as in a partial release: checksums not written yet
    write_landing_page(target, target / "index.html")
    return target


def expected_points(release: Path) -> int:
    ds = rdflib.Dataset()
    with gzip.open(release / "dataset.nq.gz", "rb") as f:
        ds.parse(data=f.read().decode(), format="nquads")
    ents = {s for s, _, _, _ in ds.quads((None, rdflib.RDF.type, rdflib.URIRef(ESSGLOBAL + "SSEInitiative"), None))}
    return sum(1 for e in ents if any(ds.quads((e, rdflib.URIRef(GEO + "lat"), None, None)))
               and any(ds.quads((e, rdflib.URIRef(GEO + "long"), None, None))))


def map_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page, re.S).group(1))


def test_page_is_self_contained_and_escaped(evil_release: Path) -> None:
    page = (evil_release / "index.html").read_text(encoding="utf-8")
    assert "PWNED" in page and "<img src=x" not in page
    assert EVIL not in page and "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page
    assert not re.search(r'(src|href)="(https?:)?//[^"]*\.(css|js)', page)  # no external CSS/JS
    assert not re.search(r"<script[^>]*\ssrc=", page, re.I)                   # every script inline
    # The only scripts that may run are the map's: the CSP lists each inline script's hash.
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page).group(1)
    policy = html.unescape(policy)
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy.split("script-src", 1)[1].split(";")[0]
    scripts = re.findall(r"<script( [^>]*)?>(.*?)</script>", page, re.S)
    code = [body for attrs, body in scripts if 'type="application/json"' not in (attrs or "")]
    assert len(code) == 4
    for body in code:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    data = map_data(page)
    assert len(data["points"]) == expected_points(evil_release)
    names = {p[2] for p in data["points"]}
    assert EVIL in names  # the name travels as data, shown by map.js as text
    for name in ("dataset.nq.gz", "dataset.ttl", "catalog.ttl", "quarantine.csv"):
        assert f'<a href="{name}">' in page
    assert "example queries" in page.lower() and "Enterprises per source." in page


def _png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) into rows."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and ctype in (2, 6)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line) if bpp == 3 else bytes(v for j, v in enumerate(line) if j % 4 != 3))
        prev = line
    return width, height, rows


@pytest.mark.browser
def test_page_in_headless_chromium(evil_release: Path, tmp_path: Path, chromium: Chromium) -> None:
    url = (evil_release / "index.html").as_uri()
    dom = chromium.dom("--virtual-time-budget=5000", url)
    assert "<title>" in dom and "alert" not in re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert "<img src=x" not in dom and "<script>alert(1)</script>" not in dom  # never made into markup
    assert "PWNED" not in re.search(r"<title>(.*?)</title>", dom, re.S).group(1)  # no injected script ran
    ds = rdflib.Dataset()
    with gzip.open(evil_release / "dataset.nq.gz", "rb") as f:
        ds.parse(data=f.read().decode(), format="nquads")
    enterprises = {s for s, _, _, _ in ds.quads((None, rdflib.RDF.type, rdflib.URIRef(ESSGLOBAL + "SSEInitiative"), None))}
    assert re.search(r'id="total-enterprises">(\d+)<', dom).group(1) == str(len(enterprises))

    # The map: country outlines under clustered points; every point is in a cluster or shown.
    assert 'data-ready="true"' in dom
    assert len(re.findall(r'<path class="country[ "]', dom)) > 150
    clustered = sum(int(n) for n in re.findall(r'class="[^"]*marker-cluster[^"]*"[^>]*><span>(\d+)</span>', dom))
    singles = len(re.findall(r'<path class="pt pt-', dom))
    assert clustered > 0 and clustered + singles == expected_points(evil_release)
    legend = re.findall(r'<li data-key="([^"]+)">', dom)
    assert legend[0] == OWN and set(legend) <= set(COLOURS)

    # A hostile name, opened on the map (index.html#map=<IRI>), is shown as text and runs nothing.
    for iri, shown in ((EVIL_IRI, "&lt;script&gt;alert(1)&lt;/script&gt;"),
                       (EVIL_IRI + "2", "&lt;img src=x onerror=")):
        opened = chromium.dom("--virtual-time-budget=8000", f"{url}#map={quote(iri, safe='')}")
        popup = re.search(r'<div class="leaflet-popup-content"[^>]*>(.*?)</div></div>', opened, re.S)
        assert popup is not None and shown in popup.group(1)
        assert "<img" not in popup.group(1) and "<script" not in popup.group(1)
        assert "PWNED" not in re.search(r"<title>(.*?)</title>", opened, re.S).group(1)

    shot = tmp_path / "page.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,1400", "--virtual-time-budget=5000", url)
    width, height, rows = _png_pixels(shot)

    def pixels(colour: str) -> int:
        target = bytes.fromhex(colour[1:])
        return sum(1 for row in rows[::2] for x in range(0, width * 3, 6)
                   if all(abs(row[x + i] - target[i]) <= 10 for i in range(3)))

    assert pixels("#f3efe6") > 5000        # land: the country outlines are drawn
    assert pixels("#1d3557") > 50          # clusters
    assert pixels(COLOURS[OWN]) > 5        # single points, coloured by where they came from


@pytest.mark.browser
def test_served_landing_page_keeps_its_own_policy_and_its_map_runs(evil_release: Path, tmp_path: Path,
                                                                     chromium: Chromium) -> None:
    """`se-pipeline serve` sends the page's own CSP (its map's scripts by hash) as the header:
    the generic HTML policy beside it would block the map."""
    server = serve_in_thread(ServeConfig(release=evil_release, port=0, store_root=tmp_path / "stores"))
    try:
        host, port = server.address
        with urllib.request.urlopen(f"http://{host}:{port}/", timeout=30) as r:
            policy, body = r.headers["Content-Security-Policy"], r.read()
        stated = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', body.decode()).group(1)
        assert policy == html.unescape(stated) and policy != HTML_CSP and "'sha256-" in policy
        dom = chromium.dom("--virtual-time-budget=5000", f"http://{host}:{port}/")
        assert 'data-ready="true"' in dom and len(re.findall(r'<path class="country[ "]', dom)) > 150
        assert "PWNED" not in re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    finally:
        server.stop()


def test_static_documents(sample_release: Path, tmp_path: Path) -> None:
    n = write_static_documents(release_store(sample_release / "dataset.nq.gz"), tmp_path, DEFAULT_DATA_BASE)
    ds = rdflib.Dataset()
    with gzip.open(sample_release / "dataset.nq.gz", "rb") as f:
        ds.parse(data=f.read().decode(), format="nquads")
    subjects = {str(s) for s, _, _, _ in ds.quads((None, rdflib.RDF.type, None, None))
                if str(s).startswith(DEFAULT_DATA_BASE) and "#" not in str(s)}
    assert n == len(subjects) and n > 100
    folder = tmp_path / "id" / "coops_uk"
    g = rdflib.Graph().parse(folder / "R000001.ttl", format="turtle")
    assert {str(s) for s in g.subjects()} == {DEFAULT_DATA_BASE + "coops_uk/R000001", DEFAULT_DATA_BASE + "coops_uk/R000001#address"}
    assert len(rdflib.Graph().parse(folder / "R000001.jsonld", format="json-ld")) == len(g)
    html_text = (folder / "R000001.html").read_text(encoding="utf-8")
    assert "Co-operative Group Limited" in html_text and 'href="R000001.ttl"' in html_text


def test_documents_written_from_the_graph_files_equal_those_from_the_published_dataset(
        sample_release: Path, tmp_path: Path) -> None:
    """The release writes id/ documents from the graphs' files before the datasets exist
    (vocabulary derived the same way); regenerating them from the published N-Quads must
    give the very same bytes, file for file."""
    n = write_static_documents(release_store(sample_release / "dataset.nq.gz"), tmp_path, DEFAULT_DATA_BASE)
    published = {p.relative_to(sample_release): p.read_bytes() for p in (sample_release / "id").rglob("*") if p.is_file()}
    regenerated = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "id").rglob("*") if p.is_file()}
    assert len(published) == (2 + len(LANGS)) * n  # Turtle, JSON-LD and a page per language
    assert published.keys() == regenerated.keys()
    assert [k for k in published if published[k] != regenerated[k]] == []


def test_published_page_equals_the_page_regenerated_from_the_published_files(sample_release: Path,
                                                                              tmp_path: Path) -> None:
    """The build counts the data part by part as it writes the datasets; regenerating the
    page from dataset.nq.gz as a whole must give the very same page, with the final id."""
    published = (sample_release / "index.html").read_text(encoding="utf-8")
    assert f'<span id="release-id">{sample_release.name}</span>' in published and ".partial-" not in published
    write_landing_page(sample_release, tmp_path / "index.html")
    assert (tmp_path / "index.html").read_text(encoding="utf-8") == published


def test_the_map_is_made_once_until_the_coordinates_change(monkeypatch) -> None:
    """The release writes its landing pages again once it knows its size: the map of every
    located enterprise (seconds at 10^6) is made once, and again only for new coordinates."""
    from se_pipeline.access import landing

    made: list[int] = []
    real = landing.map_block
    monkeypatch.setattr(landing, "map_block", lambda coords, total: made.append(len(coords)) or real(coords, total))
    data = landing.DataCounts(enterprises=2)
    data.add_coords('[["https://example.org/id/s/1", 51.5, -0.1, "One", ""]]')
    first = data.map()
    assert data.map() is first and made == [1]
    data.add_coords('[["https://example.org/id/s/2", 48.8, 2.3, "Two", ""]]')
    assert [p[3] for p in data.map().points] == ["https://example.org/id/s/1", "https://example.org/id/s/2"]
    assert made == [1, 2]
