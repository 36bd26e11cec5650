"""PSI as a node service: saved PSI tasks with a partner, runs on demand, run records, results.

A *PSI task* names this node's registered dataset and key column, a partner and the partner's
shared dataset, and a protocol. Each run is an ordinary two-party job (reader → psi) proposed
to the partner, so the partner's node decides with its own records exactly as for any job: its
grants for the ``psi`` component on that dataset and its privacy policy
(:mod:`coalition.node.jobs.consent`); the parties talk over job-bound mTLS certificates minted
from the node identities. A run's *record* (:class:`~.tables.PsiRunRow`) is finalised once by
:func:`~.service.finalise_run` when its job ends; the aligned rows become a derived dataset
(:mod:`coalition.node.jobs.derived`) that users with ``datasets.preview`` may preview and
download (CSV or Parquet), each download audited. Tasks run on cron schedules
(:mod:`.schedules`, one loop per runtime started with the app).
"""
