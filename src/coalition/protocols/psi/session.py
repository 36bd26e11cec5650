"""What every PSI role does around its engine: count traffic, agree on parameters, report
progress, and deliver the result per :class:`~coalition.protocols.psi.spec.Delivery`.

Delivery (2-party view; the multi-party engine reuses it between the guest and each host):

* ``both`` — the guest sends the host the positions, in the array the host sent, of the
  matches, in ascending canonical-ID order; the host maps them back to its own rows.
* ``guest`` and ``cardinality`` — the guest sends only the size.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from coalition.core.context import Context
from coalition.core.errors import ConfigError, ProtocolError
from coalition.core.ids import Party
from coalition.protocols.psi.inputs import IdSet
from coalition.protocols.psi.spec import (
    HELLO,
    RESULT_POSITIONS,
    RESULT_SIZE,
    Delivery,
    PsiParams,
    PsiResult,
    PsiSummary,
)
from coalition.protocols.psi.wire import MeteredChannel, metered

__all__ = ["Progress", "Session", "open_session", "secret_permutation"]

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as batches complete (for progress bars)."""

IntArray = npt.NDArray[np.int64]


def secret_permutation(n: int) -> IntArray:
    """A uniformly random permutation seeded from ``secrets`` (hides row order from peers)."""
    rng = np.random.Generator(np.random.PCG64(secrets.randbits(128)))
    return rng.permutation(n).astype(np.int64)


@dataclass
class Session:
    """One party's run: its metered context, parameters, IDs and bookkeeping."""

    ctx: Context
    meter: MeteredChannel
    params: PsiParams
    ids: IdSet
    progress: Progress | None
    started: float = field(default_factory=time.perf_counter)
    peer_sizes: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def tick(self, stage: str, done: int, total: int) -> None:
        """Report progress, if anyone listens."""
        if self.progress is not None:
            self.progress(stage, done, total)

    # -- handshake ----------------------------------------------------------------------------
    def hello_to(self, peers: list[Party], **fields: Any) -> None:
        """Send the agreed parameters and this party's set size."""
        self.ctx.send(peers, HELLO, {"params": self.params.agreed(), "n": len(self.ids), **fields})

    def hello_from(self, peer: Party) -> dict[str, Any]:
        """Receive a peer's hello; refuse mismatched parameters before any real work."""
        msg = self.ctx.recv(peer, HELLO)
        if not isinstance(msg, dict) or not isinstance(msg.get("n"), int) or msg["n"] < 0:
            raise ProtocolError("malformed hello", peer=str(peer))
        if msg.get("params") != self.params.agreed():
            raise ConfigError("PSI parameters differ between parties", peer=str(peer),
                              ours=self.params.agreed(), theirs=msg.get("params"))
        self.peer_sizes[str(peer)] = msg["n"]
        return msg

    # -- results ------------------------------------------------------------------------------
    def finish(self, size: int, members: IntArray | None) -> PsiResult:
        """Build the result; ``members`` are positions in ``self.ids`` in agreed order."""
        ids = None if members is None else [self.ids.ids[i] for i in members.tolist()]
        rows = None if members is None else self.ids.rows[members]
        summary = PsiSummary(
            protocol=self.params.protocol.value, delivery=self.params.delivery.value,
            party=str(self.ctx.party), input_rows=self.ids.input_rows,
            unique_ids=len(self.ids), duplicates=self.ids.duplicates,
            peer_sizes=dict(self.peer_sizes), intersection_size=size,
            seconds=round(time.perf_counter() - self.started, 4),
            bytes_sent=self.meter.bytes_sent, bytes_received=self.meter.bytes_received,
            extra=dict(self.extra))
        self.ctx.log_metric("psi.intersection_size", size)
        return PsiResult(size=size, ids=ids, indices=rows, summary=summary)

    def agreed_order(self, members: IntArray) -> IntArray:
        """Sort positions in ``self.ids`` by canonical ID: the order all learners share."""
        if members.size == 0:
            return members
        return members[self._order_by_id(members)]

    def _order_by_id(self, positions: IntArray) -> IntArray:
        """Permutation sorting ``positions`` by canonical ID (Python's stable sort on str,
        not a numpy 'U' dtype, which would drop trailing NULs and could differ by party)."""
        ids = self.ids.ids
        keys = [ids[i] for i in positions.tolist()]
        return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)

    def deliver_as_guest(self, host: Party, mine: IntArray, theirs: IntArray) -> PsiResult:
        """Guest side of delivery: ``mine[i]`` (own position) matched ``theirs[i]`` (position in
        the array ``host`` sent)."""
        if self.params.delivery == Delivery.BOTH:
            order = self._order_by_id(mine)
            self.ctx.send(host, RESULT_POSITIONS, theirs[order].astype(np.int64))
            return self.finish(int(mine.size), mine[order])
        self.ctx.send(host, RESULT_SIZE, int(mine.size))
        learns = self.params.delivery == Delivery.GUEST
        return self.finish(int(mine.size), self.agreed_order(mine) if learns else None)

    def deliver_as_host(self, guest: Party, sent_rows: IntArray) -> PsiResult:
        """Host side: ``sent_rows[p]`` is the position in ``self.ids`` of the value this party
        sent at position ``p``."""
        if self.params.delivery == Delivery.BOTH:
            pos = self.ctx.recv(guest, RESULT_POSITIONS)
            if not _valid_positions(pos, sent_rows.size):
                raise ProtocolError("malformed result positions", peer=str(guest))
            return self.finish(int(pos.size), sent_rows[pos])
        size = self.ctx.recv(guest, RESULT_SIZE)
        if not isinstance(size, int) or not 0 <= size <= len(self.ids):
            raise ProtocolError("malformed intersection size", peer=str(guest))
        return self.finish(size, None)


def _valid_positions(pos: object, n: int) -> bool:
    """Distinct integer positions in ``[0, n)`` (sorting beats ``np.unique`` here)."""
    if not isinstance(pos, np.ndarray) or pos.ndim != 1 or pos.dtype.kind != "i":
        return False
    if pos.size == 0:
        return True
    s = np.sort(pos)
    return bool(s[0] >= 0 and s[-1] < n and not np.any(s[1:] == s[:-1]))


def open_session(ctx: Context, ids: IdSet, params: PsiParams,
                 progress: Progress | None) -> Session:
    """Start a metered session under ``ctx.sub("psi")``."""
    inner, meter = metered(ctx, "psi")
    return Session(ctx=inner, meter=meter, params=params, ids=ids, progress=progress)
