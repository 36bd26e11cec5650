"""Alembic migrations, configured in code (see ``coalition.node.db.engine``), no ``alembic.ini``."""
