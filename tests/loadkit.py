"""Builders for load/search tests: source, run, fetch and extracted-record rows made directly.

The load stage's input is ``extracted_records`` joined with ``fetches``; these helpers create
exactly those rows (with real ``ExtractedArticle`` payloads), as the extraction stage would.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, text

from pipeline.db.engine import session_scope
from pipeline.db.models import CrawlLink, CrawlRun, ExtractedRecord, Fetch, Source
from pipeline.records import ExtractedArticle
from pipeline.urls import canonicalize, url_hash

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

WORDS = tuple(
    [
        "council",
        "budget",
        "river",
        "harbour",
        "election",
        "minister",
        "school",
        "bridge",
        "storm",
        "vaccine",
        "library",
        "market",
        "festival",
        "railway",
        "museum",
        "police",
        "court",
        "mayor",
        "strike",
        "winter",
        "summer",
        "farmers",
        "housing",
        "energy",
        "wind",
        "solar",
        "tax",
        "grant",
        "hospital",
        "doctors",
        "nurses",
        "union",
        "teachers",
        "students",
        "science",
        "ocean",
        "forest",
        "fire",
        "drought",
        "flood",
        "airport",
        "port",
        "shipping",
        "trade",
        "tariff",
        "bank",
        "inflation",
        "wages",
        "rent",
        "tenants",
        "landlords",
    ]
)


def story(seed: int, words: int = 220) -> str:
    """A deterministic pseudo-article of four paragraphs, distinct per seed."""
    rng = random.Random(seed)
    sentences = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
        for _ in range(words // 12)
    ]
    quarter = max(1, len(sentences) // 4)
    return "\n\n".join(" ".join(sentences[i : i + quarter]) for i in range(0, len(sentences), quarter))


def make_source(engine: Engine, key: str = "s1", port: int = 8701) -> int:
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        existing = s.scalars(select(Source).where(Source.key == key)).one_or_none()
        if existing is not None:
            return existing.id
        row = Source(
            key=key,
            name=key.title(),
            homepage=f"http://127.0.0.1:{port}/",
            config_hash="x",
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        s.flush()
        return row.id


def make_run(engine: Engine, source_id: int, run_id: str = "r1", kind: str = "crawl") -> int:
    with session_scope(engine) as s:
        run = CrawlRun(run_id=run_id, source_id=source_id, kind=kind, started_at=datetime.now(UTC))
        s.add(run)
        s.flush()
        return run.id


def article(url: str, text: str, **fields: Any) -> dict[str, Any]:
    """A record payload as the extraction stage stores it."""
    data: dict[str, Any] = {
        "url": url,
        "title": fields.pop("title", f"Title of {url.rsplit('/', 1)[-1]}"),
        "text": text,
        "extractor_version": fields.pop("extractor_version", "test-1"),
        "published_at": fields.pop("published_at", T0 - timedelta(hours=1)),
    }
    data.update(fields)
    return ExtractedArticle.model_validate(data).model_dump(mode="json")


def add_record(
    engine: Engine,
    run_pk: int,
    source_id: int,
    payload: dict[str, Any] | None,
    *,
    url: str | None = None,
    fetched_at: datetime = T0,
    status: str = "ok",
    links: list[tuple[str, str]] | None = None,
) -> int:
    """One fetch + its extracted record (+ crawler link rows); returns the fetch id."""
    fetch_url = url or (payload or {}).get("url") or "http://127.0.0.1:8701/none"
    with session_scope(engine) as s:
        fetch = Fetch(
            run_id=run_pk,
            source_id=source_id,
            url=fetch_url,
            url_hash=url_hash(canonicalize(fetch_url)),
            canonical_url=canonicalize(fetch_url),
            status=200,
            fetched_at=fetched_at,
            discovery="feed",
            outcome="fetched",
            is_article_candidate=True,
            warc_path="raw/test.warc.gz",
            warc_offset=0,
        )
        s.add(fetch)
        s.flush()
        s.add(
            ExtractedRecord(
                run_id=run_pk,
                fetch_id=fetch.id,
                status=status,
                record=payload,
                extractor_version="test-1",
                created_at=fetched_at,
            )
        )
        for to_url, kind in links or []:
            s.add(
                CrawlLink(
                    run_id=run_pk,
                    from_url=canonicalize(fetch_url),
                    from_url_hash=url_hash(canonicalize(fetch_url)),
                    to_url=canonicalize(to_url),
                    to_url_hash=url_hash(canonicalize(to_url)),
                    kind=kind,
                )
            )
        return fetch.id


def bulk_records(
    engine: Engine, run_pk: int, source_id: int, count: int, *, port: int = 8701, seed: int = 0
) -> None:
    """``count`` distinct articles in one run (one transaction, for speed)."""
    with session_scope(engine) as s:
        for i in range(count):
            url = f"http://127.0.0.1:{port}/2026/05/01/story-{seed}-{i}"
            fetch = Fetch(
                run_id=run_pk,
                source_id=source_id,
                url=url,
                url_hash=url_hash(url),
                canonical_url=url,
                status=200,
                fetched_at=T0,
                discovery="sitemap",
                outcome="fetched",
                is_article_candidate=True,
            )
            s.add(fetch)
            s.flush()
            s.add(
                ExtractedRecord(
                    run_id=run_pk,
                    fetch_id=fetch.id,
                    status="ok",
                    record=article(url, story(seed * 1_000_003 + i, words=80)),
                    extractor_version="test-1",
                    created_at=T0,
                )
            )


def counters(engine: Engine, run_id: str) -> tuple[int, ...]:
    """The run's load counters: (new, updated, unchanged, duplicate, rejected)."""
    with engine.connect() as conn:
        run = conn.execute(select(CrawlRun.__table__).where(CrawlRun.run_id == run_id)).one()
    return (
        run.articles_new,
        run.articles_updated,
        run.articles_unchanged,
        run.articles_duplicate,
        run.articles_rejected,
    )


POISON = "poison"


def refuse_poison(engine: Engine) -> None:
    """A trigger that makes the database refuse articles titled :data:`POISON` (both backends).

    A constraint only the database knows about, so validation cannot pre-empt it: the load
    meets it inside a batch transaction and has to set the record aside.
    """
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.title = '{POISON}' THEN RAISE EXCEPTION 'poisoned' USING ERRCODE = 'check_violation'; "
                    "END IF; RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_poison BEFORE INSERT ON articles "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
                )
            )
        else:
            conn.execute(
                text(
                    f"CREATE TRIGGER refuse_poison BEFORE INSERT ON articles WHEN new.title = '{POISON}' "
                    "BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
                )
            )


SEED = (
    "The harbour authority approved a floating tidal barrier on Monday after three winters of "
    "flooding along the old quay.\n\nEngineers said the barrier would rise with each spring tide "
    "and protect four hundred homes."
)


def load_two_outlets(db_url: str) -> str:
    """Two outlets: a seed story, its syndicated copy, and unrelated stories that share words.

    The ``loaded`` fixture of ``tests/conftest.py`` (search, export and CLI convention tests).
    """
    from pipeline.db.engine import make_engine
    from pipeline.stages.load import load

    engine = make_engine(db_url)
    one, two = make_source(engine, "capital", 8701), make_source(engine, "ledger", 8702)
    r1, r2 = make_run(engine, one, "r1"), make_run(engine, two, "r2")
    add_record(engine, r1, one, article("http://127.0.0.1:8701/seed", SEED, title="Tidal barrier approved"))
    add_record(
        engine,
        r1,
        one,
        article(
            "http://127.0.0.1:8701/old",
            "A barrier of red tape delays the floating market on the quay. " + story(3),
            published_at=T0 - timedelta(days=30),
        ),
    )
    add_record(engine, r2, two, article("http://127.0.0.1:8702/copy", SEED + "\n\nFrom our partners."))
    add_record(engine, r2, two, article("http://127.0.0.1:8702/other", story(9)))
    load("r1", database_url=db_url)
    load("r2", database_url=db_url)
    engine.dispose()
    return db_url
