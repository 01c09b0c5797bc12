from __future__ import annotations

import pytest

from se_pipeline.identity.normalise import identifier_key, is_generic_domain, normalise_name, postcode_key, website_domain


@pytest.mark.parametrize(
    "a, b",
    [
        ("The Midcounties Co-operative Limited", "Midcounties Cooperative"),
        ("East of England Co-operative Society Ltd", "East of England Co-op"),
        ("Bäckerei Müller eG", "Backerei Muller e.G."),
        ("Coopérative S.C.L. Éléphant", "elephant"),
        ("cooperativa sociale L'Utopia a r.l.", "Lutopia"),
        ("Acme Housing Co-op LLP", "ACME housing"),
        ("Foo Genossenschaft", "foo"),
        ("soc. coop. Rossi", "Rossi"),
        ("Bar Inc.", "bar, LLC"),
        ("Baz CIC", "baz plc"),
    ],
)
def test_names_equal_after_normalisation(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_name_made_only_of_legal_words_is_not_empty() -> None:
    assert normalise_name("The Co-operative") != ""


@pytest.mark.parametrize(
    "url, domain",
    [
        ("HTTPS://www.Example.org:8080/path?q=1", "example.org"),
        ("example.org/about", "example.org"),
        ("http://www2.example.org", "example.org"),
        ("http://bücher.de/", "xn--bcher-kva.de"),
        ("not a url", None),
    ],
)
def test_website_domain(url: str, domain: str | None) -> None:
    assert website_domain(url) == domain


@pytest.mark.parametrize("d", ["facebook.com", "m.facebook.com", "wordpress.com", "sites.google.com", "linktr.ee", "wix.com"])
def test_generic_domains(d: str) -> None:
    assert is_generic_domain(d)


def test_user_subdomain_on_hosting_platform_is_specific() -> None:
    assert not is_generic_domain("acmecoop.wordpress.com")


def test_postcode_and_identifier_keys() -> None:
    assert postcode_key(" cv34  6da ") == postcode_key("CV346DA") == "CV346DA"
    assert identifier_key("companies-house:1673378") == identifier_key("companies-house:01673378")
    assert identifier_key("companies-house:sc 1234") == "companies-house:SC001234"
    assert identifier_key("fca:IP00525r") == "fca:525R"
    assert identifier_key("dotcoop:abC") == "dotcoop:abC"
    assert identifier_key("garbage") is None
