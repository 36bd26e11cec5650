"""Jobs across nodes: proposal and consent, scheduling, worker processes, monitoring.

* :mod:`.service` — submit, rerun, approve/reject, cancel (what the user API calls);
* :mod:`.scheduler` — the initiator's thread per job: propose, start, drive tasks in order;
* :mod:`.handlers` — the peer methods between nodes; :mod:`.links` — calling an organisation;
* :mod:`.consent` — grants over every dataset a proposed job reads;
* :mod:`.certs` — per-job party certificates issued by node keys (node ↔ transport trust);
* :mod:`.local` — this node's share of a task: cache keys, worker processes, reports;
* the worker process itself is :mod:`coalition.engine.worker` (run by :mod:`.local`);
* :mod:`.derived` — dataset outputs registered as derived datasets;
* :mod:`.repository` / :mod:`.models` — the job tables; :mod:`.manager` — live state, restart.
"""

from coalition.node.jobs.handlers import JOB_HANDLERS
from coalition.node.jobs.links import register_local
from coalition.node.jobs.manager import JobManager, manager_for

register_local(JOB_HANDLERS)

__all__ = ["JOB_HANDLERS", "JobManager", "manager_for"]
