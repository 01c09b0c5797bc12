"""sniff: content checks and strict decoding, without any server."""
from __future__ import annotations

import codecs

import pytest

from se_pipeline.acquire.errors import ContentMismatch, EncodingError
from se_pipeline.acquire.sniff import charset_of, check_content, decode_text


def reason(data: bytes, **kwargs) -> str | None:
    kwargs.setdefault("expected", "csv")
    try:
        check_content(data, **kwargs)
    except ContentMismatch as e:
        return e.reason
    return None


def test_check_content_reasons() -> None:
    assert reason(b"a,b\n1,2\n") is None
    assert reason(b"a,b\n1,2\n", content_length=100) == "truncated"
    assert reason(b"a,b\n1,2\n", content_length=3) == "length_mismatch"
    assert reason(b"") == "empty"
    assert reason(codecs.BOM_UTF8) == "empty"
    assert reason(b"\n\n<!doctype HTML>\n<html>") == "html"
    assert reason(b"<p>error</p>", content_type="text/html") == "html"
    assert reason(b"a,b\x00\x00", expected="csv") == "binary"
    assert reason(b"hello", expected="json") == "not_json"
    assert reason(b"[1, 2", expected="json") == "truncated"
    assert reason(b"@prefix ex: <http://example.org/> .", expected="turtle") is None
    assert reason(b"<http://example.org/a> <http://example.org/b> 1 .", expected="turtle") is None
    assert reason(b"<html>", expected="any") is None


def test_header_check() -> None:
    ok = b'\xef\xbb\xbf"Name";"Post Code" ;Town\r\nA;B;C\r\n'
    assert reason(ok, expected_header=["Name", "Post Code", "Town"]) is None
    assert reason(b"Name\tTown\nA\tB\n", expected_header=["Name", "Town"]) is None
    assert reason(ok, expected_header=["Name", "Postcode"]) == "header_changed"
    cp = "Société,Ville\n".encode("cp1252")
    assert reason(cp, expected_header=["Société"], encoding="cp1252") is None


def test_utf16_json_with_bom() -> None:
    data = '{"a": 1}'.encode("utf-16")
    text, enc = decode_text(data, None)
    assert enc == "utf-16" and text == '{"a": 1}'
    check_content(data, expected="json", encoding=enc)


@pytest.mark.parametrize("data,declared,encoding", [
    (b"plain ascii", None, "utf-8"),
    ("caf\u00e9".encode(), "iso-8859-1", "utf-8"),  # valid UTF-8 wins over a stale label
    (codecs.BOM_UTF8 + "caf\u00e9".encode(), None, "utf-8-sig"),
    ("caf\u00e9 \u2019".encode("cp1252"), None, "cp1252"),
    ("caf\u00e9".encode("latin-1"), "latin-1", "iso8859-1"),
    ("\u0160koda \u010de\u0161tina".encode("cp1250"), "windows-1250", "cp1250"),
])
def test_decode_text(data: bytes, declared: str | None, encoding: str) -> None:
    text, enc = decode_text(data, declared)
    assert enc == encoding
    assert text == data.decode(encoding)


def test_mislabelled_latin1_falls_back_to_detection() -> None:
    data = "“quoted” café".encode("cp1252")  # 0x93/0x94 are C1 controls in latin-1
    assert decode_text(data, "iso-8859-1") == ("“quoted” café", "cp1252")


def test_garbage_and_ambiguity_refused() -> None:
    with pytest.raises(EncodingError):
        decode_text(bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 50, None)
    with pytest.raises(EncodingError):
        decode_text(bytes(range(128, 256)) * 8, None)
    with pytest.raises(EncodingError, match="ambiguous"):  # ¤ in latin-1/cp1252, € in iso8859-15
        decode_text("price \u00a4 5, caf\u00e9".encode("latin-1"), None)
    with pytest.raises(EncodingError, match="byte-order mark"):
        decode_text(codecs.BOM_UTF8 + b"\xff\xfe\xfd", None)


def test_charset_of() -> None:
    assert charset_of('text/csv; charset="Windows-1252"') == "Windows-1252"
    assert charset_of("text/csv") is None and charset_of(None) is None


def test_detect_encoding_matches_decode_text() -> None:
    from se_pipeline.acquire.sniff import detect_encoding

    big = ("id,name\n" + "1,Soci\u00e9t\u00e9 \U0001F331\n" * 200_000).encode()
    assert detect_encoding(big, None) == "utf-8"
    for data in ("caf\u00e9 \u2019".encode("cp1252"), codecs.BOM_UTF8 + b"a", "x".encode("utf-16")):
        assert detect_encoding(data, None) == decode_text(data, None)[1]
