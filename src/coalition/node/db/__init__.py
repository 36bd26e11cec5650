"""The node database: models, portable column types, engine and Alembic migrations."""

from coalition.node.db.engine import Database, migrate, serialise
from coalition.node.db.types import UTCDateTime, utcnow

__all__ = ["Database", "UTCDateTime", "migrate", "serialise", "utcnow"]
