"""Every ORM table of the node, from the features that own them, on one metadata.

Each feature declares its tables in its own ``tables`` module on
:class:`coalition.node.db.base.Base`; importing this module registers them all, so
:data:`METADATA` is the whole schema (what Alembic's autogenerate and the migration test
compare with the migrations). A feature with a new ``tables`` module adds it here.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from coalition.node.audit import tables as audit_tables
from coalition.node.auth import tables as auth_tables
from coalition.node.data import tables as data_tables
from coalition.node.db.base import Base
from coalition.node.jobs import tables as job_tables
from coalition.node.ledger import tables as ledger_tables
from coalition.node.library import tables as library_tables
from coalition.node.partners import tables as partner_tables
from coalition.node.pir_services import tables as pir_tables
from coalition.node.psi_tasks import tables as psi_tables
from coalition.node.verify3 import tables as verify3_tables

__all__ = ["FEATURE_TABLES", "METADATA"]

FEATURE_TABLES = (auth_tables, partner_tables, data_tables, audit_tables, job_tables,
                  library_tables, psi_tables, verify3_tables, ledger_tables, pir_tables)
METADATA: MetaData = Base.metadata
