"""Jobs across nodes: proposal and consent, scheduling, worker processes, monitoring.

* :mod:`.routes` — ``/api/v1/jobs`` (mounted by :mod:`coalition.node.app`);
* :mod:`.service` — submit, rerun, approve/reject, cancel (what the routes call);
* :mod:`.scheduler` — the initiator's thread per job: propose, start, drive tasks in order;
* :mod:`.peer_methods` — the peer methods between nodes, declared; :mod:`.handlers` — their
  handlers and the job guards (registered at composition, :mod:`coalition.node.composition`);
* :mod:`.consent` — grants over every dataset a proposed job reads;
* :mod:`.certs` — per-job party certificates issued by node keys (node ↔ transport trust);
* :mod:`.local` — this node's share of a task: cache keys, worker processes, reports;
* the worker process itself is :mod:`coalition.engine.worker` (run by :mod:`.local`);
* :mod:`.derived` — dataset outputs registered as derived datasets;
* :mod:`.repository` / :mod:`.models` — the job tables; :mod:`.manager` — live state
  held on the runtime (slot ``MANAGER``), restart.
"""

from coalition.node.jobs.manager import JobManager, manager_for

__all__ = ["JobManager", "manager_for"]
