"""A party's :class:`~coalition.core.Channel` over gRPC: push to peers, read the local mailbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from coalition.core.errors import ConfigError
from coalition.core.ids import Party
from coalition.transport.envelope import Envelope, Outbox
from coalition.transport.grpc.client import PeerClient
from coalition.transport.grpc.config import NetworkConfig
from coalition.transport.grpc.server import PeerServer
from coalition.transport.tls import PartyIdentity, Trust

__all__ = ["GrpcChannel"]


class GrpcChannel:
    """``party``'s channel in one job task (a :class:`~coalition.transport.SealingChannel`).

    Sends go to each peer's server at the address in ``peers``; receives come from the
    mailbox ``server`` keeps for ``(job, task, party)``. ``identity`` must speak for ``party``.
    """

    def __init__(self, server: PeerServer, party: Party, peers: Mapping[Party, str], *,
                 identity: PartyIdentity, trust: Trust, job: str = "job", task: str = "task",
                 config: NetworkConfig | None = None) -> None:
        if identity.party != party:
            raise ConfigError("party identity does not speak for the party",
                              party=str(party), identity=str(identity.party))
        if party in peers:
            raise ConfigError("a party is not its own peer", party=str(party))
        self._party = party
        self._parties = tuple(sorted({party, *peers}))
        self._server = server
        self._job, self._task = job, task
        self._box = server.mailbox(job, task, party)
        self._outbox = Outbox(job=job, task=task, sender=party)
        self.config = cfg = config or server.config
        self._clients = {p: PeerClient(p, addr, identity, trust, cfg) for p, addr in peers.items()}

    @property
    def party(self) -> Party:
        """The local party."""
        return self._party

    @property
    def parties(self) -> Sequence[Party]:
        """Every party of the job task, the local one included."""
        return self._parties

    def seal(self, to: Party, key: str, size: int) -> Envelope:
        """Claim ``(to, key)`` and number the message."""
        if to not in self._clients:
            raise ConfigError("unknown peer", peer=str(to))
        return self._outbox.seal(to, key, size)

    def push(self, env: Envelope, payload: bytes) -> None:
        """Deliver a sealed message to its receiver's server (repeats are dropped there)."""
        self._clients[env.receiver].push(env, payload)

    def send(self, to: Party, key: str, payload: bytes) -> None:
        """Deliver ``payload`` to ``to`` under ``key`` (once per key and peer)."""
        self.push(self.seal(to, key, len(payload)), payload)

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        """Wait for the payload ``frm`` sent under ``key``."""
        if frm not in self._clients:
            raise ConfigError("unknown peer", peer=str(frm))
        return self._box.take(frm, key, timeout)

    def abort(self, reason: str) -> None:
        """Tell every peer this party failed, so their waits on it end now (best effort)."""
        for peer, client in self._clients.items():
            env = Envelope(self._job, self._task, self._party, peer, "", "abort", 1, 0)
            client.abort(env, reason)

    def close(self) -> None:
        """Close the links and this party's mailbox."""
        for client in self._clients.values():
            client.close()
        self._server.release(self._job, self._task, self._party)
