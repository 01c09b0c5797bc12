"""Hostile values through every source: the release must still pass the acceptance check.

Each source's bundled sample folder is copied and its first records poisoned in the
source's own format: IRI-breaking characters, control characters, HTML/script, quotes
and backslashes, a 100 kB field, and coordinates written as 1e-05.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import yaml

from se_pipeline.sources.registry import all_sources

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT.parent / "shared" / "acceptance" / "check_release.py"
HOSTILE = ' <script>alert("x")</script> {a|b^c`d\\e} \x01\x07\x1b\x7f tab\there "quoted" ünï 中文 \u202e'
BIG = "x" * 100_000
POISONED_RECORDS = 3


def poison_text(value: str, i: int) -> str:
    return value + HOSTILE + (BIG if i == 1 else "")


def is_coordinate(key: str) -> bool:
    k = key.lower()
    return k in {"lat", "lon", "lng", "latitude", "longitude", "location_x", "location_y"} or k.endswith(("latitude", "longitude"))


def poison_csv(path: Path) -> None:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig") if raw[:3] == b"\xef\xbb\xbf" else raw.decode("utf-8", errors="strict") if _utf8(raw) else raw.decode("cp1252")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    for i, row in enumerate(rows[1:1 + POISONED_RECORDS]):
        for j, cell in enumerate(row):
            key = header[j] if j < len(header) else ""
            row[j] = "1e-05" if is_coordinate(key) else (poison_text(cell, i) if cell else cell)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def poison_json_value(value: Any, i: int, key: str = "") -> Any:
    if isinstance(value, dict):
        if value.get("type") == "Point" and isinstance(value.get("coordinates"), list):
            return {**value, "coordinates": [1e-05, 1e-05]}
        return {k: poison_json_value(v, i, k) for k, v in value.items()}
    if isinstance(value, list):
        return [poison_json_value(v, i, key) for v in value]
    if is_coordinate(key) and isinstance(value, (int, float, str)):
        return 1e-05
    if isinstance(value, str) and value and not key.startswith("@") and not value.startswith(("http", "file:", "./")):
        return poison_text(value, i)
    return value


def poison_json(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))

    def records(node: Any) -> list | None:
        if isinstance(node, list) and node and isinstance(node[0], dict):
            return node
        if isinstance(node, dict):
            for key in ("features", "data", "values", "@graph", "members", "items", "results"):
                found = records(node.get(key))
                if found is not None:
                    return found
            if isinstance(node.get("values"), dict):
                return list(node["values"].values())
        return None

    target = records(doc)
    if target is None:
        doc = poison_json_value(doc, 0)
    else:
        for i, rec in enumerate(target[:POISONED_RECORDS]):
            poisoned = poison_json_value(rec, i)
            rec.clear() if isinstance(rec, dict) else None
            rec.update(poisoned)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def poison_turtle(path: Path) -> None:
    triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    out = []
    for n, t in enumerate(triples):
        o = t.object
        if isinstance(o, ox.Literal) and not o.language and o.datatype.value.endswith("#string") and n < 60:
            o = ox.Literal(poison_text(o.value, n % 2))
        out.append(ox.Triple(t.subject, t.predicate, o))
    path.write_bytes(ox.serialize(out, format=ox.RdfFormat.TURTLE))


def poison_folder(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        suffix = path.suffix.lower()
        if suffix == ".csv":
            poison_csv(path)
        elif suffix in {".json", ".geojson"}:
            poison_json(path)
        elif suffix == ".jsonld":
            poison_json(path)
        elif suffix == ".ttl":
            poison_turtle(path)


@pytest.fixture(scope="module")
def hostile_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("hostile")
    config: dict[str, Any] = {"sources": {}}
    for name, spec in all_sources().items():
        copy = base / "samples" / name
        shutil.copytree(spec.sample.parent, copy)
        poison_folder(copy)
        config["sources"][name] = {"url": (copy / spec.sample.relative_to(spec.sample.parent)).as_uri()}
    (base / "config.yaml").write_text(yaml.safe_dump(config))
    out = base / "output"
    done = subprocess.run([sys.executable, "-m", "se_pipeline.cli", "run", "--config", str(base / "config.yaml"),
                           "--output", str(out)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    return out / "latest"


def test_hostile_release_passes_the_acceptance_check(hostile_release: Path) -> None:
    if not CHECK.is_file():
        pytest.skip("../shared/acceptance/check_release.py absent")
    done = subprocess.run([sys.executable, str(CHECK), str(hostile_release)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


def test_hostile_names_are_published_as_text(hostile_release: Path) -> None:
    store = ox.Store()
    store.load(path=str(hostile_release / "dataset.ttl"), format=ox.RdfFormat.TURTLE)
    names = [r["n"].value for r in store.query("SELECT ?n WHERE { ?e <https://schema.org/name> ?n }")]
    assert any('<script>alert("x")</script>' in n for n in names)
    assert not any(ch in n for n in names for ch in "\x01\x07\x1b\x7f")


def test_hostile_values_never_take_a_whole_source_down(hostile_release: Path) -> None:
    store = ox.Store()
    store.load(path=str(hostile_release / "catalog.ttl"), format=ox.RdfFormat.TURTLE)
    stale = [r["id"].value for r in store.query("""PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?id WHERE { ?s <https://w3id.org/se-pipeline/ontology/stale> true ; dcterms:identifier ?id }""")]
    assert stale == []
    listed = {r["id"].value for r in store.query("""PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?id WHERE { ?s <https://w3id.org/se-pipeline/ontology/stale> false ; dcterms:identifier ?id }""")}
    assert listed == set(all_sources())
