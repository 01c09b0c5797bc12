"""Free-text country -> ISO 3166-1 alpha-2, from the ISO tables pycountry maintains.

Sources write countries as codes (`GB`, `GBR`, `826`, `us`), English names, names in a
partner's language (`Brasil`, `Côte d'Ivoire`, `Österreich`, `Royaume-Uni`), former
names (`Swaziland`, `Zaire`, `Burma`), nations of the UK (`England`) and with typos
(`Rawanda`, `Democratic Republic of Congol`). One resolver serves them all, built from

1. the reviewed alias file `country_aliases.yaml` (how sources write a country that
   ISO does not: `UK`, `England`, `Kosovo`; and a few former names);
2. ISO codes: alpha-2, alpha-3, numeric;
3. the English short, official and common names, plus "Korea, Republic of" read as
   "Republic of Korea" and "Bolivia, Plurinational State of" as "Bolivia";
4. their translations in the languages our partners write (fr, es, pt, de) from
   pycountry's gettext catalogs (`pycountry.LOCALES_DIR`);
5. former names (ISO 3166-3, `pycountry.historic_countries`), only where the code's
   alpha-4 names one current successor (Zaire -> CD, Burma -> MM; never Czechoslovakia,
   Yugoslavia or the USSR, whose successors are several);
6. a near-miss of any of those names (rapidfuzz ratio >= `FUZZY_MIN`, clearly ahead of
   any other country's best name) — conservative: a wrong country is worse than none.

A spelling that names two countries (`Congo` in some languages, `Korea` in ISO) is
ambiguous and resolves to nothing unless the alias file settles it. Every resolution
says how it was made, so that what was not exact can be reported (`resolved-values.csv`).
"""
from __future__ import annotations

import gettext
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pycountry
import yaml
from rapidfuzz import fuzz, process

ALIASES = Path(__file__).with_name("country_aliases.yaml")
#: Languages whose country names are read from pycountry's catalogs (besides English).
LANGUAGES: dict[str, str] = {"fr": "French", "es": "Spanish", "pt": "Portuguese", "pt_BR": "Portuguese", "de": "German"}
#: Minimum rapidfuzz ratio (0..100) for a near-miss, and the lead it needs over the best
#: name of any other country.
FUZZY_MIN = 90.0
FUZZY_LEAD = 5.0
_FUZZY_MIN_LENGTH = 5  # "Mali" / "Malta" are too close to tell apart by typo distance
_NO_SUCCESSOR = {"HH", "XX"}  # ISO 3166-3: divided, or no single successor


@dataclass(frozen=True)
class Resolution:
    """A resolved country: its code, and how the text was read.

    `how` is `code`, `name` or `alias` (exact: not reported), or `translation (<language>)`,
    `former name`, `near-miss of '<name>' (<score>)`.
    """

    code: str
    how: str
    exact: bool


def fold(text: str) -> str:
    """Case-, accent-, apostrophe- and whitespace-insensitive key; trailing dots dropped."""
    nfkd = unicodedata.normalize("NFKD", text)
    s = "".join(c for c in nfkd if not unicodedata.combining(c)).casefold()
    return " ".join(s.replace("’", "'").replace("`", "'").split()).strip(" .")


def _variants(name: str) -> list[str]:
    """ISO's inverted names read both ways: "Korea, Republic of" -> also "Republic of Korea"
    and "Korea"; parenthesised qualifiers dropped: "Holy See (Vatican City State)" -> "Holy See"."""
    out = [name]
    base = name.split(" (", 1)[0].strip()
    if base != name:
        out.append(base)
    head, sep, tail = name.partition(", ")
    if sep:
        out += [f"{tail} {head}", f"{head} ({tail})", head]
    return out


class _Index:
    """Folded spelling -> (code, how), tier by tier; the first tier knowing a spelling decides."""

    def __init__(self) -> None:
        self.tiers: list[dict[str, set[tuple[str, str]]]] = []

    def tier(self) -> dict[str, set[tuple[str, str]]]:
        self.tiers.append({})
        return self.tiers[-1]

    def lookup(self, key: str) -> tuple[str, str] | None:
        for tier in self.tiers:
            hits = tier.get(key)
            if hits:
                codes = {c for c, _ in hits}
                if len(codes) > 1:  # ambiguous: two countries
                    return None
                hows = sorted({h for _, h in hits})
                if len(hows) > 1 and all(h.startswith("translation (") for h in hows):  # "Italia": es and pt
                    hows = ["translation (" + ", ".join(h[len("translation ("):-1] for h in hows) + ")"]
                return codes.pop(), hows[0]
        return None


def _add(tier: dict[str, set[tuple[str, str]]], text: str, code: str, how: str) -> None:
    key = fold(text)
    if key:
        tier.setdefault(key, set()).add((code, how))


def _translations() -> dict[str, gettext.NullTranslations]:
    out = {}
    for lang in LANGUAGES:
        try:
            out[lang] = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        except OSError:  # a pycountry build without that catalog: the language is simply unknown
            continue
    return out


def _successor(historic: object) -> str | None:
    """The one current country an ISO 3166-3 entry became, from its alpha-4 code."""
    alpha4 = getattr(historic, "alpha_4", "")
    tail = alpha4[2:]
    if tail in _NO_SUCCESSOR:
        return None
    code = getattr(historic, "alpha_2") if tail == "AA" else tail
    return code if pycountry.countries.get(alpha_2=code) else None


@lru_cache(maxsize=1)
def _index() -> tuple[_Index, dict[str, str], list[str]]:
    """The tiers, plus every name (not code) -> code for near-miss search."""
    index = _Index()
    data = yaml.safe_load(ALIASES.read_text(encoding="utf-8")) or {}
    aliases = index.tier()
    for code, names in (data.get("aliases") or {}).items():
        for n in names:
            _add(aliases, str(n), str(code), "alias")
    former = data.get("former_names") or {}
    for code, names in former.items():
        for n in names:
            _add(aliases, str(n), str(code), "former name")
    codes = index.tier()
    names = index.tier()
    translated = index.tier()
    for c in pycountry.countries:
        _add(codes, c.alpha_2, c.alpha_2, "code")
        _add(codes, c.alpha_3, c.alpha_2, "code")
        _add(codes, c.numeric, c.alpha_2, "code")
        english = [getattr(c, a) for a in ("name", "official_name", "common_name") if getattr(c, a, None)]
        for n in english:
            for v in _variants(n):
                _add(names, v, c.alpha_2, "name")
        for lang, t in _translations().items():
            for n in english:
                local = t.gettext(n)
                if local != n:
                    for v in _variants(local):
                        _add(translated, v, c.alpha_2, f"translation ({LANGUAGES[lang]})")
    historic = index.tier()
    for h in pycountry.historic_countries:
        code = _successor(h)
        if code:
            for v in _variants(h.name):
                _add(historic, v, code, "former name")
    # Near-miss candidates: every name spelling of one country (codes excluded: "GBR"
    # one letter from "GBF" says nothing).
    spelled: dict[str, set[str]] = {}
    for tier in (aliases, names, translated, historic):
        for key, hits in tier.items():
            spelled.setdefault(key, set()).update(c for c, _ in hits)
    fuzzy = {k: next(iter(c)) for k, c in spelled.items() if len(c) == 1 and len(k) >= _FUZZY_MIN_LENGTH}
    return index, fuzzy, list(fuzzy)


@lru_cache(maxsize=8192)
def resolve_country(text: str | None) -> Resolution | None:
    """How `text` reads as a country, or None when unknown or ambiguous."""
    if not text or not text.strip():
        return None
    key = fold(text)
    index, fuzzy, choices = _index()
    hit = index.lookup(key)
    if hit:
        code, how = hit
        return Resolution(code, how, how in ("code", "name", "alias"))
    if len(key) < _FUZZY_MIN_LENGTH:
        return None
    best: dict[str, tuple[float, str]] = {}
    for choice, score, _ in process.extract(key, choices, scorer=fuzz.ratio, limit=10, score_cutoff=FUZZY_MIN - FUZZY_LEAD):
        code = fuzzy[choice]
        if code not in best or score > best[code][0]:
            best[code] = (score, choice)
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
    if not ranked or ranked[0][1][0] < FUZZY_MIN:
        return None
    if len(ranked) > 1 and ranked[0][1][0] - ranked[1][1][0] < FUZZY_LEAD:
        return None
    code, (score, choice) = ranked[0]
    return Resolution(code, f"near-miss of '{choice}' ({score:.0f})", False)


def to_iso2(text: str | None) -> str | None:
    """ISO alpha-2 for a country written any common way, or None when unknown."""
    hit = resolve_country(text)
    return hit.code if hit else None
