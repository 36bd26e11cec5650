"""Set-up handshake shared by every variant: check alignment, agree on the column layout.

Each data party sends the guest its row count, feature count and ID digest
(:func:`~coalition.protocols.linear.data.ids_digest` under the job's crypto suite:
``LinearParams.suite``); the guest checks they match its own and
broadcasts the :class:`Layout` (row count and per-party widths, in canonical party order) to
everyone, the arbiter included. Leakage: row and column counts (schema-level, already public to
partners after PSI and a data grant).
"""

from __future__ import annotations

from dataclasses import dataclass

from coalition.core import Context, MessageKey, Party
from coalition.core.errors import InputError, ProtocolError
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.linear.data import PartyTable, ids_digest

__all__ = ["HELLO", "LAYOUT", "Layout", "announce", "await_layout", "collect_layout"]

HELLO = MessageKey("hello", "data party -> guest: {rows, width, digest}")
LAYOUT = MessageKey("layout", "guest -> all: {rows, widths}")


@dataclass(frozen=True)
class Layout:
    """Row count and feature widths of the guest (intercept included) and each host."""

    rows: int
    widths: dict[str, int]  # str(Party) -> width

    def width(self, party: Party) -> int:
        """Columns held by ``party``."""
        return self.widths[str(party)]

    def columns(self, order: list[Party]) -> dict[Party, slice]:
        """Column slice of each party in the joint matrix, parties laid out in ``order``."""
        out, start = {}, 0
        for party in order:
            out[party] = slice(start, start + self.width(party))
            start += self.width(party)
        return out

    @property
    def total_width(self) -> int:
        """Columns of the joint matrix."""
        return sum(self.widths.values())

    def to_wire(self) -> dict[str, object]:
        """Plain-value form."""
        return {"rows": self.rows, "widths": dict(self.widths)}

    @classmethod
    def from_wire(cls, raw: object) -> Layout:
        """Validate a received layout."""
        if not isinstance(raw, dict) or not isinstance(raw.get("rows"), int) \
                or not isinstance(raw.get("widths"), dict):
            raise ProtocolError("malformed layout message")
        widths = {str(k): int(v) for k, v in raw["widths"].items()}
        return cls(int(raw["rows"]), widths)


def announce(ctx: Context, table: PartyTable,
             suite: CryptoSuite | str = CryptoSuite.STANDARD) -> Layout:
    """Host side: say hello to the guest, then wait for the layout."""
    ctx.send(ctx.guest, HELLO, {"rows": table.n_rows, "width": table.features.shape[1],
                                "digest": ids_digest(table.ids, suite)})
    return await_layout(ctx)


def await_layout(ctx: Context) -> Layout:
    """Wait for the guest's layout (hosts and arbiter)."""
    return Layout.from_wire(ctx.recv(ctx.guest, LAYOUT))


def collect_layout(ctx: Context, table: PartyTable, guest_width: int,
                   suite: CryptoSuite | str = CryptoSuite.STANDARD) -> Layout:
    """Guest side: check every host's rows against ours and broadcast the layout."""
    mine = ids_digest(table.ids, suite)
    widths = {str(ctx.party): guest_width}
    for host in ctx.hosts:
        hello = ctx.recv(host, HELLO)
        if not isinstance(hello, dict) or hello.get("digest") != mine \
                or hello.get("rows") != table.n_rows:
            raise InputError("host rows are not aligned with the guest's (run PSI first)",
                             host=str(host))
        widths[str(host)] = int(hello["width"])
    layout = Layout(table.n_rows, widths)
    ctx.send(ctx.peers(), LAYOUT, layout.to_wire())
    return layout
