"""A streaming SHACL validator for exactly the SHACL constructs `shapes/` uses.

pyshacl needs the whole data graph as an rdflib Graph in memory and is slow per triple
(benchmarks/README.md): a source of millions of triples does not fit in 4 GiB. Our shapes only ever look
at one node and its own simple-path values (and, for sh:class, the node's own rdf:type),
so validation can stream: the N-Triples the RDF stage writes are grouped by enterprise
(`E` and `E#address` are consecutive), and each group is a closed unit.

* `compile_shapes(shapes_graph)` turns the shapes graph into plain Python checks ONCE,
  shape by shape. Implemented are targetClass, targetSubjectsOf, targetObjectsOf,
  SHACL-AF SPARQL targets and SHACL-SPARQL constraints *of the language-tag template
  used in shapes/languages.ttl*, sh:property, simple (IRI) paths, message, severity,
  deactivated, and the constraints of the tables `_VALUE_CHECKS` and `_NODE_CONSTRAINTS`.
  A shape using anything else is not guessed at and not ignored: it goes to
  `delegated` with the construct named, a warning says so, and pyshacl validates that
  shape (only) on the same data (`Validator.delegated_results` / `delegated_ox`), so
  its verdicts are still pyshacl's. That costs what pyshacl costs (the data of one
  graph held in rdflib) until the construct is implemented here.
  `SE_PIPELINE_SHACL=pyshacl` (see `gate.shacl`) sends every shape to pyshacl.
* Value semantics are pyshacl's, literally: typed literals are built as rdflib Literals
  (cached), so ill-typed values, lexical normalisation ("01"^^xsd:integer is "1") and
  comparisons (`pyshacl.rdfutil.compare.compare_literal`) are the very same code.
* `Validator.stream(...)` validates owner blocks (subject IRI up to '#') one at a time and
  raises `NotGrouped` when the input turns out not to be grouped (an owner reappears, or
  a targetObjectsOf object / sh:class value belongs to another owner). Callers then run
  `Validator.whole(...)`, which holds only the shape-relevant triples, compactly.
* rdfs:subClassOf in the data would change targetClass / sh:class (pyshacl follows it in
  the data graph); the validator raises `UnsupportedData` and callers fall back to pyshacl.

tests/gate/test_fast_equivalence.py runs this and pyshacl on every fixture and on
randomly corrupted graphs (written from what `shapes/` constrains) and requires
identical result sets, also with a shape this module does not implement.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator, NamedTuple

import pyshacl
import rdflib

from se_pipeline.gate.errors import GateError
from se_pipeline.gate.violations import COMPLEX_PATH

SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDFS_SUBCLASSOF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
RDFS_LITERAL = "http://www.w3.org/2000/01/rdf-schema#Literal"
RDFS_DATATYPE = "http://www.w3.org/2000/01/rdf-schema#Datatype"
RDFS_CLASS = "http://www.w3.org/2000/01/rdf-schema#Class"
OWL_CLASS = "http://www.w3.org/2002/07/owl#Class"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"

__all__ = [
    "BNode", "NotGrouped", "Result", "UnsupportedData", "UnsupportedShape", "Validator", "compile_shapes",
    "from_ox", "from_rdflib", "report_graph", "to_rdflib_term",
]


class UnsupportedShape(GateError):
    """A shape uses a SHACL construct the fast validator does not implement (raised while
    compiling it; `compile_shapes` then delegates the shape to pyshacl)."""


class UnsupportedData(GateError):
    """The data needs semantics the fast validator does not implement (rdfs:subClassOf)."""


class NotGrouped(Exception):
    """Streaming needs each owner's triples together; this input is not grouped that way."""


class BNode(str):
    """A blank node (its label); IRIs are plain `str`, literals `(lexical, datatype, lang)`."""

    __slots__ = ()


Term = Any  # str (IRI) | BNode | tuple[str, str | None, str | None]


class Result(NamedTuple):
    """One validation result, as pyshacl reports it (terms in our compact form)."""

    focus: Term
    path: str | None
    value: Term | None
    shape: Term
    component: str
    message: str
    severity: str

    def key(self) -> tuple[str, str | None, str, str]:
        return (term_text(self.focus), self.path, term_text(self.shape), self.component)


# --- terms -----------------------------------------------------------------------------

_LOG = logging.getLogger(__name__)
_TERM_LOG = logging.getLogger("rdflib.term")


@lru_cache(maxsize=1 << 17)
def _rdflib_literal(lex: str, dt: str) -> rdflib.Literal:
    """The rdflib Literal pyshacl would see (normalised lexical form, `.value`, `.ill_typed`)."""
    disabled, _TERM_LOG.disabled = _TERM_LOG.disabled, True  # ill-typed values log tracebacks
    try:
        return rdflib.Literal(lex, datatype=rdflib.URIRef(dt))
    finally:
        _TERM_LOG.disabled = disabled


def typed_literal(lex: str, dt: str | None, lang: str | None) -> tuple[str, str | None, str | None]:
    """Compact literal with rdflib's lexical normalisation of typed (non-string) literals."""
    if lang or dt is None or dt == XSD_STRING or dt == RDF_LANGSTRING:
        return (lex, dt, lang or None)
    return _normalised(lex, dt)


@lru_cache(maxsize=1 << 17)
def _normalised(lex: str, dt: str) -> tuple[str, str, None]:
    return (str(_rdflib_literal(lex, dt)), dt, None)


def from_rdflib(term: rdflib.term.Node) -> Term:
    if isinstance(term, rdflib.URIRef):
        return str(term)
    if isinstance(term, rdflib.BNode):
        return BNode(str(term))
    if isinstance(term, rdflib.Literal):
        return (str(term), str(term.datatype) if term.datatype is not None else None, term.language or None)
    raise UnsupportedData(f"unsupported RDF term {term!r}")


def from_ox(term: Any) -> Term:
    """Oxigraph term -> compact term, exactly as `gate.ntriples.to_rdflib` maps it for pyshacl
    (xsd:string literals become plain literals)."""
    import pyoxigraph as ox

    t = type(term)
    if t is ox.NamedNode:
        return term.value
    if t is ox.Literal:
        lang = term.language
        if lang:
            return (term.value, None, lang)
        dt = term.datatype.value
        if dt == XSD_STRING:
            return (term.value, None, None)
        return typed_literal(term.value, dt, None)
    if t is ox.BlankNode:
        return BNode(term.value)
    raise UnsupportedData(f"unsupported RDF term {term!r}")


def to_rdflib_term(term: Term) -> rdflib.term.Node:
    if type(term) is str:
        return rdflib.URIRef(term)
    if type(term) is BNode:
        return rdflib.BNode(str(term))
    lex, dt, lang = term
    return rdflib.Literal(lex, lang=lang, datatype=rdflib.URIRef(dt) if dt else None)


def term_text(term: Term | None) -> str | None:
    """Like `violations.term_text`: IRIs and lexical forms as is, blank nodes as `_:id`."""
    if term is None:
        return None
    if type(term) is str:
        return term
    if type(term) is BNode:
        return f"_:{term}"
    return term[0]


def _as_rdflib_literal(v: tuple) -> rdflib.Literal:
    lex, dt, lang = v
    if lang or dt is None:
        return rdflib.Literal(lex, lang=lang)
    return _rdflib_literal(lex, dt)


def _owner(node: Term) -> Term:
    if type(node) is str:
        return node.partition("#")[0]
    return node


# --- value-level checks (pyshacl semantics) --------------------------------------------

Check = Callable[[Term], bool]


def _string_of(v: Term) -> str:
    # pyshacl value_node_to_string: str(v.value) for string literals == lexical form; str(v) otherwise
    return v if type(v) is str else v[0]


def _c_datatype(rule: str) -> Check:
    def check(v: Term) -> bool:
        if type(v) is not tuple:
            return False
        lex, dt, lang = v
        if dt == rule:
            if rule == XSD_STRING or rule == RDF_LANGSTRING:
                return True
            lit = _rdflib_literal(lex, dt)
            if getattr(lit, "ill_typed", None) is True:
                return False
            return _actual_datatype(lit, rule)
        if rule == RDFS_LITERAL:
            return True
        if rule == RDFS_DATATYPE and dt:
            return True
        if dt is None and not lang and rule == XSD_STRING:
            return True
        if rule == RDF_LANGSTRING and lang:
            return True
        return False
    return check


def _actual_datatype(lit: rdflib.Literal, rule: str) -> bool:
    from datetime import date, datetime, time
    from decimal import Decimal

    value = lit.value
    kinds = {
        XSD + "integer": int, XSD + "float": float, XSD + "decimal": Decimal, XSD + "boolean": bool,
        XSD + "date": date, XSD + "time": time, XSD + "dateTime": datetime,
    }
    kind = kinds.get(rule)
    return True if kind is None else isinstance(value, kind)


_NODE_KINDS = {
    SH + "IRI": {str}, SH + "BlankNode": {BNode}, SH + "Literal": {tuple},
    SH + "BlankNodeOrIRI": {str, BNode}, SH + "BlankNodeOrLiteral": {BNode, tuple}, SH + "IRIOrLiteral": {str, tuple},
}


def _c_nodekind(rule: str) -> Check:
    if rule not in _NODE_KINDS:
        raise UnsupportedShape(f"unknown sh:nodeKind {rule}")
    kinds = frozenset(_NODE_KINDS[rule])
    return lambda v: type(v) in kinds


def _c_pattern(pattern: str, flags: str) -> Check:
    re_flags = 0
    for f, bit in (("i", re.I), ("m", re.M), ("s", re.S), ("x", re.X)):
        if f in flags.lower():
            re_flags |= bit
    search = re.compile(pattern, re_flags).search

    def check(v: Term) -> bool:
        if type(v) is BNode:
            return False
        return search(_string_of(v)) is not None
    return check


def _c_min_length(n: int) -> Check:
    if n == 0:
        return lambda v: True
    return lambda v: type(v) is not BNode and len(_string_of(v)) >= n


def _c_max_length(n: int) -> Check:
    return lambda v: type(v) is not BNode and len(_string_of(v)) <= n


def _c_range(bound: rdflib.Literal, op: str) -> Check:
    from pyshacl.rdfutil.compare import compare_literal

    bound_is_string = isinstance(bound.value, str)
    test = {"minInclusive": lambda c: c >= 0, "minExclusive": lambda c: c > 0,
            "maxInclusive": lambda c: c <= 0, "maxExclusive": lambda c: c < 0}[op]

    def check(v: Term) -> bool:
        if type(v) is not tuple:
            return False  # blank nodes and IRIs never compare (pyshacl)
        lit = _as_rdflib_literal(v)
        if bound_is_string != isinstance(lit.value, str):
            return False
        try:
            return test(compare_literal(lit, bound))
        except (TypeError, NotImplementedError):
            return False
    return check


def _c_in(members: list[Term]) -> Check:
    allowed = frozenset(members)
    return lambda v: v in allowed


def _c_language_in(languages: list[str]) -> Check:
    need = {x.lower() for x in languages}
    wildcard = "*" in need

    def check(v: Term) -> bool:
        if type(v) is not tuple or not v[2]:
            return False
        lang = v[2]
        return wildcard or lang.lower() in need or lang.split("-")[0].lower() in need
    return check


# --- compiling the shapes --------------------------------------------------------------

#: Parameters that are not constraints (or are read together with one).
_NON_CONSTRAINTS = {
    "name", "description", "message", "severity", "deactivated", "order", "group", "path", "flags",
    "targetClass", "targetSubjectsOf", "targetObjectsOf", "target", "property",
}

_SPARQL_STRING = r'"((?:[^"\\]|\\.)*)"'
_LANG_FILTER = (
    r"FILTER\s*\(\s*isLiteral\s*\(\s*\?value\s*\)\s*&&\s*lang\s*\(\s*\?value\s*\)\s*!=\s*\"\"\s*&&\s*"
    r"!\s*regex\s*\(\s*lang\s*\(\s*\?value\s*\)\s*,\s*" + _SPARQL_STRING + r"\s*\)\s*\)"
)
#: The SHACL-AF target template of shapes/languages.ttl (subjects with a bad language tag).
_TARGET_TEMPLATE = re.compile(
    r"^\s*SELECT\s+DISTINCT\s+\?this\s+WHERE\s*\{\s*VALUES\s+\?p\s*\{((?:\s*<[^<>\s]+>)+)\s*\}\s*"
    r"\?this\s+\?p\s+\?value\s*\.\s*" + _LANG_FILTER + r"\s*\}\s*$", re.S)
#: The SHACL-SPARQL constraint template (values of $PATH with a bad language tag).
_CONSTRAINT_TEMPLATE = re.compile(
    r"^\s*SELECT\s+\$this\s+\?value\s+WHERE\s*\{\s*\$this\s+\$PATH\s+\?value\s*\.\s*" + _LANG_FILTER
    + r"\s*\}\s*$", re.S)


def _sparql_unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f"}.get(m[1], m[1]), s)


@dataclass
class Shape:
    node: Term
    path: str | None  # None: node shape
    message: str
    severity: str
    min_count: int = 0
    max_count: int | None = None
    value_checks: list[tuple[str, Check]] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    has_values: list[Term] = field(default_factory=list)
    lang_tag_patterns: list[Any] = field(default_factory=list)  # compiled regexes (SPARQL template)
    properties: list["Shape"] = field(default_factory=list)
    deactivated: bool = False


@dataclass
class _Targets:
    classes: dict[str, list[Shape]] = field(default_factory=dict)
    subjects_of: dict[str, list[Shape]] = field(default_factory=dict)
    objects_of: dict[str, list[Shape]] = field(default_factory=dict)
    #: (predicates, compiled tag regex, shape): SPARQL target "has a bad-tagged value of one of predicates"
    lang_targets: list[tuple[frozenset[str], Any, Shape]] = field(default_factory=list)


class _Compiler:
    def __init__(self, g: rdflib.Graph) -> None:
        self.g = g
        self.compiled: dict[rdflib.term.Node, Shape] = {}
        self.failed: dict[rdflib.term.Node, str] = {}  # shapes that use a construct not implemented -> why
        self.consumed: set[rdflib.term.Node] = set()  # non-shape nodes read (targets, constraints, lists)

    def params(self, node: rdflib.term.Node) -> dict[str, list[rdflib.term.Node]]:
        out: dict[str, list[rdflib.term.Node]] = {}
        for p, o in self.g.predicate_objects(node):
            if str(p).startswith(SH):
                out.setdefault(str(p)[len(SH):], []).append(o)
        return out

    def one(self, node: rdflib.term.Node, params: dict, name: str) -> rdflib.term.Node | None:
        vals = params.get(name, [])
        if len(vals) > 1:
            raise UnsupportedShape(f"{node}: more than one sh:{name}")
        return vals[0] if vals else None

    def items(self, head: rdflib.term.Node) -> list[rdflib.term.Node]:
        out = []
        while head != rdflib.RDF.nil:
            self.consumed.add(head)
            first = self.g.value(head, rdflib.RDF.first)
            if first is None:
                raise UnsupportedShape(f"malformed RDF list at {head}")
            out.append(first)
            head = self.g.value(head, rdflib.RDF.rest)
            if head is None:
                raise UnsupportedShape("malformed RDF list")
        return out

    def shape(self, node: rdflib.term.Node, *, member: bool = False) -> Shape:
        """The compiled shape `node`; `UnsupportedShape` naming the construct if it (or a
        shape it uses) has one this module does not implement. A shape that failed fails
        again wherever it is used, so no half-compiled shape is ever checked."""
        if node in self.failed:
            raise UnsupportedShape(self.failed[node])
        if node in self.compiled:
            return self.compiled[node]
        try:
            return self._shape(node, member)
        except UnsupportedShape as e:
            self.compiled.pop(node, None)
            self.failed[node] = str(e)
            raise

    def _shape(self, node: rdflib.term.Node, member: bool) -> Shape:
        params = self.params(node)
        for name in params:
            if name not in _NON_CONSTRAINTS and name not in _VALUE_CHECKS and name not in _NODE_CONSTRAINTS:
                raise UnsupportedShape(f"{node} uses sh:{name}, which the fast validator does not implement")
        for t in self.g.objects(node, rdflib.RDF.type):
            if str(t) in (RDFS_CLASS, OWL_CLASS):
                raise UnsupportedShape(f"{node} is also a class (implicit class target): not implemented")
        path_node = self.one(node, params, "path")
        if path_node is not None and not isinstance(path_node, rdflib.URIRef):
            raise UnsupportedShape(f"{node}: only simple (IRI) sh:path is implemented")
        messages = sorted(str(m) for m in params.get("message", []))
        constraint_names = (set(params) - _NON_CONSTRAINTS)
        if constraint_names and not messages and not member:
            raise UnsupportedShape(f"{node} has constraints but no sh:message (pyshacl would generate one)")
        severity = self.one(node, params, "severity")
        sev = str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation"
        s = Shape(from_rdflib(node), str(path_node) if path_node is not None else None, " ".join(messages), sev)
        self.compiled[node] = s
        deact = self.one(node, params, "deactivated")
        s.deactivated = deact is not None and bool(deact.toPython())
        flag_node = self.one(node, params, "flags")
        flags = str(flag_node) if flag_node is not None else ""
        for name in sorted(constraint_names):  # pyshacl reports a value's failed checks in this order
            comp = SH + name[0].upper() + name[1:] + "ConstraintComponent"
            value_check = _VALUE_CHECKS.get(name)
            for val in params[name]:
                if value_check is not None:
                    s.value_checks.append((comp, value_check(self, node, val, flags)))
                else:
                    _NODE_CONSTRAINTS[name](self, node, val, s)
        if member and (s.min_count or s.max_count is not None or s.classes or s.has_values or s.lang_tag_patterns
                       or s.path is not None or params.get("property")):
            raise UnsupportedShape(f"{node}: sh:or members may only use value-level constraints")
        for p in params.get("property", []):
            s.properties.append(self.shape(p))
        if s.deactivated and s.properties:
            raise UnsupportedShape(f"{node}: deactivated node shapes with sh:property are not implemented")
        return s

    def in_check(self, node: rdflib.term.Node, head: rdflib.term.Node) -> Check:
        members = self.items(head)
        if not all(isinstance(m, rdflib.URIRef) for m in members):
            raise UnsupportedShape(f"{node}: sh:in with literals is not implemented (term equality)")
        return _c_in([from_rdflib(m) for m in members])

    def or_check(self, node: rdflib.term.Node, head: rdflib.term.Node) -> Check:
        members = [self.shape(m, member=True) for m in self.items(head)]
        alternatives = [[c for _, c in m.value_checks] for m in members]
        return lambda v: any(all(c(v) for c in checks) for checks in alternatives)

    def sparql_constraint(self, node: rdflib.term.Node, c: rdflib.term.Node, s: Shape) -> Any:
        self.consumed.add(c)
        params = self.params(c)
        extra = set(params) - {"select"}
        if extra or set(map(str, self.g.objects(c, rdflib.RDF.type))) - {SH + "SPARQLConstraint"}:
            raise UnsupportedShape(f"{node}: SPARQL constraint with {sorted(extra)} is not implemented")
        if s.path is None:
            raise UnsupportedShape(f"{node}: SPARQL constraint on a node shape is not implemented")
        m = _CONSTRAINT_TEMPLATE.match(str(self.one(c, params, "select")))
        if not m:
            raise UnsupportedShape(f"{node}: only the language-tag SPARQL constraint template is implemented")
        return re.compile(_sparql_unescape(m[1]))

    def sparql_target(self, node: rdflib.term.Node, t: rdflib.term.Node) -> tuple[frozenset[str], Any]:
        self.consumed.add(t)
        params = self.params(t)
        types = set(map(str, self.g.objects(t, rdflib.RDF.type)))
        if set(params) - {"select"} or types - {SH + "SPARQLTarget"}:
            raise UnsupportedShape(f"{node}: only SHACL-AF SPARQL targets (sh:select) are implemented")
        m = _TARGET_TEMPLATE.match(str(self.one(t, params, "select")))
        if not m:
            raise UnsupportedShape(f"{node}: only the language-tag SPARQL target template is implemented")
        preds = frozenset(re.findall(r"<([^<>\s]+)>", m[1]))
        return preds, re.compile(_sparql_unescape(m[2]))


def _literal_bound(c: _Compiler, node: rdflib.term.Node, val: rdflib.term.Node, name: str) -> Check:
    if not isinstance(val, rdflib.Literal):
        raise UnsupportedShape(f"{node}: sh:{name} must be a literal")
    return _c_range(val, name)


def _has_value(c: _Compiler, node: rdflib.term.Node, val: rdflib.term.Node, s: Shape) -> None:
    if not isinstance(val, rdflib.URIRef):
        raise UnsupportedShape(f"{node}: sh:hasValue with a literal is not implemented")
    s.has_values.append(from_rdflib(val))


def _set_max_count(s: Shape, n: int) -> None:
    s.max_count = n


def _set_min_count(s: Shape, n: int) -> None:
    s.min_count = n


ValueCheckFactory = Callable[[_Compiler, rdflib.term.Node, rdflib.term.Node, str], Check]

#: Constraints on each value on its own: parameter -> (compiler, shape node, parameter
#: value, sh:flags) -> check. A shape using a parameter in neither table (nor
#: `_NON_CONSTRAINTS`) is validated by pyshacl instead (`compile_shapes`).
_VALUE_CHECKS: dict[str, ValueCheckFactory] = {
    "datatype": lambda c, node, val, flags: _c_datatype(str(val)),
    "nodeKind": lambda c, node, val, flags: _c_nodekind(str(val)),
    "pattern": lambda c, node, val, flags: _c_pattern(str(val), flags),
    "minLength": lambda c, node, val, flags: _c_min_length(int(val)),
    "maxLength": lambda c, node, val, flags: _c_max_length(int(val)),
    "minInclusive": lambda c, node, val, flags: _literal_bound(c, node, val, "minInclusive"),
    "maxInclusive": lambda c, node, val, flags: _literal_bound(c, node, val, "maxInclusive"),
    "minExclusive": lambda c, node, val, flags: _literal_bound(c, node, val, "minExclusive"),
    "maxExclusive": lambda c, node, val, flags: _literal_bound(c, node, val, "maxExclusive"),
    "in": lambda c, node, val, flags: c.in_check(node, val),
    "languageIn": lambda c, node, val, flags: _c_language_in([str(x) for x in c.items(val)]),
    "or": lambda c, node, val, flags: c.or_check(node, val),
}

#: Constraints on a focus node's values together (counts, classes, values present, the
#: SPARQL language-tag template): parameter -> (compiler, shape node, parameter value,
#: shape) -> None, recording the constraint on the shape.
_NODE_CONSTRAINTS: dict[str, Callable[[_Compiler, rdflib.term.Node, rdflib.term.Node, Shape], None]] = {
    "minCount": lambda c, node, val, s: _set_min_count(s, int(val)),
    "maxCount": lambda c, node, val, s: _set_max_count(s, int(val)),
    "class": lambda c, node, val, s: s.classes.append(str(val)),
    "hasValue": _has_value,
    "sparql": lambda c, node, val, s: s.lang_tag_patterns.append(c.sparql_constraint(node, val, s)),
}


@dataclass
class CompiledShapes:
    targets: _Targets
    shapes: list[Shape]
    #: predicates whose triples matter at all (everything else is skipped on input)
    relevant: frozenset[str]
    objects_of: frozenset[str]
    subjects_of: frozenset[str]
    #: shapes this module does not check -> why (the construct it does not implement);
    #: `Validator` has pyshacl validate exactly these
    delegated: dict[rdflib.term.Node, str] = field(default_factory=dict)


def _top_level_shapes(g: rdflib.Graph) -> set[rdflib.term.Node]:
    shp = rdflib.Namespace(SH)
    top = set(g.subjects(rdflib.RDF.type, shp.NodeShape)) | set(g.subjects(rdflib.RDF.type, shp.PropertyShape))
    for p in (shp.targetClass, shp.targetSubjectsOf, shp.targetObjectsOf, shp.target, shp.targetNode):
        top |= set(g.subjects(p, None))
    return top


def _reachable(g: rdflib.Graph, start: Iterable[rdflib.term.Node]) -> set[rdflib.term.Node]:
    """Every node the statements about `start` lead to, transitively (the shapes, lists
    and parameters a shape uses)."""
    seen = set(start)
    todo = list(seen)
    while todo:
        for o in g.objects(todo.pop(), None):
            if o not in seen and not isinstance(o, rdflib.Literal):
                seen.add(o)
                todo.append(o)
    return seen


def compile_shapes(g: rdflib.Graph) -> CompiledShapes:
    """Compile a shapes graph, shape by shape: a top-level shape using a construct this
    module does not implement (anywhere in the shapes it uses) is not compiled but listed
    in `delegated` with the reason, and so is every top-level shape it uses or that uses
    it, so each shape is checked by exactly one validator."""
    c = _Compiler(g)
    top = _top_level_shapes(g)
    delegated: dict[rdflib.term.Node, str] = {}
    compiled_targets: dict[rdflib.term.Node, tuple[Shape, list[tuple[frozenset[str], Any]]]] = {}
    for node in sorted(top, key=str):
        try:
            s = c.shape(node)
            sparql = [c.sparql_target(node, t) for t in c.params(node).get("target", [])]
        except UnsupportedShape as e:
            delegated[node] = str(e)
            continue
        compiled_targets[node] = (s, sparql)
    # every node carrying sh: parameters must have been understood (or be part of a shape
    # pyshacl validates), else pyshacl decides what it means
    covered = _reachable(g, delegated)
    for subj in set(g.subjects()):
        if subj not in c.compiled and subj not in c.consumed and subj not in covered \
                and any(str(p).startswith(SH) for p in g.predicates(subj)):
            delegated[subj] = f"{subj} carries SHACL parameters but is not a shape the fast validator reached"
    # a shape the delegated ones use, or that uses one of them, goes with them
    changed = True
    while changed:
        changed = False
        used = _reachable(g, delegated)
        for node in list(compiled_targets):
            if node in used or _reachable(g, [node]) & set(delegated):
                delegated[node] = f"{node} is used with a shape pyshacl validates"
                del compiled_targets[node]
                changed = True
    targets = _Targets()
    for node, (s, sparql) in compiled_targets.items():
        if s.deactivated:
            continue
        params = c.params(node)
        for t in params.get("targetClass", []):
            targets.classes.setdefault(str(t), []).append(s)
        for t in params.get("targetSubjectsOf", []):
            targets.subjects_of.setdefault(str(t), []).append(s)
        for t in params.get("targetObjectsOf", []):
            targets.objects_of.setdefault(str(t), []).append(s)
        for preds, regex in sparql:
            targets.lang_targets.append((preds, regex, s))
    shapes = [s for node, s in c.compiled.items() if node not in delegated]
    relevant = {RDF_TYPE, RDFS_SUBCLASSOF}
    relevant |= {s.path for s in shapes if s.path}
    relevant |= set(targets.subjects_of) | set(targets.objects_of)
    for preds, _, _ in targets.lang_targets:
        relevant |= preds
    return CompiledShapes(
        targets, shapes, frozenset(relevant), frozenset(targets.objects_of), frozenset(targets.subjects_of), delegated,
    )


# --- validation ------------------------------------------------------------------------

class _Step:
    """One shape applied at a focus node, flattened: a node shape's sh:property shapes are
    steps of their own right after it, so a node's results come in the order of its shapes.

    `passes` remembers, per value, whether every value-level check passes: most values
    repeat (types, countries, sectors, sources), and a dict lookup costs less than the
    checks. Blank nodes are never remembered (a label can equal an IRI's text)."""

    __slots__ = ("shape", "path", "min_count", "max_count", "checks", "passes", "classes", "lang_tag_patterns",
                 "has_values", "absent_results")

    def __init__(self, s: Shape) -> None:
        self.shape = s
        self.path = s.path
        self.min_count = s.min_count
        self.max_count = s.max_count
        self.checks = s.value_checks
        self.passes: dict[Term, bool] = {}
        self.classes = s.classes
        self.lang_tag_patterns = s.lang_tag_patterns
        self.has_values = s.has_values
        #: a property step whose path the node lacks reports only these
        self.absent_results = bool(s.min_count or s.has_values)

    def result(self, focus: Term, value: Term | None, component: str) -> Result:
        s = self.shape
        return Result(focus, s.path, value, s.node, component, s.message, s.severity)


#: Values whose verdict a step remembers (beyond it, unseen values are checked every time).
PASSES_REMEMBERED = 1 << 14


def _steps(shapes: Iterable[Shape], made: dict[int, _Step]) -> list[_Step]:
    out: list[_Step] = []
    for s in shapes:
        step = made.get(id(s))
        if step is None:
            step = made[id(s)] = _Step(s)
        out.append(step)
        out += _steps(s.properties, made)
    return out


_EMPTY: dict = {}
_MIN_COUNT, _MAX_COUNT = SH + "MinCountConstraintComponent", SH + "MaxCountConstraintComponent"
_CLASS, _SPARQL, _HAS_VALUE = (SH + "ClassConstraintComponent", SH + "SPARQLConstraintComponent",
                               SH + "HasValueConstraintComponent")


def pyshacl_validate(data: rdflib.Graph, shapes: rdflib.Graph) -> tuple[bool, rdflib.Graph]:
    """pyshacl itself, with the options every pyshacl run of the gate uses: no inference
    (every type the shapes target is asserted by the RDF writer), advanced=True (the
    language-tag shapes are SHACL-SPARQL), allow_warnings (only sh:Violation makes a graph
    non-conforming)."""
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", advanced=True,
                                           allow_warnings=True, abort_on_first=False)
    return bool(conforms), report


def results_from_report(report: rdflib.Graph) -> list[Result]:
    """pyshacl's report as `Result`s (a path that is not one IRI reads `COMPLEX_PATH`, as
    in `violations_from_report`)."""
    sh = rdflib.Namespace(SH)
    out = []
    for r in report.objects(None, sh.result):
        path, value = report.value(r, sh.resultPath), report.value(r, sh.value)
        out.append(Result(
            from_rdflib(report.value(r, sh.focusNode)),
            None if path is None else str(path) if isinstance(path, rdflib.URIRef) else COMPLEX_PATH,
            from_rdflib(value) if value is not None else None, from_rdflib(report.value(r, sh.sourceShape)),
            str(report.value(r, sh.sourceConstraintComponent)),
            " ".join(sorted(str(m) for m in report.objects(r, sh.resultMessage))),
            str(report.value(r, sh.resultSeverity)).rsplit("#", 1)[-1]))
    return out


def _for_pyshacl(g: rdflib.Graph, delegated: Iterable[rdflib.term.Node]) -> rdflib.Graph:
    """The shapes graph with every top-level shape but the delegated ones deactivated, so
    pyshacl checks exactly what the fast path does not."""
    shapes = rdflib.Graph()
    for prefix, namespace in g.namespaces():  # pyshacl writes the messages it makes up with them
        shapes.bind(prefix, namespace, override=True, replace=True)
    shapes += g
    keep = set(delegated)
    for node in _top_level_shapes(g) - keep:
        shapes.set((node, rdflib.URIRef(SH + "deactivated"), rdflib.Literal(True)))
    return shapes


class Validator:
    """Compiled shapes + the evaluation of blocks of triples; the shapes it cannot compile
    (`delegated`) are validated by pyshacl, each named in a warning."""

    def __init__(self, shapes_graph: rdflib.Graph) -> None:
        self.c = compile_shapes(shapes_graph)
        self.delegated = self.c.delegated
        self._pyshacl_shapes = _for_pyshacl(shapes_graph, self.delegated) if self.delegated else None
        for node, why in sorted(self.delegated.items(), key=lambda kv: str(kv[0])):
            _LOG.warning("SHACL shape %s goes through pyshacl, not the fast validator: %s", node, why)
        self._made: dict[int, _Step] = {}
        self._focus_cache: dict[Any, tuple[list[Shape], list[_Step]]] = {}
        self._lang_preds = frozenset(p for preds, _, _ in self.c.targets.lang_targets for p in preds)

    @property
    def relevant(self) -> frozenset[str]:
        return self.c.relevant

    # A block: {node: {predicate: {value: None}}} plus {targetObjectsOf predicate: {node: None}}.
    def _steps_for(self, node: Term, preds: dict, objt: tuple) -> list[_Step]:
        """The steps of every shape that targets `node`, in target order (cached per kind
        of node: its types, the targetSubjectsOf predicates it has, what it is the object of)."""
        t = self.c.targets
        types = preds.get(RDF_TYPE)
        key = (frozenset(types) if types else None,
               tuple(p for p in self.c.subjects_of if p in preds), objt)
        cached = self._focus_cache.get(key)
        if cached is None:
            found: dict[int, Shape] = {}
            for cls in (types or ()):
                for s in t.classes.get(cls, ()) if type(cls) is str else ():
                    found[id(s)] = s
            for p in key[1]:
                for s in t.subjects_of[p]:
                    found[id(s)] = s
            for p in objt:
                for s in t.objects_of[p]:
                    found[id(s)] = s
            shapes = list(found.values())
            cached = self._focus_cache[key] = (shapes, _steps(shapes, self._made))
        shapes, steps = cached
        if self._lang_preds and type(node) is not tuple and not self._lang_preds.isdisjoint(preds):
            extra = []
            for lang_preds, regex, s in t.lang_targets:
                if s not in shapes and s not in extra \
                        and any(_bad_tag(preds.get(p), regex) for p in lang_preds if p in preds):
                    extra.append(s)
            if extra:
                steps = steps + _steps(extra, self._made)
        return steps

    def evaluate(self, props: dict, objt: dict[str, dict], out: list[Result], owner: Term | None = None) -> None:
        """Validate one closed block (all results appended to `out`)."""
        if RDFS_SUBCLASSOF in objt or any(RDFS_SUBCLASSOF in p for p in props.values()):
            raise UnsupportedData("rdfs:subClassOf in the data graph: targetClass/sh:class need RDFS reasoning")
        targeted: dict[Term, list[str]] = {}
        for p, nodes in objt.items():
            for n in nodes:
                targeted.setdefault(n, []).append(p)
        for node, preds in props.items():
            by = targeted.pop(node, None) if targeted else None
            self._node(node, preds, tuple(sorted(by)) if by else (), props, out, owner)
        for node, by in targeted.items():  # objects without triples of their own (literals, dangling IRIs)
            self._node(node, _EMPTY, tuple(sorted(by)), props, out, owner)

    def _node(self, focus: Term, preds: dict, objt: tuple, props: dict, out: list[Result], owner: Term | None) -> None:
        for step in self._steps_for(focus, preds, objt):
            path = step.path
            if path is None:
                values: Any = (focus,)
            else:
                values = preds.get(path)
                if not values:
                    # Most property shapes are optional: a node without the property has
                    # nothing to check unless the shape asks for a count or a value.
                    if step.absent_results:
                        if step.min_count:
                            out.append(step.result(focus, None, _MIN_COUNT))
                        for _ in step.has_values:
                            out.append(step.result(focus, None, _HAS_VALUE))
                    continue
                n = len(values)
                if n < step.min_count:
                    out.append(step.result(focus, None, _MIN_COUNT))
                if step.max_count is not None and n > step.max_count:
                    out.append(step.result(focus, None, _MAX_COUNT))
            if step.checks:
                passes = step.passes
                failed = False
                for v in values:
                    ok = passes.get(v)
                    if ok is None or type(v) is BNode:
                        ok = all(check(v) for _, check in step.checks)
                        if type(v) is not BNode and len(passes) < PASSES_REMEMBERED:
                            passes[v] = ok
                    if not ok:
                        failed = True
                if failed:  # which checks, in the order pyshacl reports them
                    for comp, check in step.checks:
                        for v in values:
                            if not check(v):
                                out.append(step.result(focus, v, comp))
            for cls in step.classes:
                for v in values:
                    if type(v) is tuple:
                        ok = False
                    else:
                        if owner is not None and _owner(v) != owner:
                            raise NotGrouped(f"sh:class value {v} lies outside block {owner}")
                        types = props.get(v, _EMPTY).get(RDF_TYPE)
                        ok = bool(types) and cls in types
                    if not ok:
                        out.append(step.result(focus, v, _CLASS))
            for regex in step.lang_tag_patterns:
                for v in values:
                    if type(v) is tuple and v[2] and regex.search(v[2]) is None:
                        out.append(step.result(focus, v, _SPARQL))
            for hv in step.has_values:
                if hv not in values:
                    out.append(step.result(focus, None, _HAS_VALUE))

    # --- drivers -----------------------------------------------------------------------

    def delegated_results(self, data: rdflib.Graph) -> list[Result]:
        """pyshacl's results for the delegated shapes on `data` (none when there are none)."""
        if self._pyshacl_shapes is None:
            return []
        return results_from_report(pyshacl_validate(data, self._pyshacl_shapes)[1])

    def delegated_ox(self, statements: Iterable[Any], skip_graphs: frozenset[str] = frozenset()) -> list[Result]:
        """`delegated_results` for Oxigraph triples or quads, graph by graph (quads in
        `skip_graphs` left out). Each graph is held as an rdflib graph while pyshacl runs:
        the memory the fast path saves is spent only when a shape needs pyshacl."""
        import pyoxigraph as ox

        from se_pipeline.gate.ntriples import to_rdflib

        if self._pyshacl_shapes is None:
            return []
        graphs: dict[Any, list[Any]] = {}
        for st in statements:
            if type(st) is ox.Quad:
                g = st.graph_name
                key = g.value if type(g) is ox.NamedNode else (None if type(g) is ox.DefaultGraph else g)
                if key in skip_graphs:
                    continue
                graphs.setdefault(key, []).append(st.triple)
            else:
                graphs.setdefault(None, []).append(st)
        out: list[Result] = []
        for triples in graphs.values():
            out += self.delegated_results(to_rdflib(triples))
        return out

    def whole(self, triples: Iterable[tuple[Term, str, Term]]) -> list[Result]:
        """Validate all `triples` as one graph (holds only the shape-relevant triples)."""
        props: dict = {}
        objt: dict = {}
        relevant, objects_of = self.c.relevant, self.c.objects_of
        for s, p, o in triples:
            if p not in relevant:
                continue
            props.setdefault(s, {}).setdefault(p, {})[o] = None
            if p in objects_of:
                objt.setdefault(p, {})[o] = None
        out: list[Result] = []
        self.evaluate(props, objt, out)
        return out

    def stream(self, triples: Iterable[tuple[Any, Term, str, Term]]) -> Iterator[Result]:
        """Validate (graph, s, p, o) statements owner block by owner block, yielding results.

        Each graph is validated on its own. Raises `NotGrouped` (possibly after yielding
        some results) when the statements are not grouped by (graph, owner)."""
        relevant, objects_of = self.c.relevant, self.c.objects_of
        closed: set = set()
        literal_targets: dict = {}
        current: Any = None
        props: dict = {}
        objt: dict = {}
        out: list[Result] = []
        last_g: Any = None
        last_s: Any = None
        preds: dict = {}
        for g, s, p, o in triples:
            if p not in relevant:
                continue
            if s != last_s or g != last_g:  # statements of one subject come in runs
                key = (g, s.partition("#")[0] if type(s) is str else s)
                if key != current:
                    if current is not None:
                        self.evaluate(props, objt, out, current[1])
                        if out:
                            yield from out
                            out.clear()
                        closed.add(hash(current))
                        props, objt = {}, {}
                    if hash(key) in closed:
                        raise NotGrouped(f"{key[1]} reappears after its block")
                    current = key
                last_g, last_s = g, s
                preds = props.get(s)
                if preds is None:
                    preds = props[s] = {}
            vals = preds.get(p)
            if vals is None:
                preds[p] = {o: None}
            else:
                vals[o] = None
            if p in objects_of:
                if type(o) is tuple:
                    # a literal focus node is one node graph-wide: evaluate it once (in its first block)
                    lkey = (g, o)
                    seen = literal_targets.get(lkey)
                    if seen is None:
                        literal_targets[lkey] = p
                    elif seen != p:
                        raise NotGrouped(f"literal {o} is the object of {seen} and {p}")
                    else:
                        continue
                elif _owner(o) != current[1]:
                    raise NotGrouped(f"object {o} of {p} lies outside block {current[1]}")
                objt.setdefault(p, {})[o] = None
        if current is not None:
            self.evaluate(props, objt, out, current[1])
            yield from out


def _bad_tag(values: dict | None, regex: Any) -> bool:
    if not values:
        return False
    for v in values:
        if type(v) is tuple and v[2] and regex.search(v[2]) is None:
            return True
    return False


def conforms(results: Iterable[Result]) -> bool:
    return not any(r.severity == "Violation" for r in results)


def report_graph(results: list[Result], conforms_: bool, *, limit: int | None = None) -> rdflib.Graph:
    """A SHACL validation report (sh:ValidationReport with exactly one sh:conforms)."""
    sh = rdflib.Namespace(SH)
    g = rdflib.Graph()
    g.bind("sh", SH)
    report = rdflib.BNode()
    g.add((report, rdflib.RDF.type, sh.ValidationReport))
    g.add((report, sh.conforms, rdflib.Literal(conforms_)))
    for r in results[:limit] if limit is not None else results:
        node = rdflib.BNode()
        g.add((report, sh.result, node))
        g.add((node, rdflib.RDF.type, sh.ValidationResult))
        g.add((node, sh.focusNode, to_rdflib_term(r.focus)))
        if r.path is not None and r.path != COMPLEX_PATH:
            g.add((node, sh.resultPath, rdflib.URIRef(r.path)))
        if r.value is not None:
            g.add((node, sh.value, to_rdflib_term(r.value)))
        g.add((node, sh.sourceShape, to_rdflib_term(r.shape)))
        g.add((node, sh.sourceConstraintComponent, rdflib.URIRef(r.component)))
        g.add((node, sh.resultSeverity, rdflib.URIRef(SH + r.severity)))
        if r.message:
            g.add((node, sh.resultMessage, rdflib.Literal(r.message)))
    return g


# --- convenience drivers ---------------------------------------------------------------

def ox_statements(validator: Validator, statements: Iterable[Any], skip_graphs: frozenset[str] = frozenset(),
                  ) -> Iterator[tuple[Any, Term, str, Term]]:
    """Oxigraph triples or quads -> (graph, s, p, o) compact statements, shape-relevant ones
    only (graph: its IRI, a blank node, or None for the default graph and for triples;
    quads in `skip_graphs` dropped).

    One generator, with `from_ox` inlined for the common terms: per statement this loop is
    the validator's input cost, and each extra generator layer costs about as much as
    the parse itself (benchmarks/README.md)."""
    import pyoxigraph as ox

    relevant = validator.relevant
    named, literal = ox.NamedNode, ox.Literal
    for st in statements:
        p = st.predicate.value
        if p not in relevant:
            continue
        g = None
        if type(st) is ox.Quad:
            gn = st.graph_name
            g = gn.value if type(gn) is named else (None if type(gn) is ox.DefaultGraph else gn)
        if g in skip_graphs:
            continue
        s = st.subject
        s = s.value if type(s) is named else from_ox(s)
        o = st.object
        t = type(o)
        if t is named:
            o = o.value
        elif t is literal:
            lang = o.language
            if lang:
                o = (o.value, None, lang)
            else:
                dt = o.datatype.value
                o = (o.value, None, None) if dt == XSD_STRING else typed_literal(o.value, dt, None)
        else:
            o = from_ox(o)
        yield g, s, p, o


def validate_ox(validator: Validator, source: Callable[[], Iterable[Any]],
                skip_graphs: frozenset[str] = frozenset()) -> list[Result]:
    """Validate Oxigraph triples or quads: streamed by owner block, or - when the input is
    not grouped - again from `source()` as whole graphs (one per graph name). Sorted results."""
    try:
        results = list(validator.stream(ox_statements(validator, source(), skip_graphs)))
    except NotGrouped:
        by_graph: dict[Any, list] = {}
        for g, s, p, o in ox_statements(validator, source(), skip_graphs):
            by_graph.setdefault(g, []).append((s, p, o))
        results = []
        for triples in by_graph.values():
            results += validator.whole(triples)
    if validator.delegated:
        results += validator.delegated_ox(source(), skip_graphs)
    results.sort(key=_sort_key)
    return results


def _sort_key(r: Result) -> tuple:
    """`violations.violation_order` for results."""
    return (term_text(r.focus), term_text(r.shape), r.path or "", r.value is not None, term_text(r.value) or "")
