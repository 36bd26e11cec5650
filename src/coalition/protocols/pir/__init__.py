"""Keyword PIR (匿踪查询): a client looks up one ID or a batch in a provider's table without
revealing which.

Server: build a :class:`PirTable` (per key epoch; incremental :meth:`~PirTable.sync`, deltas,
:meth:`~PirTable.rotate_key`, signed manifest) and answer batches with :func:`run_server`
under :class:`ServerControls` (quota, batch log). Client: :func:`run_client` in one of three
:class:`PirMode` s — OPRF ``download`` (full query privacy), OPRF ``bucketed`` (k-anonymity,
small download), ``ot_decoys`` (the query among k decoys, 1-out-of-k OT). Leakage per mode:
:mod:`.oprf.server` and :mod:`.ot_decoys.server`. Guide: ``docs/pir.md``.
"""

from coalition.protocols.pir.client import run_client
from coalition.protocols.pir.manifest import Manifest, SignedManifest
from coalition.protocols.pir.ot_decoys.decoys import PublicDecoyPool
from coalition.protocols.pir.quota import BatchRecord, QueryLog, QuotaBook, ServerControls
from coalition.protocols.pir.results import PirResult, PirSummary, write_results
from coalition.protocols.pir.server import ServeSummary, run_server
from coalition.protocols.pir.settings import TableSettings
from coalition.protocols.pir.spec import (
    ModeRefusedError,
    PirMode,
    PirParams,
    QuotaExceededError,
    padded_size,
)
from coalition.protocols.pir.table import PirTable, TableStats

__all__ = [
    "BatchRecord",
    "Manifest",
    "ModeRefusedError",
    "PirMode",
    "PirParams",
    "PirResult",
    "PirSummary",
    "PirTable",
    "PublicDecoyPool",
    "QueryLog",
    "QuotaBook",
    "QuotaExceededError",
    "ServeSummary",
    "ServerControls",
    "SignedManifest",
    "TableSettings",
    "TableStats",
    "padded_size",
    "run_client",
    "run_server",
    "write_results",
]
