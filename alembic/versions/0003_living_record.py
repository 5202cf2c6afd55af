"""living record: removals, version events, purge audit, consumer view columns

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00

- ``articles.removed_at`` / ``removal_reason``: a story that left the web (410/404, redirect
  to a non-article, a "story removed" page) or was purged; cleared when it comes back.
- ``article_versions.event``: ``content`` | ``removed`` | ``restored``.
- ``article_purges``: audit row and tombstone of a takedown (``newsflow purge``).
- indexes on ``articles.fetch_id`` and ``article_versions.fetch_id``: a rerun of a run id keeps
  the fetch rows they point at (and deleting a fetch no longer scans both tables).
- ``news_articles`` gains ``removed_at`` and ``removal_reason`` (recreated; on PostgreSQL the
  reader's grant is given again).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipeline.db.types import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _view_sql(dialect: str, with_removal: bool) -> str:
    from pipeline.db.views import news_articles_view

    return news_articles_view(dialect, with_removal=with_removal, with_v2=False)


def _recreate_view(with_removal: bool) -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW IF EXISTS news_articles")
    op.execute(f"CREATE VIEW news_articles AS {_view_sql(dialect, with_removal)}")
    if dialect == "postgresql":
        op.execute("GRANT SELECT ON news_articles TO newsflow_reader")


def upgrade() -> None:
    op.execute("DROP VIEW IF EXISTS news_articles")
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("removed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("removal_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("article_versions") as batch:
        batch.add_column(sa.Column("event", sa.String(length=20), server_default="content", nullable=False))
    op.create_table(
        "article_purges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("article_id", sa.BigInteger(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("purged_at", UTCDateTime(), nullable=False),
        sa.Column("versions_deleted", sa.Integer(), nullable=False),
        sa.Column("warc_records_purged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_purges")),
        sa.UniqueConstraint("url_hash", name=op.f("uq_article_purges_url_hash")),
    )
    op.create_index(op.f("ix_article_purges_article_id"), "article_purges", ["article_id"], unique=False)
    op.create_index(op.f("ix_articles_fetch_id"), "articles", ["fetch_id"], unique=False)
    op.create_index(op.f("ix_article_versions_fetch_id"), "article_versions", ["fetch_id"], unique=False)
    _recreate_view(with_removal=True)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS news_articles")
    op.drop_index(op.f("ix_article_versions_fetch_id"), table_name="article_versions")
    op.drop_index(op.f("ix_articles_fetch_id"), table_name="articles")
    op.drop_index(op.f("ix_article_purges_article_id"), table_name="article_purges")
    op.drop_table("article_purges")
    with op.batch_alter_table("article_versions") as batch:
        batch.drop_column("event")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("removal_reason")
        batch.drop_column("removed_at")
    _recreate_view(with_removal=False)
