"""OT-with-decoys PIR (``mode: ot_decoys``): each query hides among ``k - 1`` decoys and the
client fetches one of the ``k`` answers by 1-out-of-k OT (:mod:`.kn`).

Server: :func:`~.server.serve_ot_decoys` (protocol and leakage); client:
:func:`~.client.lookup`; decoys and the declared public pool they may come from:
:mod:`.decoys`. The table, manifest and hello are shared with the OPRF modes
(:mod:`coalition.protocols.pir`).
"""

from coalition.protocols.pir.ot_decoys.client import lookup
from coalition.protocols.pir.ot_decoys.decoys import PublicDecoyPool
from coalition.protocols.pir.ot_decoys.server import serve_ot_decoys

__all__ = ["PublicDecoyPool", "lookup", "serve_ot_decoys"]
