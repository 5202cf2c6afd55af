#!/usr/bin/env bash
# Regenerate the initial schema migration from pipeline/db/models.py.
# Only valid while no deployment holds data migrated by it; later changes get new revisions.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f alembic/versions/0001_initial_schema.py
# Later (hand-written) revisions depend on 0001: park them while 0001 is regenerated.
mkdir -p "$tmp/later"
find alembic/versions -maxdepth 1 -name '0*.py' ! -name '0001_*' -exec mv {} "$tmp/later/" \;
trap 'mv "$tmp"/later/*.py alembic/versions/ 2>/dev/null || true; rm -rf "$tmp"' EXIT
NEWSFLOW_DATABASE_URL="sqlite:///$tmp/regen.db" .venv/bin/alembic revision --autogenerate \
  --rev-id 0001 -m "initial schema" >/dev/null
sed -i "s/astext_type=Text()/astext_type=sa.Text()/g" alembic/versions/0001_initial_schema.py
.venv/bin/ruff format -q alembic/versions/0001_initial_schema.py
echo "regenerated alembic/versions/0001_initial_schema.py"
