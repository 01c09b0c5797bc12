"""What the public endpoint refuses: SPARQL Update, `LOAD` and federated `SERVICE`.

Refusal must be precise: `SERVICE` or `LOAD` inside a string literal, an IRI, a comment,
a variable (`?service`) or a prefixed name (`ex:service`) is harmless text, not the
keyword. So the query is tokenised with the SPARQL 1.1 lexical rules (strings first,
then IRIs, comments, variables, prefixed names) and only bare keyword tokens count.
Oxigraph itself then parses the query (a syntax error is a 400); updates never reach it
(and the store is opened read-only besides).
"""
from __future__ import annotations

import re

# Order matters: long strings before short ones, IRIs and comments before words.
_TOKEN = re.compile(
    r"""
      (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<comment>\#[^\n\r]*)
    | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
    | (?P<pname>(?:[A-Za-z\u00C0-\uFFFF][\w\-.\u00B7\u00C0-\uFFFF]*)?:(?:[\w\-.:%\\\u00B7\u00C0-\uFFFF]*))
    | (?P<bnode>_:[\w\-.\u00B7\u00C0-\uFFFF]+)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<other>\S)
    """,
    re.VERBOSE,
)

UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})
QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "ASK", "DESCRIBE"})


class RefusedQuery(ValueError):
    """A request the read-only endpoint will not run (status: HTTP code to answer with)."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


def keywords(text: str) -> list[str]:
    """The bare keyword tokens of a SPARQL text, upper-cased, in order."""
    return [m.group("word").upper() for m in _TOKEN.finditer(text) if m.lastgroup == "word"]


def check_query(text: str) -> None:
    """Raise RefusedQuery if `text` uses SERVICE, or is (or contains) an update operation."""
    words = keywords(text)
    if "SERVICE" in words:
        raise RefusedQuery("federated queries (SERVICE) are not allowed on this endpoint")
    if "LOAD" in words:
        raise RefusedQuery("LOAD is not allowed: this endpoint is read-only")
    first_form = next((w for w in words if w in QUERY_FORMS), None)
    first_update = next((w for w in words if w in UPDATE_KEYWORDS - {"WITH"}), None)
    if first_update and (first_form is None or words.index(first_update) < words.index(first_form)):
        raise RefusedQuery(f"SPARQL Update ({first_update}) is not allowed: this endpoint is read-only")
