"""The model library: versioned, signed model parts on each node (this node's part only).

(``library``, not ``models``: the node's ORM tables are "models" in SQLAlchemy's words.)

* :mod:`.routes` — ``/api/v1/models`` (mounted by :mod:`coalition.node.app`);
* :mod:`.registry` — versions, parts on disk, verified loads, protection, comparison;
* :mod:`.integrity` — SHA-256 digests and Ed25519 signatures of parts (tamper protection);
* :mod:`.federation` — publishing a version across the guest and its hosts;
* :mod:`.sources` — finding a part in a job's stored outputs, or in a file;
* :mod:`.peer_methods` — the peer methods hosts answer, declared; :mod:`.peer` — their
  handlers (registered at composition, :mod:`coalition.node.composition`).
"""

from coalition.node.library.integrity import ModelTampered
from coalition.node.library.sources import PartSource
from coalition.node.library.tables import ModelVersionRow, OnlineSourceRow, ServiceRow

__all__ = ["ModelTampered", "ModelVersionRow", "OnlineSourceRow", "PartSource", "ServiceRow"]
