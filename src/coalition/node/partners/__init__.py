"""Partners: the organisations this node trusts, what it shares with them, and how.

* :mod:`.directory` — registered partners (address, pinned certificate), the identity
  bundle; the peer API (:mod:`coalition.node.peer`) and the data feature read it;
* :mod:`.grants` — requests for and decisions on access to a dataset, with their policies;
* :mod:`.peer` — the peer methods partners call (``Health``, ``ListDatasets``,
  ``RequestGrant``, ``GetGrant``), declared with their handlers (registered at composition);
* :mod:`.federation` — calls to partners: health checks, remote datasets, grant requests;
* :mod:`.routes` — ``/api/v1/partners``; :mod:`.grant_routes` — ``/api/v1/grants``.

This ``__init__`` imports nothing, so reading the directory does not load the features above.
"""
