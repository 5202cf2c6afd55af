"""source pauses: per-source pause/resume for the grouped DAG layout

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 11:00:00

- ``source_pauses``: one row per source an operator paused or resumed (``newsflow sources
  pause|resume``), keyed by the source key; no row means ``schedule.paused`` of
  ``sources.yaml`` decides. A group DAG runs many sources, so Airflow's DAG pause cannot
  pause one of them: the tasks read this table instead (``pipeline.pauses``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipeline.db.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "source_pauses",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changed_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_source_pauses")),
    )


def downgrade() -> None:
    op.drop_table("source_pauses")
