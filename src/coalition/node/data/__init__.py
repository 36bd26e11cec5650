"""Datasets: what this node holds, and what it shows partners.

* :mod:`.datasets` — registration, listing, shares with partners, derived datasets;
* :mod:`.reading` — reading and validating local data (CSV, Parquet, SQL table);
* :mod:`.credentials` — SQL passwords sealed at rest, opened only to connect;
* :mod:`.routes` — ``/api/v1/datasets``.

This ``__init__`` imports nothing (the features above import the module they use).
"""
