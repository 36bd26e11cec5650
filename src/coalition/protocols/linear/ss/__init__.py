"""The secret-shared variant (``protocol: ss``): additive shares over Z_2^64, Beaver triples
dealt by the arbiter, or by the guest when the job has none.

Roles: :class:`SSGuest` (party 0: labels, the intercept), :class:`SSHost` (party 1 is the first
host; further hosts secret-share their features between the two computing parties) and
:class:`SSDealer` (the arbiter). Message keys in :mod:`.spec`; the training loop both computing
parties run in :mod:`.engine`; the HKDF-keyed ChaCha20 streams of correlated randomness in
:mod:`.correlated`; Poisson regression (``task: poisson``) in :mod:`.poisson`, with the secure
exponential of :mod:`.exp`.
"""

from coalition.protocols.linear.ss.dealer import SSDealer
from coalition.protocols.linear.ss.guest import SSGuest
from coalition.protocols.linear.ss.host import SSHost

__all__ = ["SSDealer", "SSGuest", "SSHost"]
