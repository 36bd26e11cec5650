"""Vertical SecureBoost: gradient-boosted trees over a guest (labels, key) and any hosts.

Cheng et al., "SecureBoost: A Lossless Federated Learning Framework", IEEE Intelligent
Systems 36(6), 2021. One file per role (:mod:`.guest`, :mod:`.host`), shared :mod:`.spec`.

Who learns what: the guest learns gains and row partitions of host splits, never host feature
values or thresholds; hosts learn sampled rows and node membership per level, never labels,
gradients or hessians in plaintext. Details in the role modules' docstrings and
``docs/secureboost.md``.
"""

from coalition.protocols.secureboost.guest import SecureBoostGuest
from coalition.protocols.secureboost.host import SecureBoostHost
from coalition.protocols.secureboost.predict import HostSplit, row_path
from coalition.protocols.secureboost.spec import Objective, SecureBoostParams

__all__ = [
    "HostSplit",
    "Objective",
    "SecureBoostGuest",
    "SecureBoostHost",
    "SecureBoostParams",
    "row_path",
]
