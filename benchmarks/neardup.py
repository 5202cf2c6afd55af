"""Near-duplicate threshold sweep on the demo network: precision and recall of the clusters.

Loads the demo manifest's articles (the clean text a perfect extraction yields; hand-written
stories plus ``--generated`` template-made ones) through the real load stage into a SQLite
file, once per threshold, and compares the resulting clusters with the ground truth: the only
true near-duplicate pair is the manifest's syndicated story.

    .venv/bin/python -m benchmarks.neardup [--generated 3000] [--thresholds 0.5,0.6,0.7,0.8,0.9]
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def stage(url: str, manifest: Any) -> list[str]:
    """Sources, one run per outlet, a fetch + extracted record per article; returns run ids."""
    from datetime import timedelta

    from pipeline.db import migrate
    from pipeline.db.engine import make_engine
    from pipeline.db.models import CrawlRun, ExtractedRecord, Fetch, Source
    from pipeline.records import ExtractedArticle
    from pipeline.runs import utcnow
    from pipeline.urls import url_hash

    migrate.upgrade(url)
    engine = make_engine(url)
    now = utcnow()
    runs = []
    with engine.begin() as conn:
        for key, outlet in manifest.outlets.items():
            source_id = conn.execute(
                insert(Source).returning(Source.id),
                {
                    "key": key,
                    "name": key,
                    "homepage": outlet.homepage,
                    "config_hash": "x",
                    "created_at": now,
                    "updated_at": now,
                },
            ).scalar_one()
            run_pk = conn.execute(
                insert(CrawlRun).returning(CrawlRun.id),
                {
                    "run_id": key,
                    "source_id": source_id,
                    "started_at": now,
                    "params": {},
                    "errors_by_category": {},
                    "stats": {},
                },
            ).scalar_one()
            runs.append(key)
            for truth in manifest.articles_of(key):
                fetched = truth.published_at + timedelta(hours=1)
                fetch_id = conn.execute(
                    insert(Fetch).returning(Fetch.id),
                    {
                        "run_id": run_pk,
                        "source_id": source_id,
                        "url": truth.url,
                        "url_hash": url_hash(truth.url),
                        "fetched_at": fetched,
                        "discovery": "sitemap",
                        "outcome": "fetched",
                        "hints": {},
                        "is_article_candidate": True,
                        "depth": 0,
                    },
                ).scalar_one()
                record = ExtractedArticle(
                    url=truth.url,
                    title=truth.title,
                    text=truth.text,
                    published_at=truth.published_at,
                    extractor_version="manifest",
                ).model_dump(mode="json")
                conn.execute(
                    insert(ExtractedRecord),
                    {
                        "run_id": run_pk,
                        "fetch_id": fetch_id,
                        "status": "ok",
                        "record": record,
                        "extractor_version": "manifest",
                        "created_at": fetched,
                    },
                )
    engine.dispose()
    return runs


def clustered_pairs(url: str) -> set[frozenset[str]]:
    from pipeline.db.engine import make_engine
    from pipeline.db.models import Article

    engine = make_engine(url)
    groups: dict[int, list[str]] = defaultdict(list)
    with engine.connect() as conn:
        for page, cluster in conn.execute(select(Article.url, func.coalesce(Article.cluster_id, Article.id))):
            groups[cluster].append(page)
    engine.dispose()
    return {frozenset(p) for members in groups.values() for p in itertools.combinations(sorted(members), 2)}


def sweep(generated: int, thresholds: list[float]) -> list[dict[str, Any]]:
    from pipeline.db.engine import dispose_engines
    from pipeline.demo_site import DemoNetwork
    from pipeline.stages.load import load

    with DemoNetwork(host="127.0.0.1", port=0, articles=generated) as network:
        manifest = network.manifest(1, include_generated=generated > 0)
    truth = frozenset(manifest.syndicated_pair)
    hand = {u for u, a in manifest.articles.items() if not a.generated}
    out = []
    with tempfile.TemporaryDirectory(prefix="newsflow-neardup-") as tmp:
        staged = Path(tmp) / "staged.db"
        runs = stage(f"sqlite:///{staged}", manifest)
        for threshold in thresholds:
            db = Path(tmp) / f"t{threshold}.db"
            shutil.copy(staged, db)
            url = f"sqlite:///{db}"
            for run in runs:
                load(run, database_url=url, near_dup_threshold=threshold)
            pairs = clustered_pairs(url)
            dispose_engines()
            hand_pairs = {p for p in pairs if p <= hand}
            out.append(
                {
                    "threshold": threshold,
                    "articles": len(manifest.articles),
                    "syndicated_pair_clustered": truth in pairs,
                    "clustered_pairs": len(pairs),
                    "false_pairs": len(pairs - {truth}),
                    "precision": round((truth in pairs) / len(pairs), 4) if pairs else None,
                    "hand_written_false_pairs": len(hand_pairs - {truth}),
                    "hand_written_precision": round((truth in hand_pairs) / len(hand_pairs), 4)
                    if hand_pairs
                    else None,
                }
            )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--generated", type=int, default=3000, help="template-made demo articles to add")
    parser.add_argument("--thresholds", default="0.5,0.6,0.7,0.8,0.9")
    args = parser.parse_args(argv)
    results = sweep(args.generated, [float(t) for t in args.thresholds.split(",")])
    for row in results:
        print(
            f"threshold {row['threshold']:.2f}: syndicated pair clustered={row['syndicated_pair_clustered']}  "
            f"hand-written precision={row['hand_written_precision']} "
            f"(false pairs {row['hand_written_false_pairs']})  all {row['articles']} articles: "
            f"precision={row['precision']} (false pairs {row['false_pairs']})"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "neardup.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
