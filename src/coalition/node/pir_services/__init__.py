"""PIR (匿踪查询) as a node service: a provider publishes a table from a registered dataset,
partners query it over the nodes' mTLS peer channel, one ID or a batch, and both sides record
every batch by count and mode, never by ID.

Provider (:mod:`.services`, :mod:`.provider`): a *service* names a registered dataset, its ID
column and payload columns, the modes it answers (``download``, ``bucketed``, ``ot_decoys``;
:class:`coalition.protocols.pir.PirMode`), a partner quota per key epoch (overridable per
partner and per API key, :class:`~.tables.PirQuotaRow`) and a cron schedule that rebuilds the
table under a new epoch (:mod:`.schedules`). The table lives in ``home/pir/<service id>``
(:class:`coalition.protocols.pir.PirTable`); quota use is in the database, so a restart keeps
counting. Every batch needs the provider's approved ``pir`` grant for the dataset and passes
its grant terms, checked by the provider's handler from its own records.

Consumer (:mod:`.consumer`): looks up IDs in a partner's service with the keyword-PIR client
role; the conversation runs over unary peer calls (:mod:`.conversation`). Results come back in
query order (CSV or Parquet on request); download-mode tables are cached in
``home/pir/cache`` so a later batch fetches only the delta.

Records (:mod:`.batches`): one :class:`~.tables.PirBatchRow` per batch on each side, an audit
event ``pir.batch`` and Prometheus counters (:mod:`.metrics`).
"""
