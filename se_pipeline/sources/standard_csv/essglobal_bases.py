"""ESSGlobal IRIs published under other bases -> the canonical `http://purl.org/essglobal/…`.

The ESSGlobal vocabulary (RIPESS) has been published under several bases over the years,
and partner data arrives under any of them:

* `http://purl.org/essglobal/…` (canonical: what the project emits),
* `https://lod.coop/essglobal/2.1/…` and `https://dev.lod.coop/essglobal/2.1/…`
  (Digital Commons / Mykomap standard CSV, 2019-2023),
* `https://w3id.solidarityeconomy.coop/essglobal/V2a/…`,
* `http://purl.org/solidarityeconomics/experimental/essglobal/…`.

The path after the base is the same everywhere (`vocab/<Term>`,
`standard/<scheme>/<Code>`), so normalising is replacing the base. One function does it
for every consumer (standard CSV cells, partner RDF) so the list of bases lives in one
place. Whether a code *exists* is a separate question (`check_concept`): an unknown code
is reported by the caller, never guessed or "corrected".
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping

CANONICAL_BASE = "http://purl.org/essglobal/"

#: Known alternative bases (scheme and host matched case-insensitively, `http`/`https` both
#: accepted); the version segment is part of the base.
_ALTERNATE = re.compile(
    r"^https?://(?:"
    r"(?:dev\.)?lod\.coop/essglobal/2\.1/"
    r"|w3id\.solidarityeconomy\.coop/essglobal/v2a/"
    r"|purl\.org/solidarityeconomics/experimental/essglobal/"
    r"|purl\.org/essglobal/"
    r")",
    re.IGNORECASE,
)
_CONCEPT = re.compile(r"^http://purl\.org/essglobal/standard/([A-Za-z0-9-]+)/([^/#?\s]+)$")


def normalise_essglobal_iri(value: str) -> str | None:
    """The canonical ESSGlobal IRI for `value`, or None when it is not under a known ESSGlobal base.

    Only the base changes; the path (`vocab/…`, `standard/<scheme>/<code>`) is kept as
    written, with surrounding whitespace and angle brackets removed. A scheme IRI keeps
    its trailing slash (or lack of one) as given.
    """
    text = value.strip().strip("<>").strip()
    m = _ALTERNATE.match(text)
    if not m:
        return None
    rest = text[m.end():]
    return CANONICAL_BASE + rest if rest else CANONICAL_BASE


def split_concept(iri: str) -> tuple[str, str] | None:
    """(scheme, code) of a canonical concept IRI `…/standard/<scheme>/<code>`, else None."""
    m = _CONCEPT.match(iri)
    return (m.group(1), m.group(2)) if m else None


def check_concept(
    value: str, known: Mapping[str, Collection[str]], scheme: str | None = None
) -> tuple[str | None, str | None]:
    """Normalise one cell value to a known concept IRI: returns (iri, None) or (None, problem).

    `known` maps scheme name -> codes that exist (e.g. from the source mapping);
    `scheme`, when given, is the scheme the column must hold. The problem text says why
    the value was not used (not ESSGlobal, wrong scheme, unknown code).
    """
    iri = normalise_essglobal_iri(value)
    if iri is None:
        return None, "not an ESSGlobal IRI"
    parts = split_concept(iri)
    if parts is None:
        return None, "not an ESSGlobal concept IRI"
    got_scheme, code = parts
    if scheme and got_scheme != scheme:
        return None, f"concept of scheme {got_scheme!r}, expected {scheme!r}"
    if got_scheme not in known:
        return None, f"concept of scheme {got_scheme!r}, expected one of {sorted(known)}"
    if code not in known[got_scheme]:
        return None, f"code {code!r} does not exist in {got_scheme!r}"
    return iri, None
