"""What a query may do on the public endpoint, decided on the PARSED query, and the dataset it runs over.

Why parse: a guard that reads the query as text disagrees with the engine about where a
token ends (`ex:a\\#b` is one prefixed name; a text guard took `#b …` for a comment and
missed the `SERVICE` after it, and Oxigraph then fetched an internal URL for the caller).
So every query goes through rdflib's SPARQL 1.1 grammar; `SERVICE`, `LOAD` and any update
operation are refused from the parse tree and the algebra. The guard fails closed: a text
rdflib cannot parse is a 400, even if Oxigraph would have accepted it. Defence in depth:
the query workers also run without network where the kernel allows it (`workers.py`).

Datasets follow SPARQL 1.1 Query §13 and Protocol §2.1.4: the protocol's
`default-graph-uri` / `named-graph-uri` override the query's `FROM` / `FROM NAMED`; the
query's clauses apply when the protocol names none; only when neither names a graph is the
default graph the union of the named graphs (and every named graph is available to `GRAPH`).

Empty protocol values: Mykomap's dataset loader (`get_dataset.php`) always sends
`default-graph-uri=`, empty when its dataset configures no graph. An empty value is
therefore read as "no graph given" (as an empty HTML form field is "not filled in"), so
Mykomap works unchanged; any non-empty value that is not an absolute IRI is a 400.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

QUERY_FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}
# rdflib keeps SPARQL's PN_LOCAL_ESC backslashes in the IRIs it builds from prefixed names.
_PN_LOCAL_ESC = re.compile(r"\\([_~.\-!$&'()*+,;=/?#@%])")


class RefusedQuery(ValueError):
    """A request the read-only endpoint will not run; `status` is the HTTP code to answer with."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset of one query; None means "the store's own" (union default graph, every named graph)."""

    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None

    @property
    def union_default(self) -> bool:
        return self.default_graphs is None and self.named_graphs is None

    def oxigraph_options(self) -> dict[str, Any]:
        """Keyword arguments for `pyoxigraph.Store.query` (explicit lists override the query's own clauses)."""
        if self.union_default:
            return {"use_default_graph_as_union": True}
        return {"default_graph": [ox.NamedNode(g) for g in self.default_graphs or ()],
                "named_graphs": [ox.NamedNode(g) for g in self.named_graphs or ()]}


@dataclass(frozen=True)
class PreparedQuery:
    text: str
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    dataset: Dataset
    base_iri: str | None = None  # relative IRIs resolve against it (the endpoint's IRI; a BASE in the query wins)


def _absolute_iri(value: str, what: str) -> str:
    try:
        ox.NamedNode(value)
    except ValueError as e:
        shown = value if len(value) <= 200 else value[:200] + "…"
        raise RefusedQuery(f"{what} {shown!r} is not an absolute IRI ({e})", 400) from None
    return value


def protocol_graphs(values: Iterable[str], parameter: str) -> tuple[str, ...]:
    """The graph IRIs of a `default-graph-uri` / `named-graph-uri` parameter; empty values mean "none given"."""
    return tuple(_absolute_iri(v, parameter) for v in values if v != "")


def _nodes(tree: Any) -> Iterator[CompValue]:
    """Every CompValue in a parse tree or algebra, iteratively (deep queries must not exhaust the stack)."""
    stack, seen = [tree], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, CompValue):
            yield node
            stack.extend(dict.values(node))
        elif isinstance(node, (ParseResults, list, tuple)):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())


def _syntax_message(e: Exception) -> str:
    text = str(e).replace("\n", " ")
    return text if len(text) <= 300 else text[:300] + "…"


def _refuse_update(text: str, query_error: Exception) -> None:
    """Raise 403 if `text` is a SPARQL Update (LOAD named), else 400 with the query's syntax error."""
    try:
        update = parseUpdate(text)
    except (ParseBaseException, RecursionError, ValueError):
        raise RefusedQuery(f"query syntax error: {_syntax_message(query_error)}", 400) from None
    names = {n.name for n in _nodes(update)}
    if "Load" in names:
        raise RefusedQuery("LOAD is not allowed: this endpoint is read-only")
    raise RefusedQuery("SPARQL Update is not allowed: this endpoint is read-only")


def prepare(text: str, default_graph_uris: Iterable[str] = (), named_graph_uris: Iterable[str] = (),
            base_iri: str | None = None) -> PreparedQuery:
    """Parse `text`, refuse what the endpoint never runs, and build the query's dataset."""
    protocol_default = protocol_graphs(default_graph_uris, "default-graph-uri")
    protocol_named = protocol_graphs(named_graph_uris, "named-graph-uri")
    try:
        parsed = parseQuery(text)
        query = translateQuery(parsed, base=base_iri)
    except RecursionError:
        raise RefusedQuery("the query is nested too deeply to be parsed", 400) from None
    except ParseBaseException as e:
        _refuse_update(text, e)
        raise  # unreachable: _refuse_update always raises
    except Exception as e:  # rdflib's translation rejects some syntactically valid but meaningless queries
        raise RefusedQuery(f"query error: {type(e).__name__}: {_syntax_message(e)}", 400) from None
    names = {n.name for n in _nodes(parsed)} | {n.name for n in _nodes(query.algebra)}
    if "ServiceGraphPattern" in names:
        raise RefusedQuery("federated queries (SERVICE) are not allowed on this endpoint")
    form = QUERY_FORMS.get(parsed[1].name)
    if form is None:  # pragma: no cover - the grammar has exactly these four forms
        raise RefusedQuery(f"unsupported query form {parsed[1].name}", 400)
    query_default: list[str] = []
    query_named: list[str] = []
    for clause in dict.get(parsed[1], "datasetClause") or []:  # dict.get: CompValue.get resolves names
        for key, target in (("default", query_default), ("named", query_named)):
            iri = dict.get(clause, key)
            if iri is not None:
                target.append(_absolute_iri(_PN_LOCAL_ESC.sub(r"\1", str(iri)), "FROM NAMED" if key == "named" else "FROM"))
    if protocol_default or protocol_named:
        dataset = Dataset(protocol_default, protocol_named)
    elif query_default or query_named:
        dataset = Dataset(tuple(query_default), tuple(query_named))
    else:
        dataset = Dataset()
    return PreparedQuery(text, form, dataset, base_iri)
