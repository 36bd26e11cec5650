"""The guest's side of the interactive layer with one host: its share of that host's ``W_h``.

With several hosts the guest keeps one :class:`HostLink` per host. Each pair is the two-party
protocol of :mod:`.guest` and :mod:`.host` on its own: the guest's share ``U_g`` of that host's
``W_h``, its momentum, and the pair's triples (its own seed from the dealer, independent of
every other pair's). The guest adds the hosts' contributions in the ring, where the hosts'
pair masks cancel (:mod:`.hostmask`), decodes ``Σ_h α_h·W_h`` into the interactive layer and
sends every host the same (perturbed) error δ, masked with that pair's triples; after
training each host gets ``W_h·R`` for the guest's one secret random invertible ``R``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import Context, Party
from coalition.core.errors import ProtocolError
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.linear.fixedpoint import Ring, mul_public, truncate
from coalition.protocols.splitnn.dealer import parse_seed, with_host
from coalition.protocols.splitnn.ring import field, matmul
from coalition.protocols.splitnn.spec import (
    BACKWARD,
    CORRECTIONS,
    FINISH_OPEN,
    FINISH_SHARE,
    FORWARD,
    FRAC_STEP,
    FRAC_VALUE,
    FRAC_WEIGHT,
    MASKED_WEIGHTS,
    SEED,
)
from coalition.protocols.splitnn.triples import (
    FINISH_EPOCH,
    Product,
    Shares,
    Triple,
    batch_shapes,
    triple,
)

__all__ = ["HostLink"]

F64 = NDArray[np.float64]
_GUEST = 0  # party index in SecureML truncation
#: α (FRAC_VALUE) times δ' (FRAC_STEP), brought back to the weights' FRAC_WEIGHT.
STEP_SHIFT = FRAC_VALUE + FRAC_STEP - FRAC_WEIGHT


class HostLink:
    """The guest's share ``u`` of one host's ``W_h`` (and its momentum), and the pair's
    triples for the current batch."""

    def __init__(self, host: Party, shares: Shares, u: Ring) -> None:
        self.host, self.shares, self.u = host, shares, u
        self.velocity = np.zeros_like(u)
        self._corrections: list[Any] = []
        self._t: tuple[Triple, Triple, Triple] | None = None
        self._fwd: Any = None

    @classmethod
    def open(cls, tctx: Context, host: Party, dealer: Party, u: Ring,
             suite: CryptoSuite | str = CryptoSuite.STANDARD) -> HostLink:
        """The link, with the seed the dealer sent for this pair (expanded in ``suite``)."""
        seed = parse_seed(with_host(tctx, host).recv(dealer, SEED))
        return cls(host, Shares(seed, suite), u)

    def receive_corrections(self, ectx: Context, dealer: Party, batches: int) -> None:
        """Receive the epoch's corrections of the pair's triples, one per batch."""
        corrections = with_host(ectx, self.host).recv(dealer, CORRECTIONS)
        if not isinstance(corrections, list) or len(corrections) != batches:
            raise ProtocolError("dealer sent corrections for the wrong schedule")
        self._corrections = corrections

    def send_masked_weights(self, bctx: Context, epoch: int, j: int, b: int) -> None:
        """Prepare the batch's triples; open ``U_g − B1`` to the host."""
        d, k = self.u.shape
        corr = self._corrections[j]
        corr = corr if isinstance(corr, dict) else {}
        self._t = (
            triple(self.shares, Product.FORWARD, epoch, j, left=False,
                   shapes=batch_shapes(Product.FORWARD, b, d, k), correction=corr.get("forward")),
            triple(self.shares, Product.WEIGHT_STEP, epoch, j, left=False,
                   shapes=batch_shapes(Product.WEIGHT_STEP, b, d, k),
                   correction=corr.get("weight_step")),
            triple(self.shares, Product.HOST_GRADIENT, epoch, j, left=True,
                   shapes=batch_shapes(Product.HOST_GRADIENT, b, d, k)))
        bctx.send(self.host, MASKED_WEIGHTS, np.asarray(self.u - self._t[0].mask,
                                                        dtype=np.uint64))

    def contribution(self, bctx: Context, b: int) -> Ring:
        """``α_h·W_h`` for the batch's rows in the ring (``FRAC_VALUE + FRAC_WEIGHT``), from
        the host's masked openings; with several hosts still under the hosts' pair masks,
        which cancel only in the sum over hosts."""
        t1 = self._triples()[0]
        d, k = self.u.shape
        self._fwd = bctx.recv(self.host, FORWARD)
        return np.asarray(field(self._fwd, "share", (b, k))
                          + matmul(field(self._fwd, "e1", (b, d)), self.u) + t1.c,
                          dtype=np.uint64)

    def backward(self, bctx: Context, x3: Ring, y2: Ring, momentum: float) -> None:
        """Send the masked δ (``x3``) and δ' (``y2``) with the guest's share of the host's
        gradient ``δ·W_hᵀ``; step the guest's share of ``W_h`` by its share of ``α_hᵀ·δ'``."""
        _, t2, t3 = self._triples()
        d, k = self.u.shape
        b = x3.shape[0]
        bctx.send(self.host, BACKWARD, {
            "e3": np.asarray(x3 - t3.mask, dtype=np.uint64),
            "f2": np.asarray(y2 - t2.mask, dtype=np.uint64),
            "share": matmul(t3.mask, field(self._fwd, "f3", (k, d))) + t3.c
            + matmul(x3, self.u.T)})
        step = truncate(matmul(field(self._fwd, "e2", (d, b)), y2) + t2.c, STEP_SHIFT, _GUEST)
        self.velocity = mul_public(self.velocity, momentum, _GUEST) + step
        self.u = np.asarray(self.u - self.velocity, dtype=np.uint64)
        self._t, self._fwd = None, None

    def _triples(self) -> tuple[Triple, Triple, Triple]:
        if self._t is None:
            raise ProtocolError("split-NN batch steps out of order")
        return self._t

    def finish(self, fctx: Context, dealer: Party, r: Ring) -> None:
        """Give the host ``W_h·R`` for the guest's secret random invertible ``R`` (encoded
        with ``FRAC_VALUE``; one for every host, so that masked prediction parts add up)."""
        d, k = self.u.shape
        t = triple(self.shares, Product.FINISH, FINISH_EPOCH, 0, left=False,
                   shapes=batch_shapes(Product.FINISH, 0, d, k),
                   correction=with_host(fctx, self.host).recv(dealer, CORRECTIONS))
        opened = field({"e": fctx.recv(self.host, FINISH_OPEN)}, "e", (d, k))
        fctx.send(self.host, FINISH_SHARE, {"f": np.asarray(r - t.mask, dtype=np.uint64),
                                            "share": matmul(opened, r) + t.c
                                            + matmul(self.u, r)})
