"""Finding 17: ECDH-PSI must not leak a curve/twist bit per ID.

The attacker is a semi-honest partner (any role that receives the victim's stage-one values
``[k]H(x)``: the host in 2-party runs, the first host or the guest on the 3-party ring). It runs
the real protocol roles and only looks at what it received. From each received 32-byte value it
computes the Legendre symbol of ``u^3 + A u^2 + u``: curve or quadratic twist. Scalar
multiplication preserves that, so if ``H`` maps IDs to arbitrary u-coordinates (3deb866: SHA-256
as ``u``) the bit of ``[k]H(x)`` is the bit of ``H(x)``, which the attacker computes for any
candidate ID. It picks two candidate sets (``X0``: IDs whose public hash is on the curve, ``X1``:
on the twist) and guesses which one the victim holds. On 3deb866 it always wins (advantage 1);
with hashing into the prime-order group every received value is a group element, every bit is
"curve", and the guess is the same whichever set the victim holds (advantage 0).

Independent checks (no libsodium): the Legendre symbol and ``[L]P = O`` by an x-only Montgomery
ladder in Python (RFC 7748 §5 formulas, unclamped scalar).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from coalition.core import Party
from coalition.crypto.ecdh import hash_ids
from coalition.protocols.psi import run_guest, run_host
from coalition.testing import Recorder, run_parties

P = 2**255 - 19
A24 = 121665  # (A - 2) / 4 for A = 486662
A = 486662
L = 2**252 + 27742317777372353535851937790883648493

G, H1, H2 = Party.guest(), Party.host("h1"), Party.host("h2")
SET_SIZE = 48


def on_twist(u: int) -> bool:
    """True if ``u`` is the u-coordinate of a point of the quadratic twist, not the curve."""
    rhs = (u * u * u + A * u * u + u) % P
    return rhs != 0 and pow(rhs, (P - 1) // 2, P) == P - 1


def times_order_is_identity(u: int) -> bool:
    """``[L]P = O`` for the curve point with u-coordinate ``u`` (x-only ladder, unclamped)."""
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    for t in range(L.bit_length() - 1, -1, -1):
        bit = (L >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % P, (x2 - z2) % P
        aa, bb = a * a % P, b * b % P
        e = (aa - bb) % P
        c, d = (x3 + z3) % P, (x3 - z3) % P
        da, cb = d * a % P, c * b % P
        x3, z3 = (da + cb) ** 2 % P, x1 * (da - cb) ** 2 % P
        x2, z2 = aa * bb % P, e * (aa + A24 * e) % P
    if swap:
        x2, z2 = x3, z3
    return z2 == 0


def is_group_element(row: bytes) -> bool:
    """An element of the prime-order subgroup other than the identity, canonically encoded."""
    u = int.from_bytes(row, "little")
    return 1 < u < P and not on_twist(u) and times_order_is_identity(u)


def twist_bits(rows: np.ndarray) -> list[bool]:
    return [on_twist(int.from_bytes(bytes(r), "little")) for r in rows]


def candidate_sets() -> tuple[list[str], list[str]]:
    """``X0`` / ``X1``: candidate IDs whose public hash ``H(x)`` is on the curve / the twist
    (ordered by that bit, so with a prime-order hash both are just disjoint sets)."""
    pool = [f"cand{i:04d}" for i in range(6 * SET_SIZE)]
    bits = twist_bits(hash_ids([x.encode() for x in pool]))
    ranked = [x for _, x in sorted(zip(bits, pool, strict=True), key=lambda t: t[0])]
    return ranked[:SET_SIZE], ranked[-SET_SIZE:]


def run_and_observe(mode: str, victim: Party, attacker: Party,
                    victim_ids: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Run the real roles; return the victim's stage-one values as received by the attacker,
    and every 32-byte-wide array the attacker received."""
    others = [f"other{i}" for i in range(20)] + victim_ids[:5]
    if mode == "ring":
        parties = [G, H1, H2]
        params: dict[str, Any] = {"protocol": "ecdh", "delivery": "guest"}
    else:
        parties = [G, H1]
        params = {"protocol": "ecdh", "delivery": mode}
    inputs = {p: (victim_ids if p == victim else others) for p in parties}
    roles = {p: (lambda ctx, p=p: (run_guest if p == G else run_host)(ctx, inputs[p], params))
             for p in parties}
    rec = Recorder()
    run_parties(roles, wrap=rec.wrap, timeout=30)
    received = [(m, m.value()) for m in rec.received_by(attacker)]
    arrays = [v for _, v in received if isinstance(v, np.ndarray) and v.ndim == 2
              and v.shape[1] == 32]
    stage_one = [v for m, v in received
                 if m.sender == victim and m.key.endswith("self_encrypted")]
    assert stage_one, "the attacker must receive the victim's stage-one values"
    return np.concatenate(stage_one), arrays


CASES = [
    ("both", G, H1),          # 2-party: the host attacks the guest's IDs
    ("both", H1, G),          # 2-party: the guest attacks the host's IDs
    ("cardinality", G, H1),   # cardinality-only mode
    ("ring", G, H1),          # 3-party ring: the first host attacks the guest's IDs
    ("ring", H2, G),          # 3-party ring: the guest attacks a host's IDs
]


@pytest.mark.parametrize(("mode", "victim", "attacker"), CASES,
                         ids=[f"{m}-{v}-by-{a}" for m, v, a in CASES])
def test_curve_twist_bit_does_not_distinguish_input_sets(mode, victim, attacker):
    x0, x1 = candidate_sets()
    predicted = [sum(twist_bits(hash_ids([x.encode() for x in xs]))) for xs in (x0, x1)]

    def guess(view: np.ndarray) -> int:
        # which candidate set's predicted twist count is closer to the observed one (ties: 0)
        seen = sum(twist_bits(view))
        return int(abs(seen - predicted[1]) < abs(seen - predicted[0]))

    views = [run_and_observe(mode, victim, attacker, xs) for xs in (x0, x1)]
    advantage = abs(guess(views[1][0]) - guess(views[0][0]))
    assert advantage == 0, "the curve/twist bit of received values tells the victim's set"
    # and the reason: everything the attacker received is a prime-order group element
    for _, arrays in views:
        rows = np.concatenate(arrays)
        assert rows.shape[0] >= SET_SIZE
        assert all(is_group_element(bytes(r)) for r in rows)


def test_independent_checks_are_sound():
    """The test's own group check accepts group elements and rejects twist / torsion points
    (independent of the code under test: the RFC 7748 base point ``u = 9``)."""
    assert is_group_element((9).to_bytes(32, "little"))
    assert not times_order_is_identity(pow(9, -1, P))  # 1/u is P + (0, -1): not in the subgroup
    assert not is_group_element((0).to_bytes(32, "little"))
    twist = next(v for v in range(2, 100) if on_twist(v))
    assert not is_group_element(twist.to_bytes(32, "little"))
