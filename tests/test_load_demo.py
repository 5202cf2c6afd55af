"""Load acceptance on the demo network's own stories (records made from its manifest).

The manifest is the ground truth of each article's clean text and metadata, so these records
are what a perfect extraction would produce; the load must then cluster the syndicated pair
(and nothing else), version the article that changes in edition 2, and find the seed story.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from pipeline.config import dump_sources, parse_sources
from pipeline.db.engine import make_engine, session_scope
from pipeline.db.models import Article, ArticleLink, ArticleVersion
from pipeline.demo_site import ArticleTruth, DemoNetwork, Manifest
from pipeline.records import ExtractedArticle
from pipeline.runs import start_run, sync_source
from pipeline.search import search
from pipeline.stages.load import load
from tests.loadkit import add_record


def record(truth: ArticleTruth) -> dict[str, Any]:
    return ExtractedArticle(
        url=truth.url,
        canonical_url=truth.url,
        title=truth.title,
        text=truth.text,
        authors=list(truth.authors),
        published_at=truth.published_at,
        modified_at=truth.modified_at,
        section=truth.section,
        language=truth.language,
        extractor_version="manifest",
        links=[(url, "related") for url in truth.related],
    ).model_dump(mode="json")


def load_edition(engine: Engine, db_url: str, network: DemoNetwork, manifest: Manifest) -> dict[str, Any]:
    configs = parse_sources(dump_sources(network.sources()))
    results = {}
    for outlet in manifest.outlets.values():
        run_id = f"{outlet.key}-e{manifest.edition}"
        with session_scope(engine) as s:
            source = sync_source(s, configs.get(outlet.key))
            run_pk, source_id = start_run(s, source, run_id).id, source.id
        for truth in manifest.articles_of(outlet.key):
            fetched = truth.published_at + timedelta(days=manifest.edition)
            add_record(engine, run_pk, source_id, record(truth), fetched_at=fetched)
        results[outlet.key] = load(run_id, database_url=db_url, batch_size=10)
    return results


def clusters(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Article.url, func.coalesce(Article.cluster_id, Article.id))).all())


def test_demo_stories_load_cluster_version_and_search(db_url: str, demo_network: DemoNetwork) -> None:
    engine = make_engine(db_url)
    first = demo_network.manifest(1, include_generated=False)
    results = load_edition(engine, db_url, demo_network, first)
    assert sum(r.new for r in results.values()) == len(first.articles)
    assert all(r.rejected == 0 for r in results.values())

    # Near-duplicates: exactly the syndicated pair shares a cluster (precision and recall 1).
    by_url = clusters(engine)
    left, right = first.syndicated_pair
    assert by_url[left] == by_url[right]
    together = {frozenset((a, b)) for a, b in itertools.combinations(by_url, 2) if by_url[a] == by_url[b]}
    assert together == {frozenset(first.syndicated_pair)}
    # Stories about the same event by different outlets are not copies.
    assert len({by_url[url] for url in first.event_urls}) == len(first.event_urls)

    # Related links resolve to stored articles.
    with engine.connect() as conn:
        resolved = conn.execute(
            select(func.count()).where(ArticleLink.to_article_id.is_not(None))
        ).scalar_one()
    expected = sum(1 for t in first.articles.values() for url in t.related if url in first.articles)
    assert resolved == expected > 0

    # A phrase from the seed story finds it first.
    seed = first.articles[first.seed_url]
    phrase = " ".join(seed.paragraphs[1].split()[:8])
    assert search(phrase, database_url=db_url)[0].url == first.seed_url
    assert search(f'"{phrase}"', database_url=db_url)[0].url == first.seed_url

    # Edition 2: the changed article gets a second version, new articles are new, rest unchanged.
    demo_network.set_edition(2)
    second = demo_network.manifest(2, include_generated=False)
    results2 = load_edition(engine, db_url, demo_network, second)
    assert sum(r.updated for r in results2.values()) == len(second.changed_in_edition2)
    assert sum(r.new for r in results2.values()) == len(second.new_in_edition2)
    with engine.connect() as conn:
        for url in second.changed_in_edition2:
            article_id, version = conn.execute(
                select(Article.id, Article.version).where(Article.canonical_url == url)
            ).one()
            texts = (
                conn.execute(
                    select(ArticleVersion.text)
                    .where(ArticleVersion.article_id == article_id)
                    .order_by(ArticleVersion.version)
                )
                .scalars()
                .all()
            )
            assert version == 2
            assert texts == [first.articles[url].text, second.articles[url].text]
    assert clusters(engine)[left] == clusters(engine)[right]
    engine.dispose()
