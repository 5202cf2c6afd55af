"""Bytes -> text with the right character set.

Order of evidence follows the HTML standard's encoding sniffing: a byte-order mark wins,
then the HTTP ``Content-Type`` charset, then a ``<meta charset>`` / ``http-equiv`` in the
first bytes, then statistical detection (charset-normalizer), then UTF-8 with replacement.
A wrong guess silently turns every Cyrillic or accented word into mojibake, so each step
is validated by actually decoding.
"""

from __future__ import annotations

import codecs
import re

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:\-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9._:\-]+)", re.I)
# Labels browsers treat as another encoding (WHATWG encoding standard).
_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "x-user-defined": "cp1252",
    "utf8": "utf-8",
    "unicode": "utf-8",
}


def _normalise(label: str) -> str | None:
    name = _ALIASES.get(label.strip().lower(), label.strip().lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _try(body: bytes, encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset=`` parameter of a Content-Type header, normalised, if any."""
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return _normalise(match.group(1)) if match else None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode an HTML body; return ``(text, encoding used)``. Never raises."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            text = _try(body, encoding)
            if text is not None:
                return text.lstrip("\ufeff"), encoding
    header = charset_from_content_type(content_type)
    text = _try(body, header)
    if text is not None and header is not None:
        return text, header
    match = _META_CHARSET.search(body[:4096])
    if match:
        meta = _normalise(match.group(1).decode("ascii", "replace"))
        # A page declaring a UTF-16 meta label is, in practice, served as ASCII-compatible bytes.
        if meta and not meta.startswith("utf-16") and not meta.startswith("utf-32"):
            text = _try(body, meta)
            if text is not None:
                return text, meta
    text = _try(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        if best is not None and best.encoding:
            detected = best.encoding
            text = _try(body, detected)
            if text is not None:
                return text, detected
    except Exception:  # a detector bug must not cost the page
        pass
    return body.decode("utf-8", errors="replace"), "utf-8"
