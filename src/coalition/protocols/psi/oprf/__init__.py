"""Unbalanced / periodic PSI with a blinded OPRF (``protocol: oprf``): the small side is the
client (:mod:`.client`, protocol and leakage), the large side the server (:mod:`.server`),
whose PRF table is cached and synced incrementally between runs (:mod:`.cache`).

Engines follow the PSI package's shape, ``Session -> PsiResult``. PIR's OPRF modes reuse the
PRF table (:class:`~.cache.PrfTable`) and the client's cached copy (:class:`~.cache.ClientTableCache`).
"""

from coalition.protocols.psi.oprf.cache import ClientTableCache, PrfTable, SyncStats
from coalition.protocols.psi.oprf.client import run_oprf_client
from coalition.protocols.psi.oprf.server import run_oprf_server

__all__ = ["ClientTableCache", "PrfTable", "SyncStats", "run_oprf_client", "run_oprf_server"]
