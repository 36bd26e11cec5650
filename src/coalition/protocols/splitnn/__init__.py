"""Vertical split learning (hetero NN): bottom models per party, a secret-shared interactive
layer, the guest's top model.

Split learning: Vepakomma et al., "Split learning for health: Distributed deep learning without
sharing raw patient data", 2018. The interactive layer whose host-side weights no single party
holds is FATE's hetero NN (Zhang et al., "Additively Homomorphic Encryption based Deep Neural
Network for Asymmetrically Collaborative Machine Learning", 2020), here with additive secret
sharing and dealer triples instead of Paillier. Label leakage through the host's gradients and
its mitigations: Li et al., "Label Leakage and Protection in Two-party Split Learning", ICLR 2022.

Roles: :class:`SplitNNGuest`, :class:`SplitNNHost`, :class:`SplitNNDealer` (the arbiter); the
reference :class:`CentralSplitNN`. Each party's plaintext layers run on numpy or, with
``backend: torch``, as PyTorch modules (:mod:`.backend`, :mod:`.torch_layers`); the wire is the
same either way. Who learns what: the role modules and ``docs/hetero_nn.md``.
"""

from coalition.protocols.splitnn.backend import BackendUnavailable
from coalition.protocols.splitnn.central import CentralSplitNN
from coalition.protocols.splitnn.dealer import SplitNNDealer
from coalition.protocols.splitnn.guest import SplitNNGuest, randomized_response
from coalition.protocols.splitnn.host import SplitNNHost, refuse_too_few_features
from coalition.protocols.splitnn.spec import HeteroNNParams

__all__ = ["BackendUnavailable", "CentralSplitNN", "HeteroNNParams", "SplitNNDealer", "SplitNNGuest", "SplitNNHost",
           "randomized_response", "refuse_too_few_features"]
