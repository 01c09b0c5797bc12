"""Pages in four languages: every interface string translated (extracted from the templates
by Babel, not a list kept by hand), labels, numbers and dates in the page's language, the
server negotiating the language, and the pages as a browser shows them."""
from __future__ import annotations

import re
import urllib.request
from email.message import Message
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from se_pipeline.access import landing, pages, static_docs
from se_pipeline.access.describe import describe, enterprise_iris
from se_pipeline.access.pages import LANGS, LOCALE_DIR, file_name, negotiate
from se_pipeline.access.server import ServeConfig, serve_in_thread
from se_pipeline.access.static_docs import release_store, write_static_documents
from se_pipeline.namespaces import DEFAULT_DATA_BASE, ESSGLOBAL
from se_pipeline.settings import PAGE_LANGUAGES, ConfigError, load_settings
from tests.conftest import Chromium

ROOT = Path(__file__).resolve().parents[2]
ACCESS = ROOT / "se_pipeline" / "access"
TRANSLATED = [lang for lang in LANGS if lang != pages.DEFAULT_LANG]

#: Words that show a page is in its language (interface strings of landing.html and enterprise_words.html).
SOURCES_HEADING = {"en": "Sources, licences and attribution", "fr": "Sources, licences et attribution",
                   "es": "Fuentes, licencias y atribución", "pt": "Fontes, licenças e atribuição"}
SAME_AS_HEADING = {"en": "Source:", "fr": "Source :", "es": "Fuente:", "pt": "Fonte:"}


def _marked_strings() -> set[str]:
    """Every string marked for translation, extracted as `pybabel extract -F babel.cfg` does."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {message for _, _, message, _, _ in extract_from_dir(str(ACCESS), method_map, options_map)}
    return {m if isinstance(m, str) else m[0] for m in found}


def _catalog(lang: str):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def test_every_marked_string_has_a_translation_in_every_language() -> None:
    """Fails, listing them, when a string marked in a template has no (or only a fuzzy)
    translation: such a string would show in English on that language's pages."""
    marked = _marked_strings()
    assert len(marked) > 50 and "Sources, licences and attribution" in marked and "Address" in marked
    missing: dict[str, list[str]] = {}
    for lang in TRANSLATED:
        catalog = _catalog(lang)
        missing[lang] = sorted(m for m in marked
                               if catalog.get(m) is None or not catalog.get(m).string or catalog.get(m).fuzzy)
    report = "\n".join(f"{lang}: {len(ids)} untranslated (shown in English): {ids}" for lang, ids in missing.items() if ids)
    print(report or "every marked string is translated in " + ", ".join(TRANSLATED))
    assert not report, "\n" + report


def test_translations_keep_their_placeholders_and_markup() -> None:
    """A translation naming other `%(x)s` placeholders, or dropping a link, would break the page."""
    for lang in TRANSLATED:
        for message in _catalog(lang):
            if not message.id:
                continue
            assert sorted(re.findall(r"%\(\w+\)s", message.id)) == sorted(re.findall(r"%\(\w+\)s", message.string)), message.id
            assert sorted(re.findall(r"</?\w+", message.id)) == sorted(re.findall(r"</?\w+", message.string)), message.id
        assert not list(_catalog(lang).check())


def test_a_string_missing_from_a_catalogue_shows_in_english() -> None:
    """The fallback the first test guards against: English, never an empty string or an error."""
    for lang in TRANSLATED:
        assert pages.translations(lang).gettext("A sentence no catalogue has") == "A sentence no catalogue has"
        assert pages.translations(lang).gettext("Address") != "Address"


@pytest.mark.parametrize(("asked", "header", "lang"), [
    (None, "pt-BR,pt;q=0.9,en;q=0.5", "pt"), (None, "fr-CA", "fr"), (None, "es-AR, en;q=0.3", "es"),
    (None, "de, en;q=0.9, fr;q=0.8", "en"), (None, "de;q=1, fr;q=0.4, es;q=0.6", "es"), (None, "fr;q=0, pt", "pt"),
    (None, "", "en"), (None, None, "en"), (None, "*", "en"), (None, "fr;q=abc, es", "es"),
    (None, "FR-ca", "fr"), (None, "PT", "pt"), (None, "pt-BR;q=0.5, xx;q=1", "pt"), (None, "es;q=inf", "es"),
    ("fr", "pt-BR", "fr"), ("xx", "es", "es"), ("<script>", None, "en"), (None, ";;,,q=,*;q=1," * 500, "en"),
])
def test_language_negotiation(asked: str | None, header: str | None, lang: str) -> None:
    assert negotiate(asked, header) == lang


def test_numbers_and_dates_follow_the_locale() -> None:
    page = landing.Page(release_id="r", issued="2026-03-05T10:00:00Z", total_triples=1234567)
    html = {lang: landing.render(page, lang) for lang in LANGS}
    assert 'id="total-triples">1,234,567<' in html["en"] and "March 5, 2026" in html["en"]
    assert 'id="total-triples">1\u202f234\u202f567<' in html["fr"] and "5 mars 2026" in html["fr"]
    assert 'id="total-triples">1.234.567<' in html["es"] and "5 de marzo de 2026" in html["es"]
    assert 'id="total-triples">1.234.567<' in html["pt"] and "5 de março de 2026" in html["pt"]


def test_unknown_language_renders_in_english() -> None:
    assert pages.render("release_links.html", "<x>", endpoint="/sparql").startswith('<!DOCTYPE html>\n<html lang="en">')


def _labelled_concept(sample_release: Path) -> tuple[str, dict[str, str], str]:
    """An enterprise and an organisational structure it has, labelled in all four languages."""
    store = release_store(sample_release / "dataset.nq.gz")
    for iri in enterprise_iris(store, DEFAULT_DATA_BASE):
        d = describe(store, iri)
        for t in d.statements:
            if t.predicate.value == ESSGLOBAL + "organisationalStructure" and set(d.labels.get(t.object.value, {})) == set(LANGS):
                labels = d.labels[t.object.value]
                if len(set(labels.values())) == len(LANGS):
                    return iri, labels, t.object.value
    raise AssertionError("no enterprise with a concept labelled differently in every language")


def test_release_has_every_page_in_every_language(sample_release: Path) -> None:
    iri, labels, _ = _labelled_concept(sample_release)
    page = sample_release / "id" / (iri[len(DEFAULT_DATA_BASE):] + ".html")
    for lang in LANGS:
        for name in ("index.html", "ontology.html"):
            text = (sample_release / file_name(name, lang)).read_text(encoding="utf-8")
            assert f'<html lang="{lang}">' in text
            assert all(f'hreflang="{other}" href="{file_name(name, other)}"' in text for other in LANGS)
        text = page.with_name(file_name(page.name, lang)).read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in text and f">{labels[lang]}</a>" in text
        assert f'<b lang="{lang}">{pages.LANGUAGE_NAMES[lang]}</b>' in text  # the switcher marks the current one


def test_serve_answers_in_the_accepted_language(sample_release: Path, tmp_path: Path) -> None:
    iri, labels, _ = _labelled_concept(sample_release)
    server = serve_in_thread(ServeConfig(release=sample_release, port=0, store_root=tmp_path / "stores"))
    try:
        host, port = server.address

        def get(path: str, language: str | None) -> tuple[str, Message]:
            request = urllib.request.Request(f"http://{host}:{port}{path}", headers={"Accept": "text/html"})
            if language is not None:
                request.add_header("Accept-Language", language)
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.read().decode("utf-8"), r.headers

        pt, pt_headers = get("/", "pt-BR,pt;q=0.9,en;q=0.8")
        assert '<html lang="pt">' in pt and SOURCES_HEADING["pt"] in pt and SOURCES_HEADING["en"] not in pt
        en, en_headers = get("/", None)
        assert '<html lang="en">' in en and SOURCES_HEADING["en"] in en
        assert "Accept-Language" in pt_headers["Vary"] and pt_headers["ETag"] != en_headers["ETag"]
        fr, _ = get("/?lang=fr", "pt-BR")
        assert '<html lang="fr">' in fr and SOURCES_HEADING["fr"] in fr

        path = "/id/" + iri[len(DEFAULT_DATA_BASE):]
        page, headers = get(path, "pt-BR")
        assert '<html lang="pt">' in page and f">{labels['pt']}</a>" in page and "Fonte:" in page
        assert "Accept-Language" in headers["Vary"]
        page, _ = get(path + "?lang=es", "pt-BR")
        assert '<html lang="es">' in page and f">{labels['es']}</a>" in page
        # The ETag depends on the language: a cache holding the Portuguese page is not told
        # that a French reader already has it.
        request = urllib.request.Request(f"http://{host}:{port}{path}",
                                         headers={"Accept": "text/html", "Accept-Language": "fr",
                                                  "If-None-Match": headers["ETag"]})
        with urllib.request.urlopen(request, timeout=60) as r:
            assert r.status == 200 and '<html lang="fr">' in r.read().decode()
    finally:
        server.stop()


@pytest.mark.browser
def test_pages_in_headless_chromium_in_four_languages(sample_release: Path, tmp_path: Path, chromium: Chromium) -> None:
    """The landing page and one enterprise page as Chromium shows them, in each language:
    the interface words and the concept labels are that language's. Screenshots are
    kept under the test's tmp_path (`shot-<page>-<lang>.png`) for a person to look at."""
    iri, labels, concept = _labelled_concept(sample_release)
    structure = landing.collect(sample_release).by_structure
    landing_labels = next(c.labels for c in structure if len(set(c.labels.values())) == len(LANGS))
    page = sample_release / "id" / (iri[len(DEFAULT_DATA_BASE):] + ".html")
    for lang in LANGS:
        url = (sample_release / file_name("index.html", lang)).as_uri()
        dom = chromium.dom("--virtual-time-budget=3000", url)
        assert f'<html lang="{lang}">' in dom and SOURCES_HEADING[lang] in dom
        assert f">{landing_labels[lang]}</td>" in dom
        for other in TRANSLATED:
            if other != lang:
                assert SOURCES_HEADING[other] not in dom
        enterprise = page.with_name(file_name(page.name, lang)).as_uri()
        dom = chromium.dom(enterprise)
        assert f'<html lang="{lang}">' in dom and SAME_AS_HEADING[lang] in dom
        assert f'title="{concept}">{labels[lang]}</a>' in dom
        for name, target in (("landing", url), ("enterprise", enterprise)):
            shot = tmp_path / f"shot-{name}-{lang}.png"
            chromium(f"--screenshot={shot}", "--window-size=1100,900", "--virtual-time-budget=3000", target)
            assert shot.stat().st_size > 10_000
    print(f"screenshots: {tmp_path}/shot-*.png")


def test_page_languages_are_configured_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("page_languages: [pt]\n", encoding="utf-8")
    assert load_settings(config).page_languages == ("en", "pt")  # English, the fallback, always
    assert load_settings(None).page_languages == LANGS == PAGE_LANGUAGES
    config.write_text("page_languages: [de]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="page_languages"):
        load_settings(config)


def test_documents_only_in_the_languages_asked_for(sample_release: Path, tmp_path: Path) -> None:
    n = write_static_documents(release_store(sample_release / "dataset.nq.gz"), tmp_path, DEFAULT_DATA_BASE,
                               langs=static_docs._langs("pt"))
    pages_written = sorted(p.name for p in (tmp_path / "id").rglob("*.html"))
    assert len(pages_written) == 2 * n and sum(name.endswith(".pt.html") for name in pages_written) == n
    one = next((tmp_path / "id").rglob("*.pt.html")).read_text(encoding="utf-8")
    assert 'hreflang="pt"' in one and 'hreflang="fr"' not in one  # no link to a page that was not written
    with pytest.raises(Exception, match="among en,fr,es,pt"):
        static_docs._langs("pt,de")
