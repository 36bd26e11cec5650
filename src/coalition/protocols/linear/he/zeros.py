"""Encryptions of zero dealt by the arbiter, one batch ahead (``he-arbiter`` only).

A host's per-batch ``[[k·u_h]]`` needs one fresh encryption per row; the DJN randomiser
``hs^a`` is most of that cost, and it sits on the critical path of every batch. The arbiter,
idle while the data parties run their multi-exponentiations, makes the encryptions of zero
instead (by CRT with 256-bit DJN exponents, ``short_randomness``: about 4× cheaper than the
host's full-length public-key path) and sends each host the zeros of its
*next* batch; the host's online work becomes one plaintext addition per row. This is the
offline/online split of Damgård–Jurik–Nielsen's randomiser, with the key holder as the
offline party.

Who learns what: the guest receives ``[[k·u_h]] = [[0]]·g^(k·u_h)`` whose randomness it does
not know (semantic security under DCR and, for the 256-bit exponent, the short-exponent
assumption: :mod:`coalition.crypto.paillier.kernels`). The arbiter knows that randomness — and
holds the key anyway — but never receives ``[[k·u_h]]`` or ``[[d]]``; what it does receive
(masked gradients, the epoch loss) is re-randomised with a *uniform* ``r^n`` by its owner
(:mod:`.mask`), so none of the dealt randomness survives into it. Semi-honest model: an
arbiter that dealt trivial "zeros" would show ``u_h`` to the guest, which is the same trust
it already holds as the key holder. At most one batch of zeros is dealt and never used when
training stops early.
"""

from __future__ import annotations

import numpy as np

from coalition.core import Context, Party
from coalition.core.errors import ProtocolError
from coalition.crypto import he
from coalition.crypto.paillier import DEFAULT_PRECISION
from coalition.protocols.linear.batching import batches
from coalition.protocols.linear.he.spec import ZEROS
from coalition.protocols.linear.spec import LinearParams

__all__ = ["ZeroDealer", "receive_zeros"]


def _slot(epochs: Context, epoch: int, batch: int) -> Context:
    # both sides build the same namespace: train/epoch/<e>/zeros/<b>
    return epochs.sub(str(epoch)).sub("zeros").sub(str(batch))


class ZeroDealer:
    """Arbiter side: deals each host the zeros of the batch after the current one."""

    def __init__(self, epochs: Context, sk: he.PrivateKey, hosts: list[Party],
                 rows: int, params: LinearParams, *, extra: int, per_row: int = 1) -> None:
        self.epochs, self.sk, self.hosts = epochs, sk, hosts
        self.rows, self.params, self.extra, self.per_row = rows, params, extra, per_row

    def _sizes(self, epoch: int) -> list[int]:
        return [len(b) for b in batches(self.rows, self.params, epoch)]

    def deal(self, epoch: int, batch: int) -> None:
        """Send every host its own fresh zeros for ``(epoch, batch)``."""
        size = self.per_row * self._sizes(epoch)[batch] + self.extra
        slot = _slot(self.epochs, epoch, batch)
        for host in self.hosts:
            slot.send(host, ZEROS, self.sk.encrypt(np.zeros(size), executor=slot.executor,
                                                  short_randomness=True))

    def deal_after(self, epoch: int, batch: int, n_batches: int) -> None:
        """Deal the step that follows ``(epoch, batch)``, if training can reach it."""
        if batch + 1 < n_batches:
            self.deal(epoch, batch + 1)
        elif epoch + 1 < self.params.epochs:
            self.deal(epoch + 1, 0)


def receive_zeros(ectx: Context, dealer: Party, pk: he.PublicKey, batch: int,
                  size: int) -> he.EncryptedArray:
    """Host side: the dealt zeros of ``batch`` in the epoch of ``ectx``, validated."""
    value = ectx.sub("zeros").sub(str(batch)).recv(dealer, ZEROS)
    if (not isinstance(value, he.EncryptedArray) or value.shape != (size,)
            or value.public_key != pk or value.scale_bits != DEFAULT_PRECISION):
        raise ProtocolError("malformed dealt zeros", expected=size)
    return value
