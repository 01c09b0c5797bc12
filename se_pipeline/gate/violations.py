"""SHACL validation results as plain Python values, and their Markdown summary.

pyshacl's report is an RDF graph; the rest of the pipeline (quarantine CSV, Dagster
metadata, release summary) wants flat records, so the graph is read exactly once here.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import rdflib
from rdflib.term import Node

from se_pipeline.namespaces import SH

_SH = rdflib.Namespace(SH)


@dataclass(frozen=True)
class Violation:
    """One sh:ValidationResult.

    `focus_node`/`shape` are IRIs (or `_:id` for blank nodes), `path` the property IRI
    (None for node-level results), `value` the lexical form of the offending value (None
    when the problem is a missing value), `severity` the local name: Violation, Warning, Info.
    """

    focus_node: str
    path: str | None
    value: str | None
    shape: str
    message: str
    severity: str


def term_text(node: Node | None) -> str | None:
    """IRI or literal lexical form; blank nodes as `_:id` so they never pose as IRIs."""
    if node is None:
        return None
    if isinstance(node, rdflib.BNode):
        return f"_:{node}"
    return str(node)


def local_name(iri: str) -> str:
    """Last segment of an IRI (after '#' or '/'): `https://schema.org/name` -> `name`."""
    return iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]


#: What a result's path reads as when it is not one property (an inverse or sequence path).
COMPLEX_PATH = "(complex path)"


def violation_order(v: Violation) -> tuple[str, str, str, bool, str]:
    """The order reports list violations in (focus node, shape, path, value; a missing
    value before an empty one, so either validator lists them alike)."""
    return (v.focus_node, v.shape, v.path or "", v.value is not None, v.value or "")


def violations_from_report(report: rdflib.Graph) -> list[Violation]:
    """Flatten every sh:result of a pyshacl results graph, sorted for stable output."""
    out: list[Violation] = []
    for result in report.objects(None, _SH.result):
        messages = sorted(str(m) for m in report.objects(result, _SH.resultMessage))
        path = report.value(result, _SH.resultPath)
        severity = report.value(result, _SH.resultSeverity)
        out.append(Violation(
            focus_node=term_text(report.value(result, _SH.focusNode)) or "",
            path=term_text(path) if isinstance(path, rdflib.URIRef) else (None if path is None else COMPLEX_PATH),
            value=term_text(report.value(result, _SH.value)),
            shape=term_text(report.value(result, _SH.sourceShape)) or "",
            message=" ".join(messages),
            severity=local_name(str(severity)) if severity is not None else "Violation",
        ))
    out.sort(key=violation_order)
    return out


def _cell(text: str) -> str:
    """Markdown table cells may not contain pipes or line breaks."""
    return text.replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def violations_table(violations: list[Violation], limit: int = 50) -> str:
    """Markdown table: one row per (shape, path) with a count and up to 3 example focus nodes.

    Grouped because a systematic mapping error produces thousands of identical results;
    a steward needs to see *which rule* fails and how often, not every record.
    """
    if not violations:
        return "No SHACL violations."
    groups: dict[tuple[str, str], list[Violation]] = defaultdict(list)
    for v in violations:
        groups[(v.shape, v.path or "")].append(v)
    rows = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    lines = ["| shape | path | severity | count | message | examples |", "|---|---|---|---|---|---|"]
    for (shape, path), items in rows[:limit]:
        examples = ", ".join(f"`{_cell(v.focus_node)}`" for v in items[:3])
        lines.append(
            f"| {_cell(local_name(shape))} | {_cell(local_name(path)) if path else '(node)'} | {items[0].severity} "
            f"| {len(items)} | {_cell(items[0].message[:200])} | {examples} |"
        )
    if len(rows) > limit:
        lines.append(f"\n{len(rows) - limit} more (shape, path) groups not shown; {len(violations)} results in total.")
    return "\n".join(lines)
