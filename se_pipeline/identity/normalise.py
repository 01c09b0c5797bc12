"""Match keys: the normalised forms two records are compared on.

Sources spell the same organisation differently ("The Midcounties Co-operative Limited",
"Midcounties Cooperative"), write postcodes with irregular spacing and pad registry
numbers differently ("1673378" vs "01673378"). Reconciliation only works if every source
is reduced to the same keys first; these functions are pure, cheap and deterministic so
the matcher can apply them to 10^6 rows and tests can pin their behaviour.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable
from urllib.parse import urlsplit

import pandas as pd

from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.namespaces import DEFAULT_DATA_BASE

# Legal-form words and articles dropped from names (after accent folding, punctuation
# removal and joining of dotted abbreviations such as "S.C.L." -> "scl"). Dropped
# anywhere in the name: sources disagree on where (or whether) they write the form.
LEGAL_TOKENS: frozenset[str] = frozenset(
    """
    the ltd limited cooperative cooperatives coop coops cooperativa cooperativas cooperatives
    cooperativo cooperatief cooperatieve society societies soc scl sccl sca scoop eg ev
    inc incorporated llc llp lllp cic cio plc genossenschaft sociale srl arl gmbh corp
    corporation rl
    """.split()
)

# The co-operative words of LEGAL_TOKENS: a name without them can be too short to say
# anything ("The Phone Co-op" -> "phone"), so `name_key` keeps them in that case.
_COOP_TOKENS: frozenset[str] = frozenset(
    "cooperative cooperatives coop coops cooperativa cooperativas cooperativo cooperatief cooperatieve".split()
)
#: A whole name is a key on its own (`name_key`) from this many characters and words up.
KEY_MIN_CHARS, KEY_MIN_WORDS = 10, 2
_SMALL_WORDS = frozenset("and of for the de la le du des et y e".split())

# Platforms where the *path* names the organisation (facebook.com/foo) or that host many
# unrelated sites: sharing the domain says nothing. Sub-domains are generic too.
_PATH_PLATFORMS: frozenset[str] = frozenset(
    """
    facebook.com fb.com fb.me instagram.com twitter.com x.com linkedin.com youtube.com youtu.be
    google.com sites.google.com goo.gl bit.ly linktr.ee linktree.com wix.com tumblr.com
    medium.com meetup.com eventbrite.com eventbrite.co.uk flickr.com pinterest.com
    tiktok.com vk.com t.me whatsapp.com wa.me about.me yelp.com tripadvisor.com
    tripadvisor.co.uk gofundme.com crowdfunder.co.uk patreon.com etsy.com amazon.com
    mailchimp.com eepurl.com list-manage.com typeform.com forms.gle github.com gitlab.com
    """.split()
)
# Platforms giving each user a sub-domain (foo.wordpress.com): only the bare platform
# domain is generic; "foo.wordpress.com" is foo's own site.
_SUBDOMAIN_PLATFORMS: frozenset[str] = frozenset(
    """
    wordpress.com blogspot.com blogger.com wixsite.com weebly.com squarespace.com jimdo.com
    jimdofree.com webs.com yolasite.com github.io netlify.app business.site carrd.co
    strikingly.com webnode.com over-blog.com tripod.com angelfire.com godaddysites.com
    ueniweb.com site123.me
    """.split()
)
GENERIC_DOMAINS: frozenset[str] = _PATH_PLATFORMS | _SUBDOMAIN_PLATFORMS

_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}(?:[a-z]\b)?")  # s.c.l. / e.g. / a.r.l
_COOP = re.compile(r"\bco[\s\-‐‑–_.]?op(?:erative)?(s?)\b")
_ARL = re.compile(r"\ba\.?\s?r\.?\s?l\.?(?=\W|$)")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_WWW = re.compile(r"^www\d*\.")
_CH = re.compile(r"^([A-Z]{2})(\d{1,6})$")
_FCA = re.compile(r"^(?:IP)?0*(\d+[A-Z]*)$")


def fold(text: Any) -> str:
    """Casefold, fold accents (é -> e, ß -> ss), and reduce punctuation to single spaces."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    s = str(text).casefold()
    if not s.isascii():  # most names are ASCII: NFKD and the combining scan change nothing there
        s = unicodedata.normalize("NFKD", s)
        s = "".join(c for c in s if not unicodedata.combining(c))
    s = _ARL.sub(" arl ", s)  # Italian "a r.l." (a responsabilità limitata)
    s = s.replace("&", " and ").replace("'", "").replace("’", "")
    s = _DOTTED.sub(lambda m: m.group(0).replace(".", "") + " ", s)
    s = _COOP.sub(lambda m: "cooperative" + m.group(1), s)
    return _NON_ALNUM.sub(" ", s).strip()


def normalise_name(name: Any) -> str:
    """Comparable name: folded, legal forms and articles dropped.

    If nothing is left ("The Co-operative"), the folded name is returned rather than an
    empty key, which would match every other empty key.
    """
    return _forms(name)[0]


def _forms(name: Any) -> tuple[str, str | None]:
    """(normalise_name, name_key) from one folding of the name."""
    folded = fold(name)
    words = folded.split()
    plain = [t for t in words if t not in LEGAL_TOKENS]
    key = None
    for tokens in (plain, [t for t in words if t not in LEGAL_TOKENS or t in _COOP_TOKENS]):
        joined = " ".join(tokens)
        if len(tokens) >= KEY_MIN_WORDS and len(joined) >= KEY_MIN_CHARS:
            key = joined
            break
    return (" ".join(plain) if plain else folded), key


def name_key(name: Any) -> str | None:
    """The whole name as a matching key, or None when it is too generic to be one.

    The normalised name (legal forms dropped) when it has >= `KEY_MIN_WORDS` words and
    >= `KEY_MIN_CHARS` characters ("infinity foods"); else the name with only its company
    forms dropped, the co-operative words kept ("The Phone Co-op Limited" -> "phone
    cooperative"), under the same condition; else None ("Humane Limited")."""
    return _forms(name)[1]


def initials(normalised: str) -> str:
    """First letters of a normalised name's words, small words left out: "bute community
    power" -> "bcp". Empty for one-word names (their initial says nothing)."""
    words = [w for w in normalised.split() if w not in _SMALL_WORDS]
    return "".join(w[0] for w in words) if len(words) >= 2 else ""


def domain_stem(domain: str) -> str:
    """The name part of a website domain: "bcp.coop" -> "bcp", "two-rivers.org.uk" ->
    "tworivers" (first label, hyphens dropped)."""
    return domain.split(".", 1)[0].replace("-", "")


def website_domain(url: Any) -> str | None:
    """Host of a URL, lower-case, IDNA (punycode), without scheme, `www.`, port or path."""
    if url is None or (isinstance(url, float) and pd.isna(url)):
        return None
    text = str(url).strip()
    if not text:
        return None
    if "://" not in text:
        text = "http://" + text.lstrip("/")
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        return None
    host = _WWW.sub("", host.strip(".").lower())
    if not host or "." not in host:
        return None
    if host.isascii():  # IDNA leaves an ASCII host as it is (or fails, and it is kept as it is)
        return host
    try:
        import idna

        host = idna.encode(host, uts46=True).decode("ascii")
    except Exception:  # noqa: BLE001 - idna raises several types; keep the unicode host
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return host


def is_generic_domain(domain: str | None) -> bool:
    """True for hosting / social platforms whose domain is shared by unrelated bodies."""
    if not domain:
        return True
    if domain in GENERIC_DOMAINS:
        return True
    return any(domain.endswith("." + p) for p in _PATH_PLATFORMS)


def postcode_key(postcode: Any) -> str | None:
    """Postcode with spaces and punctuation removed, upper case ("cv34 6da" -> "CV346DA")."""
    if postcode is None or (isinstance(postcode, float) and pd.isna(postcode)):
        return None
    key = re.sub(r"[^0-9A-Za-z]", "", str(postcode)).upper()
    return key or None


def identifier_key(identifier: Any) -> str | None:
    """Canonical `scheme:value` of a registry identifier, or None if malformed.

    Companies House numbers are 8 characters, zero-padded (some sources drop the zeros);
    FCA mutuals numbers lose leading zeros and the legacy `IP` prefix. Other schemes
    (flo, usda, dotcoop, ...) are kept as given apart from whitespace, and upper-cased
    except `dotcoop` registrant handles, which are case-sensitive.
    """
    if identifier is None or not isinstance(identifier, str):
        return None
    scheme, sep, value = identifier.partition(":")
    scheme = scheme.strip().lower()
    value = re.sub(r"\s+", "", value)
    if not sep or not scheme or not value:
        return None
    if scheme != "dotcoop":
        value = value.upper()
    if scheme == "companies-house":
        if value.isdigit():
            value = value.zfill(8)
        elif m := _CH.match(value):
            value = m.group(1) + m.group(2).zfill(6)
    elif scheme == "fca":
        if m := _FCA.match(value):
            value = m.group(1)
    return f"{scheme}:{value}"


# Crown Dependencies use UK-format postcodes and UK registries file them under the UK;
# for *matching* (never for publishing) they count as GB.
MATCH_COUNTRY: dict[str, str] = {"JE": "GB", "GG": "GB", "IM": "GB"}


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, float) and pd.isna(value):
        return []
    if hasattr(value, "tolist"):
        value = value.tolist()
    return list(value) if isinstance(value, Iterable) else [value]


def _unique(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _float(value: Any) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return f


def match_keys(frame: pd.DataFrame, base: str = DEFAULT_DATA_BASE) -> pd.DataFrame:
    """One row per canonical record with everything the matcher compares.

    Columns: iri, source, record_id, names (list of normalised names: the name and its
    alternate names), key (`name_key` of the name), domains (non-generic website domains), postcode (key), country (Crown Dependencies as GB, see MATCH_COUNTRY),
    locality (folded), lat, lon (floats, NaN if unknown), ids (canonical identifier keys).
    """
    sources = frame["source"].astype(str).tolist()
    rids = frame["record_id"].astype(str).tolist()
    alt = frame["alternate_names"] if "alternate_names" in frame else [[]] * len(frame)
    forms = [_forms(n) for n in frame["name"].tolist()]
    names = [_unique([f[0]] + [normalise_name(a) for a in _as_list(alts)]) for f, alts in zip(forms, alt)]
    domains = [
        _unique(d for d in (website_domain(u) for u in _as_list(ws)) if not is_generic_domain(d))
        for ws in frame["websites"]
    ]
    ids = [_unique(identifier_key(i) for i in _as_list(v)) for v in frame["identifiers"]]
    country = [MATCH_COUNTRY.get(c.upper(), c.upper()) if isinstance(c, str) and c else None for c in frame["country"]]
    return pd.DataFrame(
        {
            "iri": [enterprise_iri(s, r, base) for s, r in zip(sources, rids)],
            "source": sources,
            "record_id": rids,
            "names": names,
            "key": [f[1] for f in forms],
            "domains": domains,
            "postcode": [postcode_key(p) for p in frame["postcode"]],
            "country": country,
            "locality": [fold(v) or None for v in frame["locality"]],
            "lat": [_float(v) for v in frame["lat"]],
            "lon": [_float(v) for v in frame["lon"]],
            "ids": ids,
        }
    )
