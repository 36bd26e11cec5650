"""ECDH-PSI (``protocol: ecdh``): commutative encryption over the prime-order subgroup of
Curve25519, for 2 parties (:mod:`.guest`, :mod:`.host`) and for 3+ parties around a ring
(:mod:`.multi_guest`, :mod:`.multi_host`, the ring itself in :mod:`.ring`).

Engines follow the PSI package's shape, ``Session -> PsiResult``; protocol and leakage are
stated in :mod:`.guest` (2 parties) and :mod:`.multi_guest` (3+).
"""

from coalition.protocols.psi.ecdh.guest import run_ecdh_guest
from coalition.protocols.psi.ecdh.host import run_ecdh_host
from coalition.protocols.psi.ecdh.multi_guest import run_multi_guest
from coalition.protocols.psi.ecdh.multi_host import run_multi_host

__all__ = ["run_ecdh_guest", "run_ecdh_host", "run_multi_guest", "run_multi_host"]
