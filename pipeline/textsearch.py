"""Language-aware full-text analysis shared by both backends.

Why: an English-only index finds one inflection of a Russian word and not the next, and no
CJK query at all (CJK text has no spaces, so a whole sentence is one "word"). Each article is
indexed in its own language instead:

- PostgreSQL: ``newsflow_ts_config(language)`` picks the matching text-search configuration
  (russian, german, spanish …; ``simple`` otherwise), built from :data:`PG_CONFIGS`.
- SQLite: FTS5 has only an English stemmer, so the loader's connection registers
  ``newsflow_terms(language, title, description, text)`` (Snowball stems of the article's
  language) and FTS5 indexes that as a fourth column beside the porter-stemmed ones.
- CJK on both: every run of CJK characters is indexed as overlapping character bigrams
  (``北京大学`` → ``北京 京大 大学 学``) and a CJK query becomes the phrase of its bigrams, so
  any word of two or more characters finds the article that contains it.

A query's language is unknown, so it is analysed in every configured language and the results
are OR-ed: the article matches when all query words match under one analysis.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from functools import lru_cache

import snowballstemmer

#: Hiragana, katakana, CJK ideographs (with extension A and compatibility), Hangul syllables.
CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
_CJK_PAIR = re.compile(f"([{CJK_CLASS}])(?=([{CJK_CLASS}]))")
_WORD = re.compile(r"\w+")

#: ISO 639-1 code -> PostgreSQL text-search configuration (those PostgreSQL 15 ships).
PG_CONFIGS: dict[str, str] = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "ga": "irish",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "nb": "norwegian",
    "nn": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}

#: The Snowball algorithm per language code on SQLite (English is FTS5's own porter column).
SNOWBALL: dict[str, str] = {
    code: name
    for code, name in PG_CONFIGS.items()
    if name in set(snowballstemmer.algorithms()) and code != "en"
}


def language_code(language: str | None) -> str:
    """``ru-RU`` / ``zh_Hans`` / ``RU`` -> ``ru`` / ``zh`` / ``ru`` ('' when unknown)."""
    return (language or "").strip().lower().replace("_", "-").split("-")[0]


def pg_config_function_sql() -> str:
    """``CREATE FUNCTION newsflow_ts_config(text) RETURNS regconfig`` from :data:`PG_CONFIGS`."""
    cases = "\n".join(f"        WHEN '{code}' THEN '{name}'" for code, name in sorted(PG_CONFIGS.items()))
    return f"""
    CREATE OR REPLACE FUNCTION newsflow_ts_config(lang text) RETURNS regconfig
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE split_part(replace(lower(coalesce(lang, '')), '_', '-'), '-', 1)
{cases}
        ELSE 'simple' END)::regconfig
    $$
    """


def pg_cjk_function_sql() -> str:
    """``newsflow_cjk_terms(text)``: CJK runs as overlapping bigrams (same as :func:`cjk_terms`)."""
    return f"""
    CREATE OR REPLACE FUNCTION newsflow_cjk_terms(body text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(piece, ' ' ORDER BY n), '')
    FROM (
        SELECT n, CASE WHEN m[1] ~ '^[{CJK_CLASS}]' THEN
                   (SELECT string_agg(substr(m[1], i, 2), ' ' ORDER BY i) FROM generate_series(1, length(m[1])) i)
               ELSE m[1] END AS piece
        FROM regexp_matches(coalesce(body, ''), '[{CJK_CLASS}]+|[^{CJK_CLASS}]+', 'g') WITH ORDINALITY AS t(m, n)
    ) pieces
    $$
    """


def cjk_terms(text: str) -> str:
    """Each CJK run as its overlapping bigrams plus its last character; other text unchanged."""
    return _CJK_PAIR.sub(r" \1\2 ", text)


def cjk_only_terms(text: str) -> str:
    """Only the CJK bigrams of ``text`` (the part FTS5's unicode61 tokenizer cannot split)."""
    return " ".join(cjk_terms(run) for run in _CJK_RUN.findall(text))


def _cjk_query_word(word: str) -> list[str]:
    # A run of two or more characters is the phrase of its bigrams (no trailing unigram: the
    # document's run may go on); a lone character stays itself.
    if len(word) < 2:
        return [word]
    return [word[i : i + 2] for i in range(len(word) - 1)]


def split_query_words(words: str) -> list[str]:
    """The words of a query term, CJK runs split into bigrams (the phrase to look for)."""
    out: list[str] = []
    for piece in re.split(f"([{CJK_CLASS}]+)", words):
        if not piece:
            continue
        if _CJK_RUN.fullmatch(piece):
            out.extend(_cjk_query_word(piece))
        else:
            out.extend(_WORD.findall(piece))
    return out


def has_cjk(text: str) -> bool:
    return _CJK_RUN.search(text) is not None


def pg_query_text(query: str) -> str:
    """The query with each CJK run quoted as the phrase of its bigrams (websearch syntax)."""
    return _CJK_RUN.sub(lambda m: '"' + " ".join(_cjk_query_word(m.group(0))) + '"', query)


@lru_cache(maxsize=64)
def _stemmer(algorithm: str) -> Callable[[str], str]:
    stemmer = snowballstemmer.stemmer(algorithm)
    return stemmer.stemWord  # type: ignore[no-any-return]


def stem_words(text: str, code: str) -> list[str]:
    """Snowball stems of the words of ``text`` in language ``code``, tagged with the code.

    The tag (``ruгубернатор``) keeps each language's stems apart in the one ``terms`` column,
    so a query analysed as Serbian never matches, or excuses an exclusion in, a Russian text.
    """
    algorithm = SNOWBALL[code]
    stem = _stemmer(algorithm)
    return [code + stem(w.lower()) for w in _WORD.findall(text) if not has_cjk(w)]


def sqlite_terms(language: str | None, *texts: str | None) -> str:
    """The ``terms`` column of SQLite's ``articles_fts``: what the porter columns cannot match.

    Tagged Snowball stems for a language other than English, and the CJK bigrams of any text.
    """
    body = "\n".join(t for t in texts if t)
    code = language_code(language)
    parts = []
    if code in SNOWBALL:
        parts.append(" ".join(stem_words(body, code)))
    if has_cjk(body):
        parts.append(cjk_only_terms(body))
    return "\n".join(parts)


def register_sqlite_functions(dbapi_connection: sqlite3.Connection) -> None:
    """Make ``newsflow_terms`` (the full-text triggers call it) and ``newsflow_language_code``
    (search picks the porter or the stemmed column with it) callable from SQLite."""

    def terms(language: str | None, title: str | None, description: str | None, text: str | None) -> str:
        return sqlite_terms(language, title, description, text)

    dbapi_connection.create_function("newsflow_terms", 4, terms, deterministic=True)
    dbapi_connection.create_function("newsflow_language_code", 1, language_code, deterministic=True)
