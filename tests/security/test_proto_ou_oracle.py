"""A hostile SecureBoost host probes the guest's Okamoto–Uchiyama key as a decryption oracle.

Decrypting a crafted OU ciphertext ``g^x`` with ``x >= p`` gives ``x mod p``, and
``gcd(x - (x mod p), n)`` factors the key. The host (the attacker) replaces its packed
candidate sums with ``g^x`` for an ``x`` above ``p``. The guest never sends a decrypted value
back, and before using one it checks that nothing lies above the packed slots: the residue
fills those bits, so the job ends with ``ProtocolError`` at the first probe (the host learns
one bit: that its probe failed), and the guest hands out no split choice for it.
"""

from __future__ import annotations

import warnings

import gmpy2
import numpy as np
import pytest

from coalition.core import Party, ProtocolError
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.protocols.secureboost import SecureBoostGuest, SecureBoostHost, SecureBoostParams
from coalition.protocols.secureboost import cipher as sb_cipher
from coalition.testing import PartyFailure, Recorder, run_parties

G, H = Party.guest(), Party.host("h1")


def test_crafted_residue_ends_the_job_at_the_guest(monkeypatch):
    rng = np.random.default_rng(3)
    n = 400
    xg, xh = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    y = (xg[:, 0] + xh[:, 0] > 0).astype(np.float64)
    p = SecureBoostParams(num_trees=2, max_depth=2, key_bits=1024, allow_insecure_key=True,
                          he_scheme="ou")
    honest_wrap = sb_cipher.wrap_masked

    def probe(pk, cts, executor):
        # x = 2^(|p|+1) + 1 > p: its residue mod p is what the attacker wants back
        x = (1 << (pk.plaintext_bits + 2)) + 1
        crafted = np.array([gmpy2.powmod(pk.g, x, pk.n)] * cts.size, dtype=object)
        return honest_wrap(pk, crafted, executor)

    monkeypatch.setattr(sb_cipher, "wrap_masked", probe)
    rec = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyWarning)
        with pytest.raises(PartyFailure) as err:
            run_parties({G: lambda c: SecureBoostGuest(p).fit(c, xg, y),
                         H: lambda c: SecureBoostHost(p).fit(c, xh)}, wrap=rec.wrap, timeout=60)
    assert err.value.party == G and isinstance(err.value.error, ProtocolError)
    # nothing derived from a decrypted probe reached the host: no winner message at all
    assert not [m for m in rec.sent_by(G) if m.key.endswith("/winners")]
