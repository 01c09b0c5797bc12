"""The one place where RDF term text is produced.

Generating N-Triples text is the fastest writer and the classic source of broken RDF,
so every IRI and literal the pipeline writes goes through `iri()` / `literal()` here;
both are property-tested against Oxigraph's strict parser (tests/rdf/test_terms.py).
Nothing else in the code base may format `<...>` or `"..."` terms by hand.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from se_pipeline.namespaces import RDF, XSD
from se_pipeline.rdf.errors import TermError

XSD_STRING = XSD + "string"
XSD_DECIMAL = XSD + "decimal"
XSD_INTEGER = XSD + "integer"
XSD_DATE = XSD + "date"
XSD_DATETIME = XSD + "dateTime"
XSD_BOOLEAN = XSD + "boolean"
XSD_NNI = XSD + "nonNegativeInteger"
RDF_LANGSTRING = RDF + "langString"

# Characters the IRI grammar forbids (N-Triples IRIREF and RFC 3987): controls, space,
# <>"{}|\^` — percent-encoded (UTF-8) so that a messy but meaningful IRI survives.
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f-\x9f]')
# A '%' not followed by two hex digits is not a valid percent-encoding.
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_LANG = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LEXICAL = {
    XSD_DECIMAL: re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$"),
    XSD_INTEGER: re.compile(r"^[+-]?\d+$"),
    XSD_NNI: re.compile(r"^\+?\d+$"),
    XSD_DATE: re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(Z|[+-]\d{2}:\d{2})?$"),
    XSD_DATETIME: re.compile(
        r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"
    ),
    XSD_BOOLEAN: re.compile(r"^(true|false|1|0)$"),
}
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
_TO_ESCAPE = re.compile(r'[\\"\n\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')


def _pct(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group(0).encode("utf-8"))


def clean_iri(value: str) -> str:
    """Return `value` as a valid absolute IRI string, percent-encoding forbidden characters.

    Raises TermError when the result is still not an absolute IRI (no scheme, bad
    host, ...), as judged by Oxigraph's IRI parser — the same strictness as the parsers
    our users run.
    """
    if not isinstance(value, str) or not value:
        raise TermError(f"IRI must be a non-empty string, got {value!r}")
    if _SURROGATE.search(value):
        raise TermError(f"IRI contains unpaired surrogates: {value!r}")
    fixed = _BAD_PERCENT.sub("%25", _IRI_FORBIDDEN.sub(_pct, value))
    try:
        ox.NamedNode(fixed)
    except ValueError as e:
        raise TermError(f"not an absolute IRI: {value!r} ({e})") from None
    return fixed


def iri(value: str) -> str:
    """N-Triples text of an IRI term: `<...>`."""
    return "<" + clean_iri(value) + ">"


def _escape(text: str) -> str:
    return _TO_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(0)) or f"\\u{ord(m.group(0)):04X}", text)


def check_lang(lang: str) -> str:
    """Validate a BCP 47 tag (syntax only) and return it lower-cased (RDF 1.1 practice)."""
    if not _LANG.match(lang or ""):
        raise TermError(f"bad language tag {lang!r}")
    return lang.lower()


def literal(value: str, *, lang: str | None = None, datatype: str | None = None) -> str:
    """N-Triples text of a literal; checks the lexical form of the XSD types we emit.

    `literal(1e-05, datatype=XSD_DECIMAL)` would be ill-typed if formatted naively; pass
    numbers through `decimal_lexical()` first (as `decimal()` does).
    """
    if not isinstance(value, str):
        raise TermError(f"literal value must be str, got {type(value).__name__}")
    if _SURROGATE.search(value):
        raise TermError("literal contains unpaired surrogates")
    body = '"' + _escape(value) + '"'
    if lang is not None:
        if datatype not in (None, RDF_LANGSTRING):
            raise TermError("a literal has either a language tag or a datatype")
        return body + "@" + check_lang(lang)
    if datatype is None or datatype == XSD_STRING:
        return body
    pattern = _LEXICAL.get(datatype)
    if pattern is not None and not pattern.match(value):
        raise TermError(f"{value!r} is not a valid lexical form of <{datatype}>")
    return body + "^^" + iri(datatype)


def decimal_lexical(number: float | int | str | Decimal) -> str:
    """Canonical-ish xsd:decimal lexical form of a number: never exponent notation."""
    try:
        d = Decimal(str(number)) if not isinstance(number, Decimal) else number
    except InvalidOperation:
        raise TermError(f"not a number: {number!r}") from None
    if not d.is_finite():
        raise TermError(f"not a finite number: {number!r}")
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".") or "0"
    return text if text not in ("-0", "") else "0"


def decimal(number: float | int | str | Decimal) -> str:
    """N-Triples text of an xsd:decimal literal from a number (1e-05 -> "0.00001")."""
    if isinstance(number, float) and not math.isfinite(number):
        raise TermError(f"not a finite number: {number!r}")
    return literal(decimal_lexical(number), datatype=XSD_DECIMAL)


def integer(number: int) -> str:
    """N-Triples text of an xsd:integer literal."""
    return literal(str(int(number)), datatype=XSD_INTEGER)


def date(iso: str) -> str:
    """N-Triples text of an xsd:date literal from `YYYY-MM-DD`."""
    return literal(iso, datatype=XSD_DATE)


def triple(s: str, p: str, o: str) -> str:
    """One N-Triples line from already-formatted terms."""
    return f"{s} {p} {o} .\n"
