"""Database layer: typed models, engines/sessions, migrations."""

from pipeline.db.engine import get_engine, make_engine, session_scope
from pipeline.db.models import Base

__all__ = ["Base", "get_engine", "make_engine", "session_scope"]
