"""SPARQL over a published release, with Oxigraph (much faster than rdflib: benchmarks/README.md).

The release's N-Quads are loaded into an in-memory store. The query goes through the same
parsed-query guard and dataset rules as the endpoint (`guard.prepare`): `SERVICE`, `LOAD`
and updates are refused; `FROM` / `FROM NAMED` build the dataset; without them the default
graph is the union of the named graphs, so queries need no GRAPH clauses (but may use
them: one graph per source, plus `…/graph/vocabulary` and `…/graph/links`).
"""
from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from se_pipeline.access.guard import RefusedQuery, prepare


class QueryError(ValueError):
    """The query is not valid SPARQL or the release cannot be read."""


def resolve_release(path: Path) -> Path:
    """A release directory (or the `latest` link); error if it holds no dataset."""
    target = path.resolve()
    if not (target / "dataset.nq.gz").is_file():
        raise QueryError(f"{path} is not a release directory (no dataset.nq.gz)")
    return target


def load_store(release: Path, store: ox.Store | None = None) -> ox.Store:
    store = store if store is not None else ox.Store()
    with gzip.open(resolve_release(release) / "dataset.nq.gz", "rb") as f:
        store.load(f, format=ox.RdfFormat.N_QUADS)
    return store


def _term(t: Any) -> str | None:
    if t is None:
        return None
    return t.value if isinstance(t, (ox.NamedNode, ox.Literal, ox.BlankNode)) else str(t)


def run_query(store: ox.Store, query: str) -> tuple[list[str], list[list[str | None]]] | bool | list[ox.Triple]:
    """Rows (SELECT), a boolean (ASK) or triples (CONSTRUCT / DESCRIBE)."""
    try:
        prepared = prepare(query)
    except RefusedQuery as e:
        raise QueryError(str(e)) from None
    try:
        result = store.query(prepared.text, **prepared.dataset.oxigraph_options())
    except SyntaxError as e:
        raise QueryError(f"invalid SPARQL: {e}") from None
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        return names, [[_term(sol[n]) for n in names] for sol in result]
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    return list(result)


def render(result: Any, fmt: str) -> str:
    """Text for the CLI: `table`, `csv` or `json` (SPARQL 1.1 JSON results for SELECT)."""
    if isinstance(result, bool):
        return json.dumps({"head": {}, "boolean": result}) if fmt == "json" else str(result).lower()
    if isinstance(result, list):
        return ox.serialize(result, format=ox.RdfFormat.TURTLE).decode("utf-8")
    names, rows = result
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(names)
        w.writerows([["" if v is None else v for v in row] for row in rows])
        return buf.getvalue()
    if fmt == "json":
        bindings = [{n: {"value": v} for n, v in zip(names, row) if v is not None} for row in rows]
        return json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}}, ensure_ascii=False, indent=1)
    widths = [min(60, max([len(n)] + [len(str(r[i] or "")) for r in rows])) for i, n in enumerate(names)]
    def line(values: list[Any]) -> str:
        return " | ".join(str(v if v is not None else "")[:60].replace("\n", " ").ljust(w) for v, w in zip(values, widths))
    out = [line(names), "-+-".join("-" * w for w in widths)] + [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
