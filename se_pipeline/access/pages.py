"""The one Jinja2 environment every HTML page is rendered with (landing page, ontology.html,
the `id/` documents and the server's answers for an enterprise IRI).

Why one environment: the pages share a layout (`templates/base.html`: head, styles,
header, footer) and one escaping rule, and are compiled once per process — the `id/`
documents are rendered once per enterprise (10^6 at the largest size we run), so
`template(name)` hands out the compiled template instead of looking it up per page.

Escaping: autoescape is on (MarkupSafe), so every `{{ }}` is escaped unless it is markup
made by a template; `render` then spells the two quote entities as `html.escape` does, so
the pages kept the bytes they had before they were templates. Links from data go through
the `weblink` test or the `href` filter (http(s) only). `StrictUndefined` makes a
misspelt variable an error instead of an empty string.

Translation: templates mark interface words with `_()` or `{% trans %}` (what Babel
extracts into `locale/messages.pot`, see `babel.cfg`), and there is one environment per
language (`LANGS`) with that language's catalogue (`locale/<lang>/LC_MESSAGES/messages.po`)
installed, so a compiled template never switches catalogues between pages. The `.po`
files are read at first use (Babel compiles them in memory): the package ships them, no
build step, and a message missing from a catalogue shows in English (the tests list such
messages and fail). Numbers and dates go through the `number` and `date` filters (Babel,
the environment's locale). Pages rendered in bulk take their words from a template of
`{% set %}`s evaluated once per language (`words`), not from a `_()` call per word and page.

Every page has one file (or answer) per language: `alternates` gives the links between
them (`hreflang` in the head, the language switcher in the header).
"""
from __future__ import annotations

import gettext
import io
from datetime import date, datetime
from functools import lru_cache, partial
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from babel import Locale, negotiate_locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from markupsafe import Markup, escape

#: The language the templates are written in, and of the page without a language suffix.
DEFAULT_LANG = "en"
#: Every language pages are made in (the languages of our concept labels).
LANGS = ("en", "fr", "es", "pt")
#: The message catalogues (`<lang>/LC_MESSAGES/messages.po`) and their template (`messages.pot`).
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


def weblink(iri: str) -> bool:
    """Whether an IRI from the data may become a link: only http(s), never `javascript:`,
    `data:` or other schemes a browser would act on."""
    return iri.startswith(("http://", "https://"))


def _href(iri: str) -> str:
    """A link target for an IRI from the data: itself when it is http(s), else `#` (a link
    that goes nowhere)."""
    return iri if weblink(iri) else "#"


def _lines(text: str) -> str | Markup:
    """Text whose line breaks are shown (`<br>`), the rest escaped (text without one is
    left to autoescape, the common case)."""
    if "\n" not in text:
        return text
    return Markup(str(escape(text)).replace("\n", "<br>"))


def _html_escape_spelling(page: str) -> str:
    """The page with quotes escaped as `html.escape` spells them (`&quot;`, `&#x27;`), not
    as MarkupSafe does (`&#34;`, `&#39;`): the same characters, and the very bytes the
    pages had before they were templates. Safe on a whole page: a `&` from data is always
    escaped to `&amp;`, so these two sequences in the output are only ever entities."""
    return page.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")


def html_text(text: str) -> str:
    """Text as a template's `{{ }}` shows it on a page (escaped, quotes spelt as `render`
    spells them), for a value a page takes outside a template: `describe._frame`."""
    return _html_escape_spelling(str(escape(text)))


def page_lang(lang: str | None) -> str:
    """`lang` when pages are made in it, else the default language."""
    return lang if lang in LANGS else DEFAULT_LANG


def accepted_languages(header: str) -> list[str]:
    """The language ranges of an `Accept-Language` header, most wanted first (q-values,
    RFC 9110 12.5.4; ties keep the header's order); `*` and ranges with q=0 are dropped."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:32]):  # a hostile header costs nothing
        tag, *params = (x.strip() for x in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and tag != "*" and q > 0:
            ranked.append((-q, i, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(asked: str | None, accept_language: str | None) -> str:
    """The language of a served page: `asked` (`?lang=`) when pages are made in it, else
    the first of `Accept-Language` they are made in (Babel's `negotiate_locale`: `pt-BR`
    is answered in `pt`), else the default language."""
    if asked in LANGS:
        return asked
    preferred = accepted_languages(accept_language or "")
    return page_lang((negotiate_locale(preferred, LANGS, sep="-") or "").lower())  # it echoes the header's case


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of `lang` (none for the default language: the templates' own words),
    compiled in memory from its `.po` file; fuzzy entries are not used."""
    if lang == DEFAULT_LANG:
        return gettext.NullTranslations()
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _date(value: str | date, lang: str) -> str:
    """An ISO date or date-time (as in the catalog) in the locale's long date format; text
    that is not one is shown as it is."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return format_date(value, format="long", locale=lang)


@lru_cache(maxsize=None)
def environment(lang: str = DEFAULT_LANG) -> jinja2.Environment:
    """The environment of language `lang`: its catalogue installed, numbers and dates in its locale."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("se_pipeline.access", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension
    env.filters["lines"] = _lines
    env.filters["href"] = _href
    env.filters["number"] = partial(format_decimal, locale=lang)
    env.filters["date"] = partial(_date, lang=lang)
    env.tests["weblink"] = weblink
    env.globals["language_names"] = LANGUAGE_NAMES
    # The layout's own words, translated once per language (markup, as `_()` gives it):
    # a `_()` call per page costs a sixth of rendering an enterprise page.
    env.globals["layout_words"] = {"language": Markup(translations(lang).gettext("Language"))}
    return env


#: Each language by its own name, as a language switcher shows it.
LANGUAGE_NAMES = {lang: Locale.parse(lang).get_display_name(lang).capitalize() for lang in LANGS}


@lru_cache(maxsize=None)
def template(name: str, lang: str = DEFAULT_LANG) -> jinja2.Template:
    """The compiled template `name` (under `access/templates/`) in language `lang`,
    compiled once per process and language."""
    return environment(lang).get_template(name)


@lru_cache(maxsize=None)
def words(name: str, lang: str = DEFAULT_LANG) -> Any:
    """The variables `{% set %}` by template `name` (interface words through `_()`),
    evaluated once per language and process, for pages rendered in bulk."""
    return template(name, lang).make_module({"lang": lang})


def file_name(name: str, lang: str) -> str:
    """The static file of page `name` in `lang`: `name` itself in the default language,
    else the language before the extension (`index.html` -> `index.fr.html`), the
    naming Apache's MultiViews and our nginx map understand (docs/serving.md)."""
    if lang == DEFAULT_LANG:
        return name
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{lang}.{ext}" if dot else f"{name}.{lang}"


@lru_cache(maxsize=1 << 12)
def file_alternates(name: str, langs: tuple[str, ...] = LANGS) -> tuple[tuple[str, str], ...]:
    """(language, relative link) of the static files of page `name` in `langs`."""
    return tuple((lang, quote(file_name(name, lang), safe="")) for lang in langs)


#: (language, link) of a served page in every language: the same path, `?lang=`.
QUERY_ALTERNATES = tuple((lang, f"?lang={lang}") for lang in LANGS)


@lru_cache(maxsize=None)
def _globals(name: str, lang: str) -> dict[str, Any]:
    """The globals of template `name` in `lang` as one plain dict, made once: Jinja keeps
    them as a `ChainMap`, which `Template.render` copies item by item into every page's
    context (a fifth of an enterprise page's render)."""
    return dict(template(name, lang).globals)


def render(name: str, lang: str = DEFAULT_LANG, alternates: tuple[tuple[str, str], ...] = QUERY_ALTERNATES,
           **context: Any) -> str:
    """Template `name` rendered with `context` in language `lang` (an unknown language
    renders in the default one); `alternates` are the page's versions in every language.

    What `Template.render` does, with a context made from the template's globals copied
    once (`_globals`) and this page's variables (`new_context(shared=True)`: taken as
    given, nothing merged per page)."""
    lang = page_lang(lang)
    page = template(name, lang)
    variables = {**_globals(name, lang), "lang": lang, "alternates": alternates, **context}
    try:
        text = page.environment.concat(page.root_render_func(page.new_context(variables, shared=True)))  # type: ignore[attr-defined]
    except Exception:
        page.environment.handle_exception()
    return _html_escape_spelling(text)


class _HeadRead(Exception):
    """The page's head is read: nothing after it can state a policy."""


class _PolicyReader(HTMLParser):
    """Finds a page's `<meta http-equiv="Content-Security-Policy">` in its head."""

    def __init__(self) -> None:
        super().__init__()
        self.policy: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "content-security-policy":
            self.policy = self.policy or values.get("content")
        if tag == "body":
            raise _HeadRead


def page_csp(page: bytes) -> str | None:
    """The Content-Security-Policy a page of ours states for itself (the landing page's
    allows its map's inline scripts by hash), so a server can send it as a header: a
    generic header policy would intersect with it and block those scripts."""
    reader = _PolicyReader()
    try:
        reader.feed(page.decode("utf-8", "replace"))
    except _HeadRead:
        pass
    return reader.policy
