"""Online and offline inference of federated models.

* :mod:`.routes` — ``/api/v1/services``, ``/online-sources``, ``/predictions`` and ``/metrics``;
* :mod:`.service` — the guest: deploy / undeploy, and the predict hot path;
* :mod:`.peer_methods` — the serving peer methods, declared; :mod:`.host` — their handlers
  on the host (bind, partial results, release);
* :mod:`.scoring` — partial results and how the guest combines them, per model family;
* :mod:`.features` — online feature sources (in-memory index, SQL table);
* :mod:`.sources` — registered online sources; :mod:`.offline` — batch prediction jobs;
* :mod:`.batching` — concurrent requests share host calls (no batching window);
* :mod:`.metrics` — per-service request metrics for Prometheus; :mod:`.state` — what the
  hot path reads, held on the runtime (slot ``STATE``).

Host calls go through the node's peer client (``rt.peers``: cached mTLS channels, typed
replies); the handlers are registered at composition (:mod:`coalition.node.composition`).
"""

from coalition.node.serving.metrics import ServiceMetrics, render
from coalition.node.serving.state import ServingState, state_of

__all__ = ["ServiceMetrics", "ServingState", "render", "state_of"]
