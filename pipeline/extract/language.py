"""The article's language (ISO 639-1): what the page declares when plausible, else detected.

Pages declare their language in ``<html lang>``, ``og:locale`` or ``Content-Language``, and
templates often get it wrong: a CMS left at ``lang="en"`` publishes Chinese, a multilingual
site declares its default language on every page. A declaration is kept when the text is
written in a script that language uses (the cheap check, no model); otherwise, or when the
page declares nothing usable, the text is classified by py3langid (naive Bayes over byte
n-grams, 97 languages). Its model costs ~1.5 s and ~70 MB once per process, so it is loaded
only on the first page that needs it; a classification costs ~2 ms on a few thousand
characters. Below :data:`MIN_CONFIDENCE` (or on too little text) the page gets no detected
language: a consumer filtering by language is better served by "unknown" than by a guess.

lingua was measured too (low-accuracy mode: ~100 MB resident, ~6 ms a page, a 96 MB wheel):
no better on news text, heavier on every count.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any

#: Normalised-probability floor for a detected language.
MIN_CONFIDENCE = 0.80
#: Fewer letters than this and the page gets no detected language.
MIN_LETTERS = 40
#: Characters of text handed to the detector (its cost is linear in the length).
DETECT_CHARS = 3000

# ISO 639-2/3 codes pages use for the languages that have an ISO 639-1 code.
_THREE_TO_TWO = {
    "ara": "ar", "zho": "zh", "chi": "zh", "cmn": "zh", "yue": "zh", "jpn": "ja", "kor": "ko",
    "rus": "ru", "ukr": "uk", "deu": "de", "ger": "de", "spa": "es", "fra": "fr", "fre": "fr",
    "eng": "en", "ita": "it", "por": "pt", "nld": "nl", "dut": "nl", "pol": "pl", "tur": "tr",
    "tha": "th", "vie": "vi", "ind": "id", "msa": "ms", "may": "ms", "hin": "hi", "ben": "bn",
    "fas": "fa", "per": "fa", "heb": "he", "ell": "el", "gre": "el", "swe": "sv", "nor": "no",
    "nob": "no", "nno": "nn", "dan": "da", "fin": "fi", "ces": "cs", "cze": "cs", "slk": "sk",
    "slo": "sk", "hun": "hu", "ron": "ro", "rum": "ro", "bul": "bg", "hrv": "hr", "srp": "sr",
    "cat": "ca", "urd": "ur", "tam": "ta", "tel": "te", "fil": "tl", "tgl": "tl",
}  # fmt: skip
# Legacy or regional spellings of ISO 639-1 codes.
_ALIASES = {"iw": "he", "in": "id", "ji": "yi", "nb": "no", "jw": "jv"}
_UNUSABLE = {"und", "mul", "zxx", "mis", "xx", "x"}

# Scripts a language is written in (the ones a declaration is checked against). A language
# not listed is written in Latin script.
_SCRIPTS: dict[str, frozenset[str]] = {}
for _codes, _scripts in (
    ("zh", {"han"}),
    ("ja", {"kana", "han"}),
    ("ko", {"hangul", "han"}),
    ("ar fa ur ps ug sd ckb", {"arabic"}),
    ("ku", {"arabic", "latin"}),
    ("he yi", {"hebrew"}),
    ("ru uk bg mk be mn tg tt ba ky cv os", {"cyrillic"}),
    ("sr kk uz az bs", {"cyrillic", "latin"}),
    ("el", {"greek"}),
    ("hy", {"armenian"}),
    ("ka", {"georgian"}),
    ("hi mr ne sa", {"devanagari"}),
    ("bn as", {"bengali"}),
    ("th", {"thai"}),
    ("lo", {"lao"}),
    ("km", {"khmer"}),
    ("my", {"myanmar"}),
    ("am ti", {"ethiopic"}),
    ("ta", {"tamil"}),
    ("te", {"telugu"}),
    ("kn", {"kannada"}),
    ("ml", {"malayalam"}),
    ("gu", {"gujarati"}),
    ("pa", {"gurmukhi", "arabic"}),
    ("si", {"sinhala"}),
    ("or", {"oriya"}),
    ("dv", {"thaana"}),
):
    for _code in _codes.split():
        _SCRIPTS[_code] = frozenset(_scripts)
_LATIN = frozenset({"latin"})

# Unicode blocks -> script (first code point of each block, in order); letters only are counted.
_BLOCKS: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x0780, 0x07BF, "thaana"),
    (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bengali"),
    (0x0A00, 0x0A7F, "gurmukhi"),
    (0x0A80, 0x0AFF, "gujarati"),
    (0x0B00, 0x0B7F, "oriya"),
    (0x0B80, 0x0BFF, "tamil"),
    (0x0C00, 0x0C7F, "telugu"),
    (0x0C80, 0x0CFF, "kannada"),
    (0x0D00, 0x0D7F, "malayalam"),
    (0x0D80, 0x0DFF, "sinhala"),
    (0x0E00, 0x0E7F, "thai"),
    (0x0E80, 0x0EFF, "lao"),
    (0x1000, 0x109F, "myanmar"),
    (0x10A0, 0x10FF, "georgian"),
    (0x1100, 0x11FF, "hangul"),
    (0x1200, 0x139F, "ethiopic"),
    (0x1780, 0x17FF, "khmer"),
    (0x1E00, 0x1EFF, "latin"),
    (0x3040, 0x30FF, "kana"),
    (0x3130, 0x318F, "hangul"),
    (0x31F0, 0x31FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0xFF66, 0xFF9F, "kana"),
)


def _script_of(ch: str) -> str | None:
    point = ord(ch)
    for start, end, script in _BLOCKS:
        if start <= point <= end:
            return script
        if point < start:
            return None
    return "han" if 0x20000 <= point <= 0x2FFFF else None


#: One private-use character per script, and every code point of :data:`_BLOCKS` mapped to
#: its script's character (first block wins, as in :func:`_script_of`): ``str.translate``
#: then classifies a text's letters in one C pass (a Python loop over every character was
#: a fifth of the extraction's CPU).
_SCRIPT_NAMES = tuple(dict.fromkeys(script for _, _, script in _BLOCKS))
_MARKS = {script: chr(0xE000 + i) for i, script in enumerate(_SCRIPT_NAMES)}
_TABLE: dict[int, str] = {}
for _start, _end, _script in _BLOCKS:
    for _point in range(_start, _end + 1):
        _TABLE.setdefault(_point, _MARKS[_script])
_HAN_SUPPLEMENTARY = re.compile("[\U00020000-\U0002ffff]")


def _script_counts(letters: str) -> dict[str, int]:
    """Letters per script, in the order each script first occurs (as a per-letter loop counts)."""
    marked = letters.translate(_TABLE)
    found: list[tuple[int, str, int]] = []
    for script, mark in _MARKS.items():
        count = marked.count(mark)
        if count:
            found.append((marked.find(mark), script, count))
    if letters and max(letters) > "\uffff":  # Han beyond the BMP (private-use marks never are)
        extra = _HAN_SUPPLEMENTARY.findall(letters)
        if extra:
            first = _HAN_SUPPLEMENTARY.search(letters)
            assert first is not None
            han = next((f for f in found if f[1] == "han"), None)
            if han is not None:
                found.remove(han)
            found.append(
                (
                    min(first.start(), han[0]) if han else first.start(),
                    "han",
                    len(extra) + (han[2] if han else 0),
                )
            )
    return {script: count for _, script, count in sorted(found)}


def dominant_script(text: str) -> tuple[str | None, int]:
    """The script most letters of ``text`` are written in, and how many letters it has."""
    alpha = "".join(filter(str.isalpha, text))
    letters = len(alpha)
    counts = _script_counts(alpha)
    if not counts:
        return None, letters
    # Japanese mixes kana and kanji: any real share of kana makes the text Japanese-script.
    if counts.get("kana", 0) >= 0.1 * letters:
        return "kana", letters
    return max(counts, key=lambda s: counts[s]), letters


def normalise_code(raw: str | None) -> str | None:
    """``"en-US"``, ``"pt_BR"``, ``"zho"``, ``"iw"`` -> an ISO 639-1 code; junk -> None."""
    if not raw:
        return None
    code = raw.strip().replace("_", "-").split("-")[0].split(",")[0].strip().lower()
    if not code.isascii() or not code.isalpha() or code in _UNUSABLE:
        return None
    code = _ALIASES.get(code, code)
    if len(code) == 3:
        return _THREE_TO_TWO.get(code)
    return code if len(code) == 2 else None


def plausible(code: str, text: str) -> bool:
    """Whether ``text`` is written in a script language ``code`` uses (True on too little text)."""
    script, letters = dominant_script(text[:DETECT_CHARS])
    if script is None or letters < MIN_LETTERS:
        return True
    return script in _SCRIPTS.get(code, _LATIN)


_lock = threading.Lock()
_identifier: Any = None


def _load() -> Any:
    """py3langid's model restricted to the languages that have an ISO 639-1 code.

    The restricted copy is built from the model file's arrays so the full-width table is not
    kept alongside it (``set_languages`` keeps both: ~25 MB more per process).
    """
    global _identifier
    with _lock:
        if _identifier is None:
            import numpy as np
            from py3langid import langid

            try:
                ptc, pc, classes, nextmove, row, output = langid._load_model_file(
                    langid.MODEL_DIR / langid.MODEL_FILE
                )
            except (AttributeError, TypeError, ValueError):  # pragma: no cover - another layout
                full = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
                full.set_languages([code for code in full.labels if len(code) == 2])
                _identifier = full
                return full
            keep = [i for i, code in enumerate(classes) if len(code) == 2]
            _identifier = langid.LanguageIdentifier(
                np.ascontiguousarray(np.asarray(ptc)[:, keep]),
                np.asarray(pc)[keep],
                [classes[i] for i in keep],
                nextmove,
                output,
                norm_probs=True,
                tk_row=row,
            )
        return _identifier


def detect_language(text: str) -> tuple[str, float] | None:
    """The language of ``text`` and the detector's confidence, or None on too little text."""
    sample = unicodedata.normalize("NFC", " ".join(text[:DETECT_CHARS].split()))
    if sum(1 for ch in sample if ch.isalpha()) < MIN_LETTERS:
        return None
    code, confidence = _load().classify(sample)
    return str(code), float(confidence)


def choose_language(declared: str | None, text: str, fallback: str | None = None) -> str | None:
    """The page's declared language when plausible, else the detected one, else ``fallback``.

    ``declared`` is the page's raw declaration (``<html lang>``, ``og:locale``...), ``text``
    the article's title and body, ``fallback`` the source's configured language.
    """
    code = normalise_code(declared)
    if code is not None and plausible(code, text):
        return code
    found = detect_language(text)
    if found is not None and found[1] >= MIN_CONFIDENCE:
        return found[0]
    return normalise_code(fallback)
