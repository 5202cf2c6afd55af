"""extraction v2: detection score, modified-date origin, paywall flags

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 02:40:00

- ``extracted_records.detection_score``: the article detector's score, so a page that was
  fetched and not stored as an article shows how close it came (``newsflow status``).
- ``articles.modified_from``: where ``modified_at`` was read (as ``published_from``).
- ``articles.is_paywalled`` / ``is_complete``: a paywalled page, and whether its body is whole.
- ``news_articles`` gains the three article columns (recreated; the reader's grant is given
  again on PostgreSQL).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recreate_view(with_v2: bool) -> None:
    from pipeline.db.views import news_articles_view

    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW IF EXISTS news_articles")
    op.execute(f"CREATE VIEW news_articles AS {news_articles_view(dialect, with_removal=True, with_v2=with_v2)}")
    if dialect == "postgresql":
        op.execute("GRANT SELECT ON news_articles TO newsflow_reader")


def upgrade() -> None:
    op.execute("DROP VIEW IF EXISTS news_articles")
    # Plain ADD COLUMN on both backends: a batch (copy-and-move) table rebuild on SQLite would
    # drop the full-text triggers of ``articles``.
    op.add_column("extracted_records", sa.Column("detection_score", sa.Float(), nullable=True))
    op.add_column("articles", sa.Column("modified_from", sa.String(length=20), nullable=True))
    op.add_column("articles", sa.Column("is_paywalled", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("articles", sa.Column("is_complete", sa.Boolean(), server_default=sa.true(), nullable=False))
    _recreate_view(with_v2=True)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS news_articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("is_complete")
        batch.drop_column("is_paywalled")
        batch.drop_column("modified_from")
    with op.batch_alter_table("extracted_records") as batch:
        batch.drop_column("detection_score")
    _recreate_view(with_v2=False)
