"""Masks between hosts, so that with several hosts the guest learns only their sum.

Each host adds to what it sends the guest per row (its share of ``α_h·W_h`` in training, its
``α_h·W_h·R`` in prediction) the masks it shares with every other host: ``+m`` toward a host
whose party name sorts after its own, ``−m`` toward one before, so the masks cancel in the sum
over hosts and the guest decodes ``Σ_h α_h·W_h`` — never one host's part, unless every other
host colludes with it (Bonawitz et al., CCS 2017, §3: pairwise one-time pads; the same
construction as the served linear models', :mod:`coalition.protocols.linear.masking`). The
hosts agree one pair key per run with fresh key-agreement keys of the run's crypto suite
(:class:`coalition.protocols.linear.masking.MaskKey`: X25519, or ECDH in the SM2 group under
``sm``) sent directly to each other over the job's mutually authenticated channels (the guest
relays nothing); the masks are the pair key's stream of the suite, one HKDF purpose per use
(:class:`coalition.crypto.prg.Stream`: HKDF-SHA256 and ChaCha20, or HKDF-SM3 and SM4-CTR). Under
``standard`` every byte is what it was before suites existed. One host
alone masks nothing: there is no one to hide behind, and ``refuse_too_few_features`` is the
bound (as for a single linear host).
"""

from __future__ import annotations

import numpy as np

from coalition.core import Context
from coalition.core.errors import ProtocolError
from coalition.crypto.prg import Stream, purpose_info
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.linear.fixedpoint import Ring
from coalition.protocols.linear.masking import MaskKey
from coalition.protocols.splitnn.spec import HOST_KEY

__all__ = ["HostMasks"]

SALT = b"coalition/split-nn/host-masks/v1"


class HostMasks:
    """A host's pair keys with every other host of the run (none with a single host)."""

    def __init__(self, me: str, streams: dict[str, Stream]) -> None:
        self.me, self._streams = me, streams

    @classmethod
    def agree(cls, ctx: Context, purpose: str,
              suite: CryptoSuite | str = CryptoSuite.STANDARD) -> HostMasks:
        """Agree a pair key with each other host of ``ctx`` for ``purpose`` (``train`` or
        ``predict``) in ``suite``: one public key sent to each (32 bytes of X25519, or a
        33-byte compressed SM2 point), one received from each. A key of the wrong length (a
        host on another suite) is a :class:`ProtocolError`; a point off the curve a
        :class:`~coalition.core.errors.CryptoError`."""
        me, others = str(ctx.party), [h for h in ctx.hosts if h != ctx.party]
        if not others:
            return cls(me, {})
        key = MaskKey(suite)
        ctx.send(others, HOST_KEY, key.public)
        streams = {}
        for peer in others:
            pub = ctx.recv(peer, HOST_KEY)
            if not isinstance(pub, bytes) or len(pub) != len(key.public):
                raise ProtocolError("malformed host mask key", host=str(peer))
            lo, hi = sorted((me, str(peer)))
            context = f"coalition/split-nn/{purpose}|{lo}|{hi}".encode()
            streams[str(peer)] = Stream(key.agree(pub, context), SALT, suite)
        return cls(me, streams)

    def __bool__(self) -> bool:
        return bool(self._streams)

    def apply(self, values: Ring, *index: int) -> Ring:
        """``values`` plus this host's side of every pair mask for the use ``index``."""
        out = np.asarray(values, dtype=np.uint64).copy()
        info = purpose_info(b"split-nn-host-mask", *index)
        with np.errstate(over="ignore"):
            for peer, stream in self._streams.items():
                m = stream.words(info, out.size).reshape(out.shape)
                out = out + m if self.me < peer else out - m
        return out
