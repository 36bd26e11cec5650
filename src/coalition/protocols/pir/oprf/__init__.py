"""Keyword PIR from an OPRF (``mode: download`` and ``mode: bucketed``, the default): the
client evaluates the server's PRF on its queries obliviously and finds each query's tag in the
whole table (download) or in the buckets it asks for (bucketed, k-anonymity).

Server: :mod:`.server` (protocol and leakage); client: :mod:`.client`. The table, manifest and
hello are shared with the OT-with-decoys mode (:mod:`coalition.protocols.pir`).
"""

from coalition.protocols.pir.oprf.client import download, lookup
from coalition.protocols.pir.oprf.server import evaluate_blinded, serve_bucketed, serve_download

__all__ = ["download", "evaluate_blinded", "lookup", "serve_bucketed", "serve_download"]
