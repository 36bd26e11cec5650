"""The Paillier variants (``protocol: he-arbiter`` / ``he-guest``): the arbiter or the guest
holds the key and coordinates; data parties exchange encrypted residuals and masked gradients.

Roles: :class:`HEGuest`, :class:`HEHost` and, for ``he-arbiter``, :class:`HEArbiter` (key
holder). Message keys in :mod:`.spec`; what the roles share (history, batch floor, decryption
service) in :mod:`.common`; gradient masking in :mod:`.mask`; encryptions of zero dealt a batch
ahead in :mod:`.zeros`.
"""

from coalition.protocols.linear.he.arbiter import HEArbiter
from coalition.protocols.linear.he.guest import HEGuest
from coalition.protocols.linear.he.host import HEHost

__all__ = ["HEArbiter", "HEGuest", "HEHost"]
