"""The document behind an enterprise IRI: its description as Turtle, JSON-LD or HTML.

The description is CBD-style: every triple (any graph) whose subject is the enterprise
IRI or its `#address` node. The HTML page adds, for display only, the labels of the
concepts it points at (from the release's vocabulary graph, four languages) and the
names of the records it is linked to by `owl:sameAs` in either direction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable, Mapping

import pyoxigraph as ox
from markupsafe import Markup

from se_pipeline.access.pages import (
    DEFAULT_LANG, LANGS, QUERY_ALTERNATES, html_text, page_lang, render, template, weblink, words,
)
from se_pipeline.namespaces import DCTERMS, OWL, PREFIXES, RDF_TYPE, SCHEMA, SKOS
from se_pipeline.rdf.vocabulary import VOCABULARY_GRAPH
from se_pipeline.release import jsonld


NAME = SCHEMA + "name"
SAME_AS = OWL + "sameAs"


@dataclass
class Description:
    """What is known about one IRI, as plain data (terms pickle, so it crosses processes)."""

    iri: str
    statements: tuple[ox.Triple, ...] = ()                            # the CBD, in document order
    labels: dict[str, dict[str, str]] = field(default_factory=dict)   # concept -> lang -> label
    same_as: list[tuple[str, str]] = field(default_factory=list)      # (other IRI, its name)
    #: base IRI -> what its pages share whatever their language (`to_html` fills it)
    page_parts: dict[str, "_PageParts"] = field(default_factory=dict, repr=False, compare=False)

    @property
    def found(self) -> bool:
        return bool(self.statements)

    def triples(self) -> list[ox.Triple]:
        return list(self.statements)


def describe(store: ox.Store, iri: str, label_cache: dict[str, dict[str, str]] | None = None,
             names: Mapping[str, str] | None = None) -> Description:
    """The description of `iri` from `store` (empty if the IRI is not a subject).

    `names` (IRI -> schema:name) gives the names of linked records the store does not
    hold, when it holds one source's graph rather than the release (`access.doc_partitions`).
    `label_cache` (concept IRI -> labels) lets a caller describing many IRIs of one store
    look each concept's labels up once instead of once per enterprise.
    """
    named = ox.NamedNode
    subject = named(iri)
    statements = [q.triple for s in (subject, named(address_of(iri)))
                  for q in store.quads_for_pattern(s, None, None, None)]
    incoming = [q.subject.value for q in store.quads_for_pattern(None, named(SAME_AS), subject, None)
                if type(q.subject) is named]
    cache = {} if label_cache is None else label_cache

    def labels_of(concept: str) -> dict[str, str]:
        found = cache.get(concept)
        if found is None:
            found = cache[concept] = _labels_of(store, named(concept))
        return found

    def name_of(other: str) -> str:
        for q in store.quads_for_pattern(named(other), named(NAME), None, None):
            return q.object.value
        return (names or {}).get(other, "")

    return description(iri, statements, incoming, labels_of, name_of)


def address_of(iri: str) -> str:
    """The IRI of a record's address node."""
    return iri.split("#", 1)[0] + "#address"


def description(iri: str, statements: Iterable[ox.Triple], incoming_same_as: Iterable[str],
                labels_of: Callable[[str], dict[str, str]], name_of: Callable[[str], str]) -> Description:
    """The description of `iri` from what is known about it, wherever that was gathered
    (a store, or a record's lines in its graph file: `access.doc_partitions`), so every
    document is made by this one function.

    `statements` may hold any triples (duplicates, other subjects: only those of `iri`
    and its address node count); `incoming_same_as` are the IRIs that point at `iri` by
    `owl:sameAs`; `labels_of(concept)` and `name_of(record)` look up what a page shows
    for the IRIs it links to.
    """
    named = ox.NamedNode
    address = address_of(iri)
    # One order whatever order the statements came in (documents are reproducible):
    # the IRI's own statements first, types first, then by property and value; a
    # statement held by several graphs once. The same pass looks up the labels of the
    # concepts pointed at and notes outgoing `owl:sameAs` (one pass over the terms).
    keyed: dict[tuple[int, bool, str, str], ox.Triple] = {}
    labels: dict[str, dict[str, str]] = {}
    others: dict[str, str] = {}
    for t in statements:
        s = t.subject
        if type(s) is not named:
            continue
        v = s.value
        rank = 0 if v == iri else 1 if v == address else -1
        if rank < 0:
            continue
        p = t.predicate.value
        o = t.object
        key = (rank, p != RDF_TYPE, p, str(o))
        if key in keyed:
            continue
        keyed[key] = t
        if type(o) is named:
            if p == SAME_AS:
                if rank == 0:
                    others[o.value] = ""
                continue
            found = labels_of(o.value)
            if found:
                labels[o.value] = found
    if not keyed:
        return Description(iri)
    for other in incoming_same_as:
        others[other] = ""
    others.pop(iri, None)
    for other in others:
        others[other] = name_of(other)
    return Description(iri, tuple(keyed[k] for k in sorted(keyed)), labels, sorted(others.items()))


def is_typed(d: Description) -> bool:
    """Whether the IRI itself has an `rdf:type` (what makes it a record with documents):
    types sort first among its own statements."""
    return bool(d.statements) and d.statements[0].predicate.value == RDF_TYPE and d.statements[0].subject.value == d.iri


def pick_labels(candidates: Iterable[tuple[str | None, str, bool]]) -> dict[str, str]:
    """A concept's label per language (in `LANGS`; no language tag reads as English) from
    (language, label, from our vocabulary) candidates: our vocabulary's label first, then
    the smallest, so the choice does not depend on the order the labels were read in."""
    best: dict[str, tuple[bool, str]] = {}
    for lang, value, ours in candidates:
        lang = lang or "en"
        if lang in LANGS:
            rank = (not ours, value)
            if lang not in best or rank < best[lang]:
                best[lang] = rank
    return {lang: best[lang][1] for lang in LANGS if lang in best}


def _labels_of(store: ox.Store, concept: ox.NamedNode) -> dict[str, str]:
    vocabulary = ox.NamedNode(VOCABULARY_GRAPH)
    return pick_labels((q.object.language, q.object.value, q.graph_name == vocabulary)
                       for q in store.quads_for_pattern(concept, ox.NamedNode(SKOS + "prefLabel"), None, None)
                       if isinstance(q.object, ox.Literal))


def to_turtle(d: Description) -> bytes:
    return ox.serialize(d.triples(), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)


def jsonld_document(triples: Iterable[ox.Triple]) -> dict:
    """Statements as one JSON-LD document with our terms and the context it uses embedded:
    one framed object for one record (`release.jsonld.document`)."""
    return jsonld.document(triples)


def to_jsonld(d: Description) -> bytes:
    """The record's JSON-LD document: one object, its address embedded, plain JSON values
    (`doc["name"]`, `doc["address"]["postalCode"]`), its context embedded."""
    return jsonld.frame_json(d.iri, d.statements).encode("utf-8")


@lru_cache(maxsize=1 << 14)
def _curie(iri: str) -> str:
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")) and "/" not in iri[len(ns):]:
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]):]}" if best else iri


def local_href(iri: str, base_iri: str, suffix: str = "") -> str:
    """A link to another record: relative (on this server / in this folder) when it is ours."""
    if iri.startswith(base_iri):
        return "/id/" + iri[len(base_iri):] + suffix
    return iri


def _href(iri: str, base_iri: str) -> str | None:
    """Where a link to `iri` points: ours relative, other http(s) IRIs as they are, and
    no link at all for other schemes (`javascript:`, `data:`), which come from data."""
    href = local_href(iri, base_iri)
    return None if href == iri and not weblink(iri) else href


#: A table row as `templates/enterprise_row.html` shows it:
#: (property CURIE, text, link or None, link title, other languages' labels, language or datatype).
Row = tuple[str, str, "str | None", str, str, str]


@lru_cache(maxsize=None)
def _row_macro() -> Callable[..., Markup]:
    """The `row` macro of `templates/enterprise_row.html` (rows have no interface words:
    the default language's environment renders them for every page)."""
    return template("enterprise_row.html").module.row  # type: ignore[no-any-return]


def _row_html(row: Row) -> Markup:
    return _row_macro()(*row)


@lru_cache(maxsize=1 << 14)
def _iri_row(predicate: str, value: str, base_iri: str) -> Markup:
    """A row whose value is an IRI without labels, shown by its CURIE (the same in every
    language). Cached: a release links the same few hundred IRIs from every page."""
    return _row_html((_curie(predicate), _curie(value), _href(value, base_iri), "", "", ""))


@lru_cache(maxsize=1 << 14)
def _concept_row(predicate: str, value: str, base_iri: str, labels: tuple[tuple[str, str], ...]) -> dict[str, Markup]:
    """A row whose value is a concept, by language: shown by its label in the page's
    language, else English, the other languages beside. Cached, and made for every
    language at once: a release links the same few hundred concepts from every page."""
    by = dict(labels)
    rows: dict[str, Markup] = {}
    for lang in LANGS:
        shown = next((x for x in (lang, DEFAULT_LANG) if x in by), labels[0][0])
        more = " · ".join(f"{x}: {by[x]}" for x in LANGS if x in by and x != shown)
        rows[lang] = _row_html((_curie(predicate), by[shown], _href(value, base_iri), value, more, ""))
    return rows


@lru_cache(maxsize=1 << 10)
def _literal_tag(language: str | None, datatype: str | None) -> str:
    """What a literal's value is followed by: its language, or a datatype other than xsd:string."""
    if language:
        return "@" + language
    if datatype and datatype != "http://www.w3.org/2001/XMLSchema#string":
        return _curie(datatype)
    return ""


_SOURCE = DCTERMS + "source"


def _row_order(row: tuple[str, object]) -> tuple[bool, bool, str]:
    """Types first, then the name, then by property (stable: values keep their order)."""
    p = row[0]
    return p != RDF_TYPE, p != NAME, p


#: A table of a record's page before its language is known: its rows as markup, or, when
#: it shows concepts (whose rows read differently in each language), pieces to join per
#: language: runs of rows as markup, and each concept's row by language.
_Table = Markup | list["str | dict[str, Markup]"]


def _rows(keyed: list[tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]], d: Description,
          base_iri: str) -> _Table:
    """The rows of one table in page order; `owl:sameAs` has its own list."""
    pieces: list[str | dict[str, Markup]] = []
    run: list[Markup] = []
    labels = d.labels
    for p, o in sorted(keyed, key=_row_order):
        if p == SAME_AS:
            continue
        kind = type(o)
        if kind is ox.NamedNode:
            v = o.value
            if v in labels:
                if run:
                    pieces.append("\n".join(run))
                    run = []
                pieces.append(_concept_row(p, v, base_iri, tuple(labels[v].items())))
            else:
                run.append(_iri_row(p, v, base_iri))
        elif kind is ox.Literal:
            datatype = o.datatype
            run.append(_row_html((_curie(p), o.value, None, "", "", _literal_tag(o.language, datatype.value if datatype else None))))
        else:
            run.append(_row_html((_curie(p), str(o), None, "", "", "")))
    if not pieces:
        return Markup("\n".join(run))
    if run:
        pieces.append("\n".join(run))
    return pieces


def _table(table: _Table, lang: str) -> Markup:
    """A table's rows in language `lang`, as markup (rows are made by `enterprise_row.html`:
    joined as text, not escaped again)."""
    if type(table) is Markup:
        return table
    return Markup("\n".join([x if type(x) is str else x[lang] for x in table]))  # type: ignore[index, union-attr]


@dataclass(frozen=True)
class _PageParts:
    """What a record's page shows whatever its language, worked out once for all of them."""

    title: str
    title_html: str  # as the frame's stand-in is replaced by it (`to_html`)
    source: tuple[str, str | None] | None
    tables: list[tuple[str, _Table]]
    same_as: list[tuple[str, str | None, str]]


def _page_parts(d: Description, base_iri: str) -> _PageParts:
    """The language-independent parts of `d`'s page, kept on `d` (per base IRI) so its
    pages in the other languages reuse them."""
    found = d.page_parts.get(base_iri)
    if found is not None:
        return found
    main: list[tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]] = []
    addr: list[tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]] = []
    name: str | None = None  # the first of each, as given
    source: str | None = None
    iri = d.iri
    for t in d.statements:  # each term's value read once
        p, o = t.predicate.value, t.object
        if t.subject.value == iri:
            main.append((p, o))
            if p == NAME and name is None:
                name = o.value
            elif p == _SOURCE and source is None:
                source = o.value
        else:
            addr.append((p, o))
    tables = [("", _rows(main, d, base_iri))]
    if addr:
        tables.append(("address", _rows(addr, d, base_iri)))
    title = iri if name is None else name
    found = d.page_parts[base_iri] = _PageParts(
        title=title, title_html=html_text(title),
        source=(source.rsplit("/", 1)[-1], source if weblink(source) else None) if source else None,
        tables=tables, same_as=[(n or o, _href(o, base_iri), o) for o, n in d.same_as])
    return found


#: Stand-ins for what a page's frame (`_frame`) takes from its record: its file name (in
#: the links to its other languages), its title and its content. Control characters no
#: template or catalogue holds; only the frame is split at them, never a record's values.
_LINK, _TITLE, _MAIN = "\x00", "\x01", "\x02"
_STAND_INS = re.compile("([\x00-\x02])")


@lru_cache(maxsize=64)
def _frame(lang: str, alternates: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """The page's frame in `lang` with links `alternates` (`templates/enterprise.html`: the
    layout), rendered once per language and set of links, as its text split at the
    stand-ins: text, stand-in, text, ... (a page joins it with the record's values). A
    link holding a stand-in other than a leading `_LINK` is refused: it would be read as one."""
    for code, target in alternates:
        if _STAND_INS.search(code + target.removeprefix(_LINK)):
            raise ValueError(f"a link to the page in another language holds a control character: {target!r}")
    page = render("enterprise.html", lang, alternates, title=Markup(_TITLE), main=Markup(_MAIN))
    return tuple(_STAND_INS.split(page))


def to_html(d: Description, base_iri: str, *, formats: dict[str, str] | None = None, lang: str = DEFAULT_LANG,
            alternates: tuple[tuple[str, str], ...] = QUERY_ALTERNATES, link: str | None = None) -> bytes:
    """A human-readable page in language `lang` (`templates/enterprise.html` around
    `enterprise_main.html`: escaped throughout, no scripts, no external resources);
    `formats` are the links to the other documents (label -> href), `alternates` to the
    page in the other languages: with `link` (the record's file name, URL-quoted), each
    is the ending that follows it (`(("fr", ".fr.html"), ...)`), so every record's pages
    share one frame per language. What does not depend on the language is worked out at
    the record's first page (`_page_parts`)."""
    parts = _page_parts(d, base_iri)
    lang = page_lang(lang)
    if link is not None:
        alternates = tuple((code, _LINK + ending) for code, ending in alternates)
    frame = _frame(lang, alternates)
    tables = [(heading, _table(table, lang)) for heading, table in parts.tables]
    values = {_TITLE: parts.title_html, _LINK: html_text(link or ""), _MAIN: render(
        "enterprise_main.html", lang, (), words=words("enterprise_words.html", lang),
        title=parts.title, iri=d.iri, source=parts.source, formats=(formats or {}).items(),
        tables=tables, same_as=parts.same_as)}
    page = [frame[0]]
    for k in range(1, len(frame), 2):
        page += (values[frame[k]], frame[k + 1])
    return "".join(page).encode("utf-8")


def enterprise_iris(store: ox.Store, base_iri: str) -> list[str]:
    """Every subject IRI under `base_iri` without a fragment (enterprises, networks, outlets)."""
    out: set[str] = set()
    for q in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), None, None):
        s = q.subject
        if isinstance(s, ox.NamedNode) and s.value.startswith(base_iri) and "#" not in s.value:
            out.add(s.value)
    return sorted(out)
