"""Demos and throwaway local clusters: everything ``coalition demo`` runs, in one package.

* :mod:`.cluster` — N node processes on loopback, connected as partners
  (:func:`~coalition.demo.cluster.start_cluster`); the multi-node tests use it too;
* :mod:`.network` — the credit-risk job across three organisations' nodes;
* :mod:`.standalone` — the same pipeline with every party in one process.

It sits above :mod:`coalition.node` (it starts nodes) and talks to them only through
:class:`coalition.client.NodeClient`, as an operator's scripts would.
"""
