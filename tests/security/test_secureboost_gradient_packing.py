"""A hostile SecureBoost guest packs its encrypted "gradients" to read which host bin each row
is in (issue 18; the WOE/IV exchange had the same hole, ``test_binning_label_packing.py``).

The host cannot see inside ``[[g_r]]``. A guest that encrypts ``2^r`` for row ``r`` and
announces one slot as wide as the key's plaintext space gets, for every candidate ``(f, b)``,
``Σ_{r: bin_f(r) ≤ b} 2^r``: a bit mask of the rows left of that threshold, so the number of
candidates whose mask holds row ``r`` is that row's bin (the shuffle does not hide a count).
The host now holds the guest to the slot layout an honest guest's row count and the agreed
``precision_bits`` give (``GHPacker.layout``) and refuses any other. What remains (documented
in docs/secureboost.md): inside the honest width a hostile guest still reads up to
``slot_bits - 1`` rows per candidate sum; masking each slot would need room in the layout.
"""

import warnings

import numpy as np
import pytest

from coalition.core import Party, ProtocolError
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.protocols.secureboost import (
    SecureBoostGuest,
    SecureBoostHost,
    SecureBoostParams,
    packing,
)
from coalition.protocols.secureboost import host as sb_host
from coalition.testing import PartyFailure, run_parties

G, H = Party.guest(), Party.host("h1")
ROWS, BINS = 240, 6
PARAMS = SecureBoostParams(num_trees=1, max_depth=1, key_bits=1024, allow_insecure_key=True,
                           he_scheme="paillier", max_bin=BINS, min_samples_leaf=1)


def _host_values() -> np.ndarray:
    return np.random.default_rng(11).integers(0, BINS, (ROWS, 1)).astype(np.float64)


def _attack(monkeypatch) -> tuple[PartyFailure, list[int]]:
    """Run the hostile guest against the host; return how it ended and what it decrypted."""
    honest_fit = packing.GHPacker.fit
    seen: list[int] = []

    def wide_fit(g, h, *, capacity_bits, precision_bits):
        honest = honest_fit(g, h, capacity_bits=capacity_bits, precision_bits=precision_bits)
        # one slot as wide as the plaintext space
        return packing.GHPacker(capacity_bits, capacity_bits - 1, 1, honest.g_scale,
                                honest.h_scale)

    def decode(self, values, count):
        seen.extend(int(v) for v in values)
        raise RuntimeError("the attacker has what it came for")

    monkeypatch.setattr(packing.GHPacker, "fit", staticmethod(wide_fit))
    monkeypatch.setattr(packing.GHPacker, "encode_rows",
                        lambda self, g, h: [1 << r for r in range(g.size)])
    monkeypatch.setattr(packing.GHPacker, "decode_packed", decode)
    rng = np.random.default_rng(2)
    xg, y = rng.normal(size=(ROWS, 2)), rng.integers(0, 2, ROWS).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyWarning)
        with pytest.raises(PartyFailure) as err:
            run_parties({G: lambda c: SecureBoostGuest(PARAMS).fit(c, xg, y),
                         H: lambda c: SecureBoostHost(PARAMS).fit(c, _host_values())},
                        timeout=120)
    return err.value, seen


def _bins_read(sums: list[int]) -> list[int]:
    """Per row, how many candidate masks hold it: BINS - 1 - its bin (cumulative left sums)."""
    return [sum((s >> r) & 1 for s in sums) for r in range(ROWS)]


def test_wide_slots_are_refused_by_the_host(monkeypatch):
    failure, seen = _attack(monkeypatch)
    assert failure.party == H and isinstance(failure.error, ProtocolError)
    assert seen == []  # nothing was decrypted


def test_without_the_layout_check_the_attack_reads_every_rows_bin(monkeypatch):
    """The hole the check closes: let the host accept any layout again, and the attacker
    recovers the bin of every row from one level."""
    monkeypatch.setattr(sb_host.GHPacker, "layout",
                        staticmethod(lambda rows, precision, capacity: (capacity, 1)))
    failure, seen = _attack(monkeypatch)
    assert failure.party == G and seen  # the guest stopped itself, after decrypting
    codes = _host_values()[:, 0].astype(int)
    read = _bins_read(seen)
    assert len(set(read)) == BINS
    # a larger count means a lower bin: the counts order the rows exactly as the bins do
    rank = {c: i for i, c in enumerate(sorted(set(read), reverse=True))}
    assert [rank[c] for c in read] == codes.tolist()
