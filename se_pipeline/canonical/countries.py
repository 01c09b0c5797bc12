"""Free-text country -> ISO 3166-1 alpha-2.

Sources write countries as codes (`GB`, `GBR`, `us`), English names, local names
(`España`, `Brasil`, `Italia`) or nations of the UK (`England`). One resolver serves them
all so that a new spelling is one line in `_SYNONYMS`, and an unknown one is reported,
never guessed.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import pycountry

_SYNONYMS = {
    "uk": "GB", "u.k.": "GB", "united kingdom": "GB", "great britain": "GB", "britain": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB", "cymru": "GB",
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "united states": "US", "united states of america": "US",
    "estados unidos": "US", "eeuu": "US", "ee.uu.": "US", "etats-unis": "US",
    "espana": "ES", "spain": "ES", "espagne": "ES", "espanha": "ES",
    "brasil": "BR", "bresil": "BR", "mexico": "MX", "peru": "PE", "colombia": "CO",
    "argentina": "AR", "chile": "CL", "uruguay": "UY", "paraguay": "PY", "bolivia": "BO",
    "ecuador": "EC", "venezuela": "VE", "guatemala": "GT", "honduras": "HN", "nicaragua": "NI",
    "el salvador": "SV", "costa rica": "CR", "panama": "PA", "cuba": "CU",
    "republica dominicana": "DO", "puerto rico": "PR",
    "italia": "IT", "italie": "IT", "francia": "FR", "franca": "FR", "alemania": "DE",
    "deutschland": "DE", "allemagne": "DE", "portugal": "PT", "belgique": "BE", "belgie": "BE",
    "nederland": "NL", "holland": "NL", "the netherlands": "NL", "suisse": "CH", "schweiz": "CH",
    "osterreich": "AT", "grecia": "GR", "greece": "GR", "hellas": "GR", "polska": "PL",
    "turquia": "TR", "turkey": "TR", "russia": "RU", "rusia": "RU", "tunisie": "TN", "tunez": "TN",
    "maroc": "MA", "marruecos": "MA", "senegal": "SN", "cote d'ivoire": "CI", "ivory coast": "CI",
    "kenia": "KE", "sudafrica": "ZA", "south africa": "ZA", "canada": "CA", "quebec": "CA",
    "japon": "JP", "china": "CN", "corea del sur": "KR", "south korea": "KR", "korea": "KR",
    "india": "IN", "filipinas": "PH", "philippines": "PH", "vietnam": "VN", "viet nam": "VN",
    "iran": "IR", "tanzania": "TZ", "bolivia (plurinational state of)": "BO",
    "democratic republic of the congo": "CD", "dr congo": "CD", "republica democratica del congo": "CD",
    "czech republic": "CZ", "czechia": "CZ", "laos": "LA", "syria": "SY", "palestine": "PS",
    "moldova": "MD", "macedonia": "MK", "north macedonia": "MK", "kosovo": "XK",
    "россия": "RU", "российская федерация": "RU",
    # transformap / ica_youth spellings (Spanish, Italian, French, local names, misspellings)
    "portogallo": "PT", "latvija": "LV", "rawanda": "RW", "ruanda": "RW",
    "democratic republic of congo": "CD", "rd congo": "CD", "rdc": "CD",
    "reino unido": "GB", "royaume-uni": "GB", "inglaterra": "GB", "escocia": "GB",
    "costa de marfil": "CI", "paises bajos": "NL", "suiza": "CH", "belgica": "BE", "irlanda": "IE",
    "egipto": "EG", "argelia": "DZ", "camerun": "CM", "etiopia": "ET", "suecia": "SE",
    "dinamarca": "DK", "noruega": "NO", "polonia": "PL", "bangladesh": "BD", "banglades": "BD",
    "coree du sud": "KR",
}


def _fold(text: str) -> str:
    nfkd = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in nfkd if not unicodedata.combining(c)).lower().replace("’", "'").split())


@lru_cache(maxsize=4096)
def to_iso2(text: str | None) -> str | None:
    """ISO alpha-2 for a country written any common way, or None when unknown."""
    if not text or not text.strip():
        return None
    raw = text.strip()
    key = _fold(raw).strip(" .")
    if key in _SYNONYMS:
        return _SYNONYMS[key]
    if key == "xk":
        return "XK"
    if len(key) == 2 and key.isalpha():
        hit = pycountry.countries.get(alpha_2=key.upper())
        return hit.alpha_2 if hit else None
    if len(key) == 3 and key.isalpha():
        hit = pycountry.countries.get(alpha_3=key.upper())
        if hit:
            return hit.alpha_2
    for c in pycountry.countries:
        names = {c.name, getattr(c, "official_name", c.name), getattr(c, "common_name", c.name)}
        if key in {_fold(n) for n in names}:
            return c.alpha_2
    return None
