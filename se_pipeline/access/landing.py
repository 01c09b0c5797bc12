"""The landing page of a release: one static `index.html`, readable offline.

No external CSS, JS, fonts or images: styles are inline, and the map (`landing_map`:
country outlines, clustered points coloured by geocode precision) inlines its vendored
scripts. This module gathers what the page shows (`collect` -> `Page`);
`templates/landing.html` makes the markup, every value from data escaped by Jinja2's
autoescape, and links from data only when they are http(s). The map's data travels as
escaped JSON and is shown as text; the only scripts are the map's, and the page's
Content-Security-Policy allows those alone.

Inputs, all from the release directory (or the partial one being built): dataset.nq.gz
(counts, labels from the vocabulary graph, coordinates), catalog.ttl (licence,
attribution, per-source counts, stale), shacl-report.ttl and quarantine.csv
(validation), SHA256SUMS (checksums; hashed directly when not written yet), and the
example queries in queries/*.rq.
"""
from __future__ import annotations

import csv
import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from se_pipeline import QUERIES_DIR
from se_pipeline.access import pages
from se_pipeline.access.landing_map import MapBlock, csp, map_block
from se_pipeline.access.pages import DEFAULT_LANG, LANGS, file_alternates, file_name
from se_pipeline.files import read_digests, sha256_file
from se_pipeline.namespaces import DCAT, DCTERMS, ESSGLOBAL, GEO, RDF_TYPE, SCHEMA, SE_SOURCE, SEP, SH, SKOS, VOID
from se_pipeline.release.publish import release_id_of


SKIP_DOWNLOADS = {file_name("index.html", lang) for lang in LANGS}  # the page itself, in every language


@dataclass
class Count:
    key: str
    label: str
    n: int
    other_labels: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # lang -> label, when the key is a concept

    def in_language(self, lang: str) -> Count:
        """This count labelled in `lang` (else English, else as it is), the other labels beside."""
        shown = next((x for x in (lang, DEFAULT_LANG) if self.labels.get(x)), "")
        if not shown:
            return self
        others = " · ".join(f"{x}: {self.labels[x]}" for x in LANGS if x != shown and x in self.labels)
        return replace(self, label=self.labels[shown], other_labels=others)


@dataclass
class SourceRow:
    name: str
    title: str = ""
    publisher: str = ""
    homepage: str = ""
    licence: str = ""
    attribution: str = ""
    enterprises: int = 0
    triples: int = 0
    quarantined: int = 0
    stale: bool = False
    stale_reason: str = ""


@dataclass
class Page:
    release_id: str
    title: str = "Solidarity economy enterprises"
    description: str = ""
    issued: str = ""
    licence: str = ""
    total_enterprises: int = 0
    total_triples: int = 0
    sources: list[SourceRow] = field(default_factory=list)
    by_source: list[Count] = field(default_factory=list)
    by_country: list[Count] = field(default_factory=list)
    by_structure: list[Count] = field(default_factory=list)
    by_activity: list[Count] = field(default_factory=list)
    conforms: str = "unknown"
    shacl_results: list[Count] = field(default_factory=list)
    quarantine: list[tuple[str, str, int]] = field(default_factory=list)
    quarantine_total: int = 0
    dropped_total: int = 0
    map: MapBlock | None = None
    csp: str = "default-src 'none'; style-src 'unsafe-inline'"
    queries: list[tuple[str, str, str]] = field(default_factory=list)  # (file, title, text)
    downloads: list[tuple[str, int, str]] = field(default_factory=list)  # (name, size, sha256)


def _first(store: ox.Store, s: ox.NamedNode, p: str) -> str:
    for q in store.quads_for_pattern(s, ox.NamedNode(p), None, None):
        return q.object.value
    return ""


_ENTERPRISES = f"""SELECT ?e (MIN(STR(?src)) AS ?source) (MIN(STR(?cty)) AS ?country) (MIN(STR(?la)) AS ?lat)
       (MIN(STR(?lo)) AS ?long) (MIN(STR(?n)) AS ?name) (MIN(STR(?pr)) AS ?precision) WHERE {{
  ?e <{RDF_TYPE}> <{ESSGLOBAL}SSEInitiative> .
  OPTIONAL {{ ?e <{DCTERMS}source> ?src }}
  OPTIONAL {{ ?e <{ESSGLOBAL}hasAddress> ?a . ?a <{SCHEMA}addressCountry> ?cty }}
  OPTIONAL {{ ?e <{GEO}lat> ?la }} OPTIONAL {{ ?e <{GEO}long> ?lo }} OPTIONAL {{ ?e <{SCHEMA}name> ?n }}
  OPTIONAL {{ ?e <{SEP}geocodePrecision> ?pr }}
}} GROUP BY ?e"""
_CONCEPTS = f"""SELECT ?p ?c (COUNT(DISTINCT ?e) AS ?n) WHERE {{
  ?e <{RDF_TYPE}> <{ESSGLOBAL}SSEInitiative> ; ?p ?c .
  VALUES ?p {{ <{ESSGLOBAL}organisationalStructure> <{ESSGLOBAL}primarySector> }}
}} GROUP BY ?p ?c"""
_LABELS = f"SELECT ?c ?l WHERE {{ ?c <{SKOS}prefLabel> ?l }}"


@dataclass
class DataCounts:
    """What the page shows about the data itself, added store by store: the release build
    feeds it each graph's store as it writes the datasets (no re-read of the N-Quads);
    `collect` feeds it the whole published dataset when a page is regenerated."""

    triples: int = 0
    enterprises: int = 0
    by_source: Counter[str] = field(default_factory=Counter)
    by_country: Counter[str] = field(default_factory=Counter)
    coords: list[tuple[str, float, float, str, str]] = field(default_factory=list)  # (IRI, lat, long, name, precision)
    concepts: dict[str, Counter[str]] = field(default_factory=dict)            # predicate -> concept -> n
    labels: dict[str, dict[str, str]] = field(default_factory=dict)            # concept -> lang -> label
    #: The map of `coords`, made once however many times the page is written (the release
    #: writes it again with its final size: at 10^6 points each map took seconds).
    _map: MapBlock | None = field(default=None, init=False, repr=False, compare=False)

    def map(self) -> MapBlock:
        """The page's map of the located enterprises (`landing_map.map_block`)."""
        if self._map is None:
            self._map = map_block(self.coords, self.enterprises)
        return self._map

    def add(self, store: ox.Store) -> None:
        self._map = None
        self.triples += len(store)
        for row in store.query(_ENTERPRISES, use_default_graph_as_union=True):
            self.enterprises += 1
            src, country, name = (row[k].value if row[k] is not None else "" for k in ("source", "country", "name"))
            self.by_source[src.rsplit("/", 1)[-1] if src else "(none)"] += 1
            self.by_country[country or "(unknown)"] += 1
            try:
                la, lo = float(row["lat"].value), float(row["long"].value)
            except (AttributeError, ValueError):  # missing (None) or not a number
                continue
            if -90 <= la <= 90 and -180 <= lo <= 180:
                precision = row["precision"].value if row["precision"] is not None else ""
                self.coords.append((row["e"].value, la, lo, name, precision))
        for row in store.query(_CONCEPTS, use_default_graph_as_union=True):
            self.concepts.setdefault(row["p"].value, Counter())[row["c"].value] += int(row["n"].value)
        for row in store.query(_LABELS, use_default_graph_as_union=True):
            label = row["l"]
            if isinstance(label, ox.Literal) and (label.language or "en") in LANGS:
                self.labels.setdefault(row["c"].value, {}).setdefault(label.language or "en", label.value)

    def record(self) -> dict[str, Any]:
        """The counts as plain JSON values, for the release ledger (`release.ledger`); the
        coordinates as one JSON text (`coords_text`), decoded only for the page."""
        return {"triples": self.triples, "enterprises": self.enterprises, "by_source": self.by_source,
                "by_country": self.by_country, "coords": self.coords_text(), "concepts": self.concepts,
                "labels": self.labels}

    def coords_text(self) -> str:
        return json.dumps(self.coords, separators=(",", ":"))

    def add_record(self, record: dict[str, Any]) -> None:
        """These counts as if they had been fed, after the earlier ones, the store whose
        `record()` this is (the same order of keys and first labels as `add`), but its
        coordinates: those are the caller's (`add_coords`), who may decode them later."""
        self._map = None
        self.triples += record["triples"]
        self.enterprises += record["enterprises"]
        self.by_source.update(record["by_source"])
        self.by_country.update(record["by_country"])
        for predicate, counts in record["concepts"].items():
            self.concepts.setdefault(predicate, Counter()).update(counts)
        for concept, labels in record["labels"].items():
            for lang, label in labels.items():
                self.labels.setdefault(concept, {}).setdefault(lang, label)

    def add_coords(self, text: str) -> None:
        """Coordinates from a `coords_text`, after those already here."""
        self._map = None
        self.coords.extend(tuple(c) for c in json.loads(text))

    def concept_counts(self, predicate: str, lang: str = "en") -> list[Count]:
        """Enterprises per concept, labelled in ONE language (`lang`, else another of LANGS, else
        the concept's code); the labels in the other languages go to `other_labels` (hover)."""
        out = []
        for concept, n in sorted(self.concepts.get(predicate, Counter()).items(), key=lambda kv: (-kv[1], kv[0])):
            labels = self.labels.get(concept, {})
            shown = next((x for x in (lang, *LANGS) if labels.get(x)), "")
            main = labels[shown] if shown else concept.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            others = " · ".join(f"{x}: {labels[x]}" for x in LANGS if x != shown and x in labels)
            out.append(Count(concept, main, n, others, labels))
        return out


def collect(release: Path, queries_dir: Path | None = None, data: DataCounts | None = None,
            digests: dict[str, str] | None = None) -> Page:
    """Everything the page shows, read from the release files (`data`: the counts of its
    datasets when the caller has them already, else taken from dataset.nq.gz; `digests`:
    file name -> SHA-256 already taken, else from SHA256SUMS, else hashed here)."""
    release = release.resolve()
    page = Page(release_id=release_id_of(release))
    if data is None:
        data = DataCounts()
        store = ox.Store()
        with gzip.open(release / "dataset.nq.gz", "rb") as f:
            store.load(f, format=ox.RdfFormat.N_QUADS)
        data.add(store)
    page.total_triples = data.triples
    page.total_enterprises = data.enterprises
    by_source = data.by_source
    page.by_country = [Count(k, k, n) for k, n in sorted(data.by_country.items(), key=lambda kv: (-kv[1], kv[0]))]
    page.by_structure = data.concept_counts(ESSGLOBAL + "organisationalStructure")
    page.by_activity = data.concept_counts(ESSGLOBAL + "primarySector")
    block = data.map()
    page.map, page.csp = block, csp(block)

    catalog = release / "catalog.ttl"
    titles: dict[str, str] = {}
    if catalog.is_file():
        cat = ox.Store()
        cat.load(path=str(catalog), format=ox.RdfFormat.TURTLE)
        for q in cat.quads_for_pattern(None, ox.NamedNode(VOID + "subset"), None, None):
            rel = q.subject
            page.title = _first(cat, rel, DCTERMS + "title") or page.title
            page.description = _first(cat, rel, DCTERMS + "description")
            page.issued = _first(cat, rel, DCTERMS + "issued")
            page.licence = _first(cat, rel, DCTERMS + "license")
            break
        for q in cat.quads_for_pattern(None, ox.NamedNode(SEP + "namedGraph"), None, None):
            ds = q.subject
            name = _first(cat, ds, DCTERMS + "identifier") or ds.value.rsplit("/", 1)[-1]
            row = SourceRow(
                name=name, title=_first(cat, ds, DCTERMS + "title"), publisher=_first(cat, ds, DCTERMS + "publisher"),
                homepage=_first(cat, ds, DCAT + "landingPage"), licence=_first(cat, ds, DCTERMS + "license"),
                attribution=_first(cat, ds, SEP + "attribution"),
                enterprises=by_source.get(name, 0), triples=int(_first(cat, ds, VOID + "triples") or 0),
                quarantined=int(_first(cat, ds, SEP + "quarantinedRecords") or 0),
                stale=_first(cat, ds, SEP + "stale") == "true", stale_reason=_first(cat, ds, SEP + "staleReason"))
            page.sources.append(row)
            titles[name] = row.title
        page.sources.sort(key=lambda r: r.name)
    page.by_source = [Count(SE_SOURCE + k, titles.get(k) or k, n, k)
                      for k, n in sorted(by_source.items(), key=lambda kv: (-kv[1], kv[0]))]

    report = release / "shacl-report.ttl"
    if report.is_file():
        rep = ox.Store()
        rep.load(path=str(report), format=ox.RdfFormat.TURTLE)
        conforms = [q.object.value for q in rep.quads_for_pattern(None, ox.NamedNode(SH + "conforms"), None, None)]
        page.conforms = "yes" if conforms == ["true"] else ("no" if conforms else "unknown")
        results: Counter[str] = Counter()
        for q in rep.quads_for_pattern(None, ox.NamedNode(SH + "result"), None, None):
            sev = _first(rep, q.object, SH + "resultSeverity").rsplit("#", 1)[-1] or "Violation"
            path = _first(rep, q.object, SH + "resultPath")
            results[f"{sev}: {path.rsplit('/', 1)[-1].rsplit('#', 1)[-1] or 'node'}"] += 1
        page.shacl_results = [Count(k, k, n) for k, n in results.most_common()]

    def reasons(path: Path) -> tuple[Counter[tuple[str, str]], int]:
        c: Counter[tuple[str, str]] = Counter()
        total = 0
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    total += 1
                    reason = (row.get("reason") or "").split(";", 1)[0].strip()
                    c[(row.get("source") or "", re.sub(r"\d+", "N", reason) if len(reason) > 60 else reason)] += 1
        return c, total

    q_counts, page.quarantine_total = reasons(release / "quarantine.csv")
    page.quarantine = [(s, r, n) for (s, r), n in sorted(q_counts.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1]))]
    page.dropped_total = reasons(release / "dropped-values.csv")[1]

    qdir = queries_dir or QUERIES_DIR
    for rq in sorted(qdir.glob("*.rq")) if qdir.is_dir() else []:
        text = rq.read_text(encoding="utf-8")
        first = text.splitlines()[0] if text else ""
        title = first.lstrip("#").strip() if first.startswith("#") else rq.stem.replace("_", " ")
        page.queries.append((rq.name, title, text))

    sums_file = release / "SHA256SUMS"
    sums = {**(read_digests(sums_file) if sums_file.is_file() else {}), **(digests or {})}
    for path in sorted(release.iterdir()):
        if path.is_file() and path.name not in SKIP_DOWNLOADS and path.name != "SHA256SUMS":
            page.downloads.append((path.name, path.stat().st_size, sums.get(path.name) or sha256_file(path)))
    return page


def render(page: Page, lang: str = DEFAULT_LANG, name: str = "index.html") -> str:
    """The page's HTML in language `lang` (`templates/landing.html`), concepts labelled in
    it; `name` is its file's name, which its links to the other languages derive from."""
    localised = replace(page, by_structure=[c.in_language(lang) for c in page.by_structure],
                        by_activity=[c.in_language(lang) for c in page.by_activity])
    return pages.render("landing.html", lang, file_alternates(name), p=localised)


def write_landing_page(release_dir_or_partial: Path, target: Path, *, queries_dir: Path | None = None,
                       data: DataCounts | None = None, digests: dict[str, str] | None = None) -> None:
    """Write the release's static landing page to `target` (usually `<release>/index.html`)
    in English and beside it in the other languages (`index.fr.html`, ...: `pages.file_name`)."""
    page = collect(Path(release_dir_or_partial), queries_dir, data, digests)
    for lang in LANGS:
        path = target.with_name(file_name(target.name, lang))
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(render(page, lang, target.name), encoding="utf-8")
        tmp.replace(path)
