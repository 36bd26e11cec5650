"""Row-alignment check for vertical models that train on rows in the order given (SecureBoost).

Every host sends the guest two digests (:func:`~coalition.protocols.linear.data.ids_digest`:
SHA-256, or SM3 under the job's ``sm`` crypto suite) of its IDs in PSI's canonical form
(:data:`~coalition.protocols.linear.data.CANONICAL_IDS`): one over the IDs in row order, one
over the sorted IDs. The guest compares them with its own and answers each host with one
verdict, so every party fails together with the same typed :class:`InputError` and the right
advice: different ID sets → run ``psi`` first; the same IDs in another order → run ``psi`` (it
orders rows by canonical ID) or sort the inputs the same way.

Who learns what: the guest learns whether each host's ID list equals its own (after PSI the
intersection is common knowledge, so nothing new); a host learns only the verdict. A digest of
a list that differs reveals nothing beyond that (the hash's preimage resistance), except that the
guest can confirm a guessed full ID list, which is what the check is for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coalition.core import Context
from coalition.core.errors import InputError, ProtocolError
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.alignment.spec import ALIGNMENT_DIGESTS, ALIGNMENT_VERDICT
from coalition.protocols.linear.data import CANONICAL_IDS, ids_digest

__all__ = ["check_alignment_guest", "check_alignment_host", "row_digests"]

_DIFFERENT_SETS = "different"
_DIFFERENT_ORDER = "order"
_ADVICE = {
    _DIFFERENT_SETS: "host rows are not the guest's rows (run psi first)",
    _DIFFERENT_ORDER: "host rows hold the guest's IDs in another order (run psi, which orders "
                      "rows by canonical ID, or sort both inputs by ID)",
}


def row_digests(ids: Sequence[Any], suite: CryptoSuite | str = CryptoSuite.STANDARD
                ) -> tuple[bytes, bytes]:
    """Digests of the canonical IDs in row order and sorted, with the suite's hash."""
    canon = CANONICAL_IDS.many(ids)
    return ids_digest(canon, suite), ids_digest(sorted(canon), suite)


def check_alignment_guest(ctx: Context, ids: Sequence[Any],
                          suite: CryptoSuite | str = CryptoSuite.STANDARD) -> None:
    """Guest: compare every host's digests with ours, answer each, raise if any differs.
    ``suite`` is the job's (every party passes the same one)."""
    ordered, by_set = row_digests(ids, suite)
    problems: dict[str, str] = {}
    for host in ctx.hosts:
        got = ctx.recv(host, ALIGNMENT_DIGESTS)
        if not isinstance(got, list) or len(got) != 2 or not all(isinstance(d, bytes) for d in got):
            raise ProtocolError("malformed alignment digests", host=str(host))
        if got[0] != ordered:
            problems[str(host)] = _DIFFERENT_ORDER if got[1] == by_set else _DIFFERENT_SETS
    for host in ctx.hosts:
        ctx.send(host, ALIGNMENT_VERDICT, problems.get(str(host), "ok"))
    if problems:
        name, why = next(iter(problems.items()))
        raise InputError(_ADVICE[why], host=name)


def check_alignment_host(ctx: Context, ids: Sequence[Any],
                         suite: CryptoSuite | str = CryptoSuite.STANDARD) -> None:
    """Host: send our digests, raise the guest's verdict if the rows do not line up."""
    ctx.send(ctx.guest, ALIGNMENT_DIGESTS, list(row_digests(ids, suite)))
    verdict = ctx.recv(ctx.guest, ALIGNMENT_VERDICT)
    if verdict == "ok":
        return
    if verdict not in _ADVICE:
        raise ProtocolError("malformed alignment verdict")
    raise InputError(_ADVICE[verdict], party=str(ctx.party))
