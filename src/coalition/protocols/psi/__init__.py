"""Private set intersection: ECDH (2 and 3+ parties), OPRF (unbalanced, cached), one result type.

Entry points: :func:`run_guest` and :func:`run_host`, one per role, for every engine; the
engine, delivery mode (who learns what) and duplicate policy come from :class:`PsiParams`.
Leakage is stated in each engine module: :mod:`.ecdh.guest`, :mod:`.ecdh.multi_guest`,
:mod:`.oprf.client`. Guide: ``docs/psi.md``.
"""

from coalition.protocols.psi.canonical import Canonicaliser, id_number, phone_digits
from coalition.protocols.psi.guest import run_guest
from coalition.protocols.psi.host import run_host
from coalition.protocols.psi.inputs import IdSet, read_id_column
from coalition.protocols.psi.oprf.cache import ClientTableCache, PrfTable, SyncStats
from coalition.protocols.psi.session import Progress
from coalition.protocols.psi.spec import (
    Delivery,
    OnDuplicate,
    PsiParams,
    PsiProtocol,
    PsiResult,
    PsiSummary,
    truncation_bytes,
)

__all__ = [
    "Canonicaliser",
    "ClientTableCache",
    "Delivery",
    "IdSet",
    "OnDuplicate",
    "PrfTable",
    "Progress",
    "PsiParams",
    "PsiProtocol",
    "PsiResult",
    "PsiSummary",
    "SyncStats",
    "id_number",
    "phone_digits",
    "read_id_column",
    "run_guest",
    "run_host",
    "truncation_bytes",
]
