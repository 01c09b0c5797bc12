"""`vocabs.json`: the vocabulary index a Mykomap map loads with its JSON vocab loader.

Shape (Mykomap `VocabIndex`, as in its own `test/cannedVocabs.json`):

```json
{"prefixes": {"http://purl.org/essglobal/standard/organisational-structure/": "os", …},
 "meta": {"languages": ["EN", "FR", "ES", "PT"], "queries": [], "vocab_srcs": [], …},
 "vocabs": {"os:": {"EN": {"title": "Structure Type", "terms": {"os:OS60": "Workers cooperative"}},
                    "FR": {…}, "ES": {…}, "PT": {…}}, …}}
```

`prefixes` maps a scheme's base IRI to its abbreviation (no colon); `vocabs` is keyed by
abbreviation + colon; language keys are upper-case ISO 639-1 codes as Mykomap configs use
them. The abbreviations are Mykomap's usual ones (`os`, `aci`, `qf`, `bmt`) plus `am`
(activities-modified) and `pr` (our practice taxonomy, used by `enterprises.geojson`).
Every scheme is listed whole — each concept our vocabulary files (`ontology/`) put in it,
ICA30 and OS10 as much as the concepts this release uses — so a map that loads our
vocabularies with Digital Commons' own data can label theirs too; a concept the export
uses that our files do not know is added with its code as label. Each concept has a label
in every language.
"""
from __future__ import annotations

from pathlib import Path

from se_pipeline.namespaces import ESS_STANDARD, SEPT
from se_pipeline.release.exports.common import Enterprise, dump_json
from se_pipeline.rdf.vocabulary import scheme_concepts
from se_pipeline.release.exports.labels import LANGUAGES, labels_for

#: scheme base IRI -> (abbreviation, canonical fields whose values are in that scheme)
SCHEMES: dict[str, str] = {
    ESS_STANDARD + "organisational-structure/": "os",
    ESS_STANDARD + "activities-ica/": "aci",
    ESS_STANDARD + "activities-modified/": "am",
    ESS_STANDARD + "qualifiers/": "qf",
    ESS_STANDARD + "base-membership-type/": "bmt",
    SEPT + "practice/": "pr",
}
FIELDS = ("organisational_structure", "primary_activity", "activities", "qualifiers", "membership_type", "practices")


def used_concepts(rows: list[Enterprise]) -> set[str]:
    used: set[str] = set()
    for e in rows:
        for field in FIELDS:
            value = e.get(field)
            used.update(value if isinstance(value, list) else [value] if value else [])
    return {c for c in used if any(c.startswith(base) for base in SCHEMES)}


def vocab_index(used: set[str]) -> dict:
    """The index of every scheme of `SCHEMES`, whole, plus the `used` concepts (see
    `used_concepts`) our files do not list."""
    schemes = set(SCHEMES)
    used = used | {c for base in schemes for c in scheme_concepts(base)}
    labels = labels_for(used | schemes)
    vocabs: dict[str, dict] = {}
    for base in sorted(schemes, key=lambda b: SCHEMES[b]):
        abbrev = SCHEMES[base]
        concepts = sorted(c for c in used if c.startswith(base))
        vocabs[abbrev + ":"] = {
            lang.upper(): {
                "title": labels[base][lang],
                "terms": {f"{abbrev}:{c[len(base):]}": labels[c][lang] for c in concepts},
            }
            for lang in LANGUAGES
        }
    return {
        "prefixes": {base: SCHEMES[base] for base in sorted(schemes)},
        "meta": {"languages": [lang.upper() for lang in LANGUAGES], "queries": [], "vocab_srcs": [],
                 "generator": "se-pipeline"},
        "vocabs": vocabs,
    }


def write_vocabs(used: set[str], path: Path) -> Path:
    return dump_json(vocab_index(used), path)
