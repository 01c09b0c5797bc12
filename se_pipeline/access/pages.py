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

Translation: the i18n extension is loaded with null translations, so templates mark
interface words with `_()` or `{% trans %}` (what Babel extracts) and every page gets a
`lang` variable; a message catalogue can be installed here later without touching a
template. Pages rendered in bulk take their words from a template of `{% set %}`s
evaluated once per language (`words`), not from a `_()` call per word and page.
"""
from __future__ import annotations

from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

import jinja2
from markupsafe import Markup, escape

#: The language pages are written in until message catalogues exist.
DEFAULT_LANG = "en"


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


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("se_pipeline.access", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension
    env.filters["lines"] = _lines
    env.filters["href"] = _href
    env.tests["weblink"] = weblink
    return env


ENVIRONMENT = _environment()


@lru_cache(maxsize=None)
def template(name: str) -> jinja2.Template:
    """The compiled template `name` (under `access/templates/`), compiled once per process."""
    return ENVIRONMENT.get_template(name)


@lru_cache(maxsize=None)
def words(name: str, lang: str = DEFAULT_LANG) -> Any:
    """The variables `{% set %}` by template `name` (interface words through `_()`),
    evaluated once per language and process, for pages rendered in bulk."""
    return template(name).make_module({"lang": lang})


def render(name: str, lang: str = DEFAULT_LANG, **context: Any) -> str:
    """Template `name` rendered with `context` and the page language `lang`."""
    return _html_escape_spelling(template(name).render(lang=lang, **context))


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
