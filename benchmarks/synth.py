"""Synthetic enterprises in the sources' REAL formats, for benchmarks.

    python -m benchmarks.synth N OUTDIR [--seed 42]

Writes N records spread over seven sources, each file in the exact structure of that
source's bundled sample (same columns, order, BOM, JSON envelope, GeoJSON features):

    coops_uk (CSV), dotcoop (CSV), standard_csv (CSV), fairtrade (CSV, BOM),
    wfto (JSON {"generated","total","members"}), usda_csa (JSON {"data"}),
    transformap (GeoJSON FeatureCollection)

Rows are built from the sample's *clean* rows as templates (so every code column keeps a
value the source's mapping knows) with new ids, names, addresses, coordinates, websites.
About 10% of enterprises are also listed by 1-2 other sources under another id, a
variant name ("Ltd", "Co-operative"/"Cooperative", case), the same postcode/website
domain. About 2% of rows are bad: no name, a duplicated id, a bad coordinate, a bad URL,
control characters. Deterministic for a given (N, seed); streaming (constant memory).

OUTDIR/config.yaml points each source at its file (file:// URL); every other source is
disabled (`enabled: false`).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
from pathlib import Path
from typing import Any, Callable

from se_pipeline.sources.registry import all_sources

SOURCES_DIR = Path(__file__).resolve().parent.parent / "se_pipeline" / "sources"

#: share of records per source
WEIGHTS = {"coops_uk": 25, "dotcoop": 12, "standard_csv": 15, "fairtrade": 10, "wfto": 10, "usda_csa": 13,
           "transformap": 15}

ADJ = ["Green", "Sunrise", "Riverside", "Hill", "Northern", "Harbour", "Meadow", "Oak", "Valley", "Union", "People's",
       "Common", "Fair", "Bright", "Old Mill", "Southern", "Eastside", "Prairie", "Maple", "Cedar", "Coastal", "Hazel"]
NOUN = ["Bakers", "Growers", "Weavers", "Wholefoods", "Energy", "Housing", "Printers", "Farmers", "Artisans",
        "Brewers", "Makers", "Builders", "Cleaners", "Carers", "Cyclists", "Coffee", "Textiles", "Credit", "Books"]
KIND = ["Co-operative", "Cooperative", "Co-op", "Collective", "Society", "Mutual", "Association", "Group"]
STREETS = ["Mill Lane", "High Street", "Station Road", "Church Street", "Market Square", "Harvest Way", "Rua do Vale",
           "Main Street", "Park Avenue", "Calle Mayor", "Farm Road", "Union Street"]
CITIES = ["Manchester", "Leeds", "Bristol", "Madison", "Burlington", "Coimbra", "Kathmandu", "Lima", "Kumasi",
          "Sheffield", "Glasgow", "Cardiff", "Portland", "Lisbon", "Barcelona", "Nairobi", "Quito"]


def _sample(source: str) -> Path:
    return next(p for p in sorted((SOURCES_DIR / source / "sample").iterdir()) if p.is_file())


def _clean_ids(source: str) -> set[str]:
    """Record ids of sample rows the pipeline accepts with nothing dropped (good templates)."""
    from se_pipeline.canonical.normalise import conform
    from se_pipeline.sources.base import SourceContext

    spec = all_sources()[source]
    raw = _sample(source).read_bytes()
    res = spec.parse(raw, SourceContext(source, spec.mapping, url="file://sample", encoding=None, options={}))
    canonical, quarantine, dropped, _ = conform(res.frame, source, date_order=spec.mapping.get("date_order", "dmy"),
                                             strip_html=bool(spec.mapping.get("html", False)))
    bad = {q.record_id for q in res.quarantine} | {q.record_id for q in quarantine} | {q.record_id for q in dropped}
    return {str(r) for r in canonical["record_id"]} - bad


class Entity:
    """One real-world enterprise (several sources may list it)."""

    def __init__(self, rnd: random.Random, i: int) -> None:
        self.i = i
        self.name = f"{rnd.choice(ADJ)} {rnd.choice(NOUN)} {rnd.choice(KIND)} {i}"
        self.street = f"{rnd.randint(1, 400)} {rnd.choice(STREETS)}"
        self.city = rnd.choice(CITIES)
        self.postcode = f"{rnd.choice('ABCDEFGHKLMNPRS')}{rnd.randint(1, 99)} {rnd.randint(1, 9)}{rnd.choice('ABDEFGHJLNPQRSTUWXYZ')}{rnd.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        self.lat = round(rnd.uniform(-50, 65), 5)
        self.lon = round(rnd.uniform(-120, 150), 5)
        self.domain = f"{self.name.lower().replace(' ', '').replace(chr(39), '')[:40]}.example.coop"


def variant_name(rnd: random.Random, name: str) -> str:
    choice = rnd.randrange(4)
    if choice == 0:
        return name + " Ltd"
    if choice == 1:
        return name.replace("Co-operative", "Cooperative").replace("Co-op", "Coop")
    if choice == 2:
        return name.upper()
    return "The " + name


# --- per-source writers ----------------------------------------------------------------

class Writer:
    """Streams one source's file; `emit(entity, rid, bad)` writes one record."""

    source = ""

    def __init__(self, outdir: Path, rnd: random.Random) -> None:
        self.rnd = rnd
        self.path = outdir / _sample(self.source).name
        self.count = 0
        self.ids: list[str] = []  # recent ids (for duplicate-id bad rows)

    def pick_dup_id(self, fresh: str) -> str:
        return self.ids[self.rnd.randrange(len(self.ids))] if self.ids else fresh

    def remember(self, rid: str) -> None:
        if len(self.ids) < 1000:
            self.ids.append(rid)
        else:
            self.ids[self.rnd.randrange(1000)] = rid


def _bad(rnd: random.Random) -> str:
    return rnd.choice(["noname", "dupid", "coord", "url", "control"])


class CsvWriter(Writer):
    id_col = name_col = ""
    street_col: str | None = None
    city_col: str | None = None
    postcode_col: str | None = None
    lat_col: str | None = None
    lon_col: str | None = None
    web_col: str | None = None

    def __init__(self, outdir: Path, rnd: random.Random) -> None:
        super().__init__(outdir, rnd)
        raw = _sample(self.source).read_bytes()
        self.bom = raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        self.header = rows[0]
        clean = _clean_ids(self.source)
        idx = self.header.index(self.id_col)
        self.templates = [r for r in rows[1:] if len(r) == len(self.header) and r[idx] in clean] or rows[1:]
        self.col = {c: i for i, c in enumerate(self.header) if c}
        self.f = self.path.open("w", encoding="utf-8-sig" if self.bom else "utf-8", newline="")
        self.w = csv.writer(self.f, lineterminator="\r\n" if b"\r\n" in raw[:4000] else "\n", quoting=csv.QUOTE_MINIMAL)
        self.w.writerow(self.header)

    @staticmethod
    def make_id(n: int) -> str:
        raise NotImplementedError

    def emit(self, e: Entity, name: str, bad: str | None) -> None:
        row = list(self.rnd.choice(self.templates))
        rid = self.make_id(self.count)
        if bad == "dupid":
            rid = self.pick_dup_id(rid)
        self.remember(rid)
        row[self.col[self.id_col]] = rid
        row[self.col[self.name_col]] = "" if bad == "noname" else (name[:5] + "\x07\x01" + name[5:] if bad == "control" else name)
        for attr, value in (("street_col", e.street), ("city_col", e.city), ("postcode_col", e.postcode)):
            c = getattr(self, attr)
            if c:
                row[self.col[c]] = value
        if self.lat_col and self.lon_col:
            row[self.col[self.lat_col]] = "200.5" if bad == "coord" else f"{e.lat}"
            row[self.col[self.lon_col]] = f"{e.lon}"
        if self.web_col:
            row[self.col[self.web_col]] = "htp//not a url" if bad == "url" else f"https://www.{e.domain}"
        self.fill(row, e, rid)
        self.w.writerow(row)
        self.count += 1

    def fill(self, row: list[str], e: Entity, rid: str) -> None:
        pass

    def close(self) -> None:
        self.f.close()


class CoopsUk(CsvWriter):
    source, id_col, name_col = "coops_uk", "CUK Organisation ID", "Registered Name"
    street_col, city_col, postcode_col = "Registered Street", "Registered City", "Registered Postcode"

    @staticmethod
    def make_id(n: int) -> str:
        return f"R{900000 + n:06d}"

    def fill(self, row: list[str], e: Entity, rid: str) -> None:
        row[self.col["Registered Number"]] = f"{100000 + int(rid[1:]) % 899999}R"
        row[self.col["Trading Name"]] = ""


class DotCoop(CsvWriter):
    source, id_col, name_col = "dotcoop", "RegistrantId", "Name"
    street_col, city_col, postcode_col, lat_col, lon_col = "Street", "City", "PostCode", "Latitude", "Longitude"

    @staticmethod
    def make_id(n: int) -> str:
        return f"RG-SYN{n:08d}"

    def fill(self, row: list[str], e: Entity, rid: str) -> None:
        row[self.col["Row"]] = str(1000 + self.count)
        row[self.col["Roid"]] = f"D{90000000 + self.count}-CNIC"
        row[self.col["Domain"]] = e.domain
        row[self.col["City 2"]] = e.city
        row[self.col["Zip"]] = e.postcode


class StandardCsv(CsvWriter):
    source, id_col, name_col = "standard_csv", "Identifier", "Name"
    street_col, city_col, postcode_col = "Street Address", "Locality", "Postcode"
    lat_col, lon_col, web_col = "Latitude", "Longitude", "Website"

    @staticmethod
    def make_id(n: int) -> str:
        return f"S{n + 900000}"


class Fairtrade(CsvWriter):
    source, id_col, name_col = "fairtrade", "FLO ID", "Company Name"
    city_col, street_col, postcode_col, web_col = "City", "Address", "Postal Code", "Website"

    @staticmethod
    def make_id(n: int) -> str:
        return str(100000 + n)


class JsonWriter(Writer):
    """`{"<envelope>...", "<list key>": [records...]}`, one record per line, streamed."""

    list_key = ""

    def __init__(self, outdir: Path, rnd: random.Random) -> None:
        super().__init__(outdir, rnd)
        doc = json.loads(_sample(self.source).read_text(encoding="utf-8"))
        clean = _clean_ids(self.source)
        items = doc[self.list_key]
        self.templates = [x for x in items if isinstance(x, dict) and str(self._rid(x)) in clean]
        if not self.templates:
            raise ValueError(f"{self.source}: no clean template record in the sample")
        self.envelope = {k: v for k, v in doc.items() if k != self.list_key}
        self.f = self.path.open("w", encoding="utf-8")
        self.first = True
        head = self.header(json.dumps({**self.envelope, self.list_key: []}, ensure_ascii=False))
        self.tail = head[head.rindex("[") + 1:]  # "]}" (keys after the list are kept by position below)
        self.f.write(head[: head.rindex("[") + 1] + "\n")

    def record_id(self, x: dict) -> Any:
        raise NotImplementedError

    def header(self, head: str) -> str:
        return head

    def _rid(self, x: dict) -> Any:
        try:
            return self.record_id(x)
        except (KeyError, TypeError):
            return None

    def emit(self, e: Entity, name: str, bad: str | None) -> None:
        x = json.loads(json.dumps(self.rnd.choice(self.templates)))
        self.build(x, e, name, bad)
        self.f.write(("" if self.first else ",\n") + json.dumps(x, ensure_ascii=False))
        self.first = False
        self.count += 1

    def build(self, x: dict, e: Entity, name: str, bad: str | None) -> None:
        raise NotImplementedError

    def name_for(self, name: str, bad: str | None) -> str:
        return "" if bad == "noname" else (name[:5] + "\x07\x01" + name[5:] if bad == "control" else name)

    def close(self) -> None:
        self.f.write("\n" + self.tail)
        self.f.close()


class Wfto(JsonWriter):
    source, list_key = "wfto", "members"

    def record_id(self, x: dict) -> Any:
        return x["id"]

    def header(self, head: str) -> str:
        # "total" is only known at the end: leave 12 blanks (JSON whitespace) and patch them in place
        m = re.search(r'"total": \d+', head)
        self.total_at = len(head[: m.start()].encode("utf-8")) + len('"total": ')
        return head[: m.start()] + '"total": ' + " " * 12 + head[m.end():]

    def close(self) -> None:
        super().close()
        with self.path.open("r+b") as f:
            f.seek(self.total_at)
            f.write(str(self.count).ljust(12).encode("ascii"))

    def build(self, x: dict, e: Entity, name: str, bad: str | None) -> None:
        rid = 500000 + self.count
        x["id"] = int(self.pick_dup_id(str(rid))) if bad == "dupid" else rid
        self.remember(str(x["id"]))
        x["name"] = self.name_for(name, bad)
        x["city"], x["address"] = e.city, e.street
        x["website"] = "htp//not a url" if bad == "url" else f"https://www.{e.domain}"
        x["email"] = f"info@{e.domain}"
        x["latitude"] = 200.5 if bad == "coord" else e.lat
        x["longitude"] = e.lon


class UsdaCsa(JsonWriter):
    source, list_key = "usda_csa", "data"

    def record_id(self, x: dict) -> Any:
        return x["listing_id"]

    def build(self, x: dict, e: Entity, name: str, bad: str | None) -> None:
        rid = str(7000000 + self.count)
        x["listing_id"] = self.pick_dup_id(rid) if bad == "dupid" else rid
        self.remember(x["listing_id"])
        x["listing_name"] = self.name_for(name, bad)
        x["location_address"] = f"{e.street}, {e.city}"
        x["location_city"] = e.city
        x["location_zipcode"] = f"{10000 + e.i % 89999}"
        x["location_x"] = f"{e.lon}"
        x["location_y"] = "200.5" if bad == "coord" else f"{e.lat}"
        x["media_website"] = "htp//not a url" if bad == "url" else f"https://www.{e.domain}"
        x["contact_email"] = f"share@{e.domain}"


class Transformap(JsonWriter):
    source, list_key = "transformap", "features"

    def record_id(self, x: dict) -> Any:
        return x["properties"]["_id"]

    def build(self, x: dict, e: Entity, name: str, bad: str | None) -> None:
        p = x["properties"]
        rid = f"{0xa1b2c3d4e5f6 + self.count:032x}"
        p["_id"] = self.pick_dup_id(rid) if bad == "dupid" else rid
        self.remember(p["_id"])
        p["_uri"] = f"https://data.transformap.co/place/{p['_id']}"
        p["_version"] = "v" + p["_id"]
        p["name"] = self.name_for(name, bad)
        p["addr:city"], p["addr:street"], p["addr:postcode"] = e.city, e.street.split(" ", 1)[1], e.postcode
        p["addr:housenumber"] = e.street.split(" ", 1)[0]
        p["contact:website"] = "htp//not a url" if bad == "url" else f"http://{e.domain}"
        x["geometry"] = {"type": "Point", "coordinates": [e.lon, 200.5 if bad == "coord" else e.lat]}


WRITERS: dict[str, Callable[[Path, random.Random], Writer]] = {
    "coops_uk": CoopsUk, "dotcoop": DotCoop, "standard_csv": StandardCsv, "fairtrade": Fairtrade,
    "wfto": Wfto, "usda_csa": UsdaCsa, "transformap": Transformap,
}


def generate(n: int, outdir: Path, seed: int = 42, bad_rate: float = 0.02, dup_rate: float = 0.10) -> dict[str, int]:
    """Write n records + config.yaml into outdir; returns records per source."""
    outdir.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    writers = {name: cls(outdir, random.Random(seed + k)) for k, (name, cls) in enumerate(WRITERS.items())}
    names = list(WEIGHTS)
    weights = [WEIGHTS[s] for s in names]
    written = 0
    i = 0
    while written < n:
        e = Entity(rnd, i)
        i += 1
        home = rnd.choices(names, weights)[0]
        listings = [(home, e.name)]
        if rnd.random() < dup_rate:
            others = [s for s in names if s != home]
            for s in rnd.sample(others, rnd.choice([1, 1, 2])):
                listings.append((s, variant_name(rnd, e.name)))
        for source, name in listings:
            if written >= n:
                break
            bad = _bad(rnd) if rnd.random() < bad_rate else None
            writers[source].emit(e, name, bad)
            written += 1
    for w in writers.values():
        w.close()
    counts = {name: w.count for name, w in writers.items()}
    lines = ["# generated by benchmarks/synth.py", f"# {n} records, seed {seed}", "sources:"]
    for name in sorted(all_sources()):
        if name in writers:
            lines.append(f"  {name}:\n    url: {writers[name].path.resolve().as_uri()}")
        else:
            lines.append(f"  {name}:\n    enabled: false")
    (outdir / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    counts = generate(args.n, args.outdir, args.seed)
    print(f"{sum(counts.values())} records -> {args.outdir}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
