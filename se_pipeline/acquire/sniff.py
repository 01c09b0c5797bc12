"""Cheap checks that the bytes are what the source should serve, and strict decoding.

Servers fail in ways that still return `200 OK`: an HTML error or login page, an empty
body, a body cut short, an export whose columns were renamed. Catching these here, with
a named reason, keeps a broken upstream from silently replacing good data downstream.

Error texts never quote the body (they reach public files when a source fails): they
name the check, the position and the expected form; the rejected bytes themselves are
kept in the raw store for a steward to open.

Decoding is strict on purpose: a wrong guess at an encoding turns "Société" into
"SociÃ©tÃ©" or into U+FFFD for ever, so we either decode cleanly and record the
encoding, or refuse with `EncodingError` — never `errors="replace"`.
"""
from __future__ import annotations

import codecs
import csv
import re

from charset_normalizer import from_bytes

from se_pipeline.acquire.errors import ContentMismatch, EncodingError

#: Legacy encodings tried (in preference order) when bytes are not UTF-8. Only western
#: single-byte sets: detection between e.g. cp1250 and cp1252 is unreliable, so other
#: encodings must be declared (Content-Type charset) rather than guessed.
DETECT_CANDIDATES = ("cp1252", "iso8859_15", "latin_1")
#: charset-normalizer "chaos" (mess ratio) above which a decode is not trusted.
MAX_CHAOS = 0.2
#: Two detections closer than this in chaos and coherence are a tie.
TIE = 0.01

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# C0 controls other than tab/newline/CR/form feed, DEL, and C1 controls: their presence
# after a single-byte decode means the guess is wrong (e.g. cp1252 quotes read as latin-1).
_UNCLEAN = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_BINARY_MAGIC = (b"PK\x03\x04", b"%PDF", b"\x1f\x8b", b"\x89PNG", b"\xd0\xcf\x11\xe0")
_TEXT_KINDS = ("csv", "json", "geojson", "jsonld", "turtle")
_JSON_KINDS = ("json", "geojson", "jsonld")
_PREFIX = 4096


def charset_of(content_type: str | None) -> str | None:
    """The `charset=` parameter of a Content-Type header, if any."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"').strip("'")
    return None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _clean(text: str) -> bool:
    return _UNCLEAN.search(text) is None


def decode_text(data: bytes, declared: str | None, *, source: str = "") -> tuple[str, str]:
    """Decode `data` strictly and say which encoding was used.

    Order: a byte-order mark decides; then strict UTF-8 (the norm; ASCII is UTF-8);
    then the declared charset if it decodes strictly *and* cleanly (no control
    characters, which betray e.g. cp1252 labelled latin-1); then detection among
    `DETECT_CANDIDATES`, refused when no candidate is clean or when candidates that
    decode to *different* text are tied.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as e:
                raise EncodingError(source, f"starts with a {enc} byte-order mark but is not valid {enc} "
                                            f"({e.reason} at byte {e.start})", encoding=enc) from None
    want = _codec(declared)
    if want and (want.startswith("utf-16") or want.startswith("utf-32")):
        try:
            return data.decode(want), want
        except UnicodeDecodeError as e:
            raise EncodingError(source, f"declared {want} but not valid {want} ({e.reason} at byte {e.start})",
                                encoding=want) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        first_error = utf8_error
    if want and want != "utf-8":
        try:
            text = data.decode(want)
        except UnicodeDecodeError:
            text = None
        if text is not None and _clean(text):
            return text, want
    return _detect(data, source, first_error)


def detect_encoding(data: bytes, declared: str | None, *, source: str = "") -> str:
    """The encoding `decode_text` would use, without keeping the decoded text: valid
    UTF-8 (the common case) is checked in 1 MB steps so a 200 MB body is not held twice."""
    if not data.startswith(tuple(bom for bom, _ in _BOMS)) and not (
            (_codec(declared) or "").startswith(("utf-16", "utf-32"))):
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            for i in range(0, len(data), 1 << 20):
                decoder.decode(data[i:i + (1 << 20)], final=False)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    return decode_text(data, declared, source=source)[1]


def _detect(data: bytes, source: str, utf8_error: UnicodeDecodeError) -> tuple[str, str]:
    results = list(from_bytes(data, cp_isolation=list(DETECT_CANDIDATES)))
    if not results:
        raise EncodingError(source, f"not UTF-8 ({utf8_error.reason} at byte {utf8_error.start}) "
                                    f"and no clean decode among {', '.join(DETECT_CANDIDATES)}")
    best = min(results, key=lambda m: (m.chaos, -m.coherence, _rank(m.encoding)))
    enc = _codec(best.encoding) or best.encoding
    if best.chaos > MAX_CHAOS:
        raise EncodingError(source, f"best guess {enc} still looks garbled (mess ratio {best.chaos:.2f})", encoding=enc)
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as e:
        raise EncodingError(source, f"detected {enc} but the bytes do not decode in it ({e.reason} at byte {e.start})",
                            encoding=enc) from None
    if not _clean(text):
        raise EncodingError(source, f"detected {enc} but the text contains control characters", encoding=enc)
    for other in results:
        other_enc = _codec(other.encoding) or other.encoding
        if other_enc == enc or abs(other.chaos - best.chaos) > TIE or abs(other.coherence - best.coherence) > TIE:
            continue
        try:
            other_text = data.decode(other_enc)
        except UnicodeDecodeError:
            continue
        if _clean(other_text) and other_text != text:
            raise EncodingError(source, f"ambiguous encoding: {enc} and {other_enc} both decode cleanly "
                                        "to different text; declare the charset", encoding=enc)
    return text, enc


def _rank(encoding: str) -> int:
    norm = _codec(encoding)
    names = [_codec(c) for c in DETECT_CANDIDATES]
    return names.index(norm) if norm in names else len(names)


def _prefix_text(data: bytes, encoding: str | None) -> str:
    """The first few KB as text for sniffing. An incremental decoder copes with a
    multi-byte character cut at the end; undecodable bytes fall back to latin-1, which
    is harmless here because only ASCII markers are looked for."""
    head = data[:_PREFIX]
    enc = _codec(encoding) or "utf-8"
    try:
        text = codecs.getincrementaldecoder(enc)("strict").decode(head, final=False)
    except UnicodeDecodeError:
        text = head.decode("latin-1")
    return text.lstrip("\ufeff \t\r\n")


def check_content(data: bytes, *, expected: str, expected_header: list[str] | None = None,
                  content_type: str | None = None, content_length: int | None = None,
                  encoding: str | None = None, source: str = "") -> None:
    """Raise `ContentMismatch` (with a short `reason`) if `data` is not plausibly `expected`.

    `content_length` is the length the server announced for the *decoded* body (pass
    None when a Content-Encoding such as gzip makes it incomparable); `encoding` is the
    encoding found by `decode_text`, used to read the CSV header line.
    """
    if content_length is not None and len(data) != content_length:
        reason = "truncated" if len(data) < content_length else "length_mismatch"
        raise ContentMismatch(source, reason, f"received {len(data)} bytes, Content-Length announced {content_length}",
                              transient=True)
    utf16 = (_codec(encoding) or "").startswith(("utf-16", "utf-32"))
    only_bom = len(data) <= 8 and data.strip() in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    # strip() the whole body only when its first 64 KB are blank (it copies the body)
    blank = not data or (not utf16 and not data[:65536].strip() and not data.strip())
    if blank or only_bom:
        raise ContentMismatch(source, "empty", "the body is empty (or only whitespace)")
    if expected not in _TEXT_KINDS:
        return
    if data.startswith(_BINARY_MAGIC) or (not utf16 and b"\x00" in data[:8192]):
        raise ContentMismatch(source, "binary", f"expected {expected} text but the body is binary")
    head = _prefix_text(data, encoding)
    lower = head[:1024].lower()
    looks_html = (lower.startswith(("<!doctype html", "<html", "<head", "<body"))
                  or (lower.startswith("<?xml") and "<html" in lower)
                  or ("html" in (content_type or "").lower() and lower.startswith("<")))
    if looks_html:
        raise ContentMismatch(source, "html", f"expected {expected} but got an HTML page "
                                              f"(Content-Type {content_type or 'unknown'})")
    if lower.startswith("<?xml") and expected != "turtle":
        raise ContentMismatch(source, "xml", f"expected {expected} but got XML")
    if expected in _JSON_KINDS:
        if not head.startswith(("{", "[")):
            raise ContentMismatch(source, "not_json", f"expected {expected} but the body does not start with '{{' or '['")
        tail = data[-4096:].rstrip()
        if not utf16 and not tail.endswith((b"}", b"]")):
            raise ContentMismatch(source, "truncated", f"{expected} body does not end with '}}' or ']'",
                                  transient=True)
    if expected == "csv" and expected_header:
        _check_header(data, expected_header, encoding, source)


def _check_header(data: bytes, expected_header: list[str], encoding: str | None, source: str) -> None:
    """Every expected column name must appear in the first line (exact, after trimming
    whitespace): the mapping is keyed by those names, so a renamed column is a format
    change a steward must see, not rows silently losing a field."""
    text = _header_line(data, encoding)
    delimiter = max((",", ";", "\t", "|"), key=text.count)
    names = [n.strip().lstrip("\ufeff").strip() for n in next(csv.reader([text], delimiter=delimiter), [])]
    missing = [c for c in expected_header if c not in names]
    if missing:
        raise ContentMismatch(source, "header_changed",
                              f"expected columns missing from the header (line 1): {missing}")


def _header_line(data: bytes, encoding: str | None) -> str:
    enc = _codec(encoding) or "utf-8"
    chunk = data[:65536]
    try:
        text = codecs.getincrementaldecoder(enc)("strict").decode(chunk, final=len(chunk) == len(data))
    except UnicodeDecodeError:
        text = chunk.decode("latin-1")
    text = text.lstrip("\ufeff")
    return text.splitlines()[0] if text else ""
