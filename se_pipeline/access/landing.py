"""The landing page of a release: one static `index.html`, readable offline.

No external CSS, JS, fonts or images: styles are inline, and the map (`landing_map`:
country outlines, clustered points coloured by geocode precision) inlines its vendored
scripts. Every value that comes from data is escaped by Jinja2's autoescape (the map's data
travels as escaped JSON and is shown as text); the only scripts are the map's, and the
page's Content-Security-Policy allows those alone.

Inputs, all from the release directory (or the partial one being built): dataset.nq.gz
(counts, labels from the vocabulary graph, coordinates), catalog.ttl (licence,
attribution, per-source counts, stale), shacl-report.ttl and quarantine.csv
(validation), SHA256SUMS (checksums; hashed directly when not written yet), and the
example queries in queries/*.rq.
"""
from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pyoxigraph as ox

from se_pipeline import QUERIES_DIR
from se_pipeline.access.landing_map import csp, map_block, render_map
from se_pipeline.files import read_digests, sha256_file
from se_pipeline.namespaces import DCAT, DCTERMS, ESSGLOBAL, GEO, RDF_TYPE, SCHEMA, SE_SOURCE, SEP, SH, SKOS, VOID
from se_pipeline.release.publish import release_id_of

LANGS = ("en", "fr", "es", "pt")
SKIP_DOWNLOADS = {"index.html"}


@dataclass
class Count:
    key: str
    label: str
    n: int
    other_labels: str = ""


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
    map_html: str = ""
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

    def add(self, store: ox.Store) -> None:
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

    def concept_counts(self, predicate: str, lang: str = "en") -> list[Count]:
        """Enterprises per concept, labelled in ONE language (`lang`, else another of LANGS, else
        the concept's code); the labels in the other languages go to `other_labels` (hover)."""
        out = []
        for concept, n in sorted(self.concepts.get(predicate, Counter()).items(), key=lambda kv: (-kv[1], kv[0])):
            labels = self.labels.get(concept, {})
            shown = next((x for x in (lang, *LANGS) if labels.get(x)), "")
            main = labels[shown] if shown else concept.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            others = " · ".join(f"{x}: {labels[x]}" for x in LANGS if x != shown and x in labels)
            out.append(Count(concept, main, n, others))
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
    block = map_block(data.coords, data.enterprises)
    page.map_html, page.csp = render_map(block), csp(block)

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


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{{ p.csp }}">
<title>{{ p.title }} — release {{ p.release_id }}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:72rem;margin:0 auto;padding:1.5rem}
h1{margin:.2rem 0 .4rem;font-size:1.8rem}h2{margin-top:2rem;border-bottom:2px solid #e6007e33;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.92rem}
th,td{overflow-wrap:anywhere;border-bottom:1px solid #e3e3e3;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f4}td.n{text-align:right;overflow-wrap:normal;white-space:nowrap;font-variant-numeric:tabular-nums}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}
.kpi{display:flex;gap:2rem;flex-wrap:wrap}.kpi div{background:#fff;border:1px solid #e3e3e3;padding:.6rem 1rem;border-radius:.4rem}
.kpi b{display:block;font-size:1.5rem}.muted{color:#666;font-size:.85rem}
pre{background:#fff;border:1px solid #e3e3e3;padding:.6rem;overflow-x:auto;font-size:.85rem}
code{font-size:.88em;word-break:break-all}
.stale{color:#b00020;font-weight:600}
</style>
</head>
<body><main>
<p class="muted">se-pipeline release <span id="release-id">{{ p.release_id }}</span>{% if p.issued %} · issued {{ p.issued }}{% endif %}</p>
<h1>{{ p.title }}</h1>
<p>{{ p.description }}</p>
<div class="kpi">
<div><b id="total-enterprises">{{ p.total_enterprises }}</b>enterprises</div>
<div><b id="total-triples">{{ p.total_triples }}</b>triples</div>
<div><b id="total-sources">{{ p.sources|length }}</b>sources</div>
<div><b id="total-quarantined">{{ p.quarantine_total }}</b>records quarantined</div>
</div>
{% if p.licence %}<p>Release licence: <a href="{{ p.licence|weblink }}">{{ p.licence }}</a>. Each source keeps its own licence and attribution, below.</p>{% endif %}

{{ p.map_html }}

<h2 id="sources">Sources, licences and attribution</h2>
<table id="sources-table"><thead><tr><th>source</th><th>publisher</th><th>licence</th><th>attribution</th><th>enterprises</th><th>triples</th><th>quarantined</th><th>status</th></tr></thead><tbody>
{% for s in p.sources %}<tr data-source="{{ s.name }}"><td>{% if s.homepage %}<a href="{{ s.homepage|weblink }}">{{ s.title or s.name }}</a>{% else %}{{ s.title or s.name }}{% endif %}<br><code>{{ s.name }}</code></td>
<td>{{ s.publisher }}</td><td>{% if s.licence %}<a href="{{ s.licence|weblink }}">{{ s.licence.split("://", 1)[-1] }}</a>{% endif %}</td><td>{{ s.attribution }}</td>
<td class="n">{{ s.enterprises }}</td><td class="n">{{ s.triples }}</td><td class="n">{{ s.quarantined }}</td>
<td>{% if s.stale %}<span class="stale">stale</span> {{ s.stale_reason }}{% else %}fresh{% endif %}</td></tr>
{% endfor %}</tbody></table>

<h2 id="counts">Counts</h2>
<p class="muted">Concepts are labelled in English; hover a label for French, Spanish and Portuguese, and the concept's IRI.</p>
<div class="grid">
{% for title, id, rows in [("By source", "by-source", p.by_source), ("By country", "by-country", p.by_country), ("By organisational structure", "by-structure", p.by_structure), ("By activity (primary sector)", "by-activity", p.by_activity)] %}
<section><h3>{{ title }}</h3><table id="{{ id }}"><tbody>
{% for c in rows %}<tr><td title="{% if c.other_labels %}{{ c.other_labels }}&#10;{% endif %}{{ c.key }}">{{ c.label }}</td><td class="n">{{ c.n }}</td></tr>
{% else %}<tr><td class="muted">none</td></tr>{% endfor %}
</tbody></table></section>
{% endfor %}
</div>

<h2 id="validation">Validation and quarantine</h2>
<p>Published data conforms to the SHACL shapes: <b id="conforms">{{ p.conforms }}</b>{% if p.shacl_results %} ({{ p.shacl_results|sum(attribute="n") }} results){% endif %}.
Records quarantined (not published): <b>{{ p.quarantine_total }}</b>; values dropped from published records: <b>{{ p.dropped_total }}</b>.
Details: <a href="shacl-report.ttl">shacl-report.ttl</a>, <a href="quarantine.csv">quarantine.csv</a>, <a href="dropped-values.csv">dropped-values.csv</a>.</p>
{% if p.shacl_results %}<table id="shacl-results"><tbody>{% for c in p.shacl_results %}<tr><td>{{ c.label }}</td><td class="n">{{ c.n }}</td></tr>{% endfor %}</tbody></table>{% endif %}
<table id="quarantine"><thead><tr><th>source</th><th>reason</th><th>records</th></tr></thead><tbody>
{% for s, r, n in p.quarantine %}<tr><td>{{ s }}</td><td>{{ r }}</td><td class="n">{{ n }}</td></tr>
{% else %}<tr><td colspan="3" class="muted">nothing quarantined</td></tr>{% endfor %}</tbody></table>

<h2 id="queries">Example queries</h2>
<p>Run them with <code>se-pipeline query @queries/&lt;file&gt;</code> or against the SPARQL endpoint (<code>se-pipeline serve</code>).</p>
{% for file, title, text in p.queries %}<h3>{{ title }} <span class="muted">{{ file }}</span></h3>
<pre>{{ text }}</pre>
{% endfor %}

<h2 id="downloads">Downloads</h2>
<table id="downloads-table"><thead><tr><th>file</th><th>bytes</th><th>sha256</th></tr></thead><tbody>
{% for name, size, digest in p.downloads %}<tr><td><a href="{{ name }}">{{ name }}</a></td><td class="n">{{ size }}</td><td><code>{{ digest }}</code></td></tr>
{% endfor %}</tbody></table>
{% if "changes.ttl" in p.downloads|map(attribute=0) %}<p id="event-stream">Follow the changes instead of downloading every release: <a href="changes.ttl">changes.ttl</a> is a Linked Data Event Stream of every record added, changed or withdrawn, release by release.</p>{% endif %}
<p class="muted">Verify with <code>sha256sum -c SHA256SUMS</code>.</p>
</main></body></html>
"""


def render(page: Page) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    # only web links from data become hrefs (no javascript: or data: URLs)
    env.filters["weblink"] = lambda v: v if str(v).startswith(("http://", "https://")) else "#"
    return env.from_string(TEMPLATE).render(p=page)


def write_landing_page(release_dir_or_partial: Path, target: Path, *, queries_dir: Path | None = None,
                       data: DataCounts | None = None, digests: dict[str, str] | None = None) -> None:
    """Write the release's static landing page to `target` (usually `<release>/index.html`)."""
    html_text = render(collect(Path(release_dir_or_partial), queries_dir, data, digests))
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(html_text, encoding="utf-8")
    tmp.replace(target)
