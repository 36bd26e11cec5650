"""Horizontal histogram GBDT (homo SecureBoost without Paillier): clients hold rows with the
same columns; gradient/hessian histograms are summed by secure aggregation, so the aggregator
(the job's arbiter) sees only the sum over clients, never one client's histogram.

See :mod:`.roles` for the message flow and who learns what, :mod:`.binning` for how the bin
edges are agreed without revealing a raw value, and :mod:`.trees` for the model.
"""

from coalition.protocols.horizontal.gbdt.roles import run_gbdt_client, run_gbdt_server
from coalition.protocols.horizontal.gbdt.spec import BoostingParams, GBDTJobParams, GBDTParams
from coalition.protocols.horizontal.gbdt.trees import GBDTModel, Tree

__all__ = ["BoostingParams", "GBDTJobParams", "GBDTModel", "GBDTParams", "Tree",
           "run_gbdt_client", "run_gbdt_server"]
