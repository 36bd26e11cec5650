"""A job partner floods a party's transport with messages it never reads (issue 16, finding 9:
"mailboxes unbounded").

Played over the real gRPC transport with mutual TLS: the hostile host is a genuine party of the
job (its certificate is trusted), so only the receiver's own bounds stop it. On 3deb866 every
message was accepted — unread messages and spilled bytes grew without limit; now arrivals past
``max_unread`` per sender, ``disk_budget`` of spilled bytes or ``max_mailboxes`` job tasks are
refused with RESOURCE_EXHAUSTED, the sender backs off and retries, and a message is filed once
the reader has made room.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coalition.core import Party, PeerError
from coalition.transport.grpc import GrpcChannel, NetworkConfig, PeerServer
from coalition.transport.tls import Trust, generate_ca, issue_party_cert

G, H = Party.guest(), Party.host("mallory")
CA = generate_ca("flood test CA")
TRUST = Trust.federation(CA.cert_pem)
IDS = {G: issue_party_cert(CA, G), H: issue_party_cert(CA, H)}
MiB = 1024 * 1024
QUICK = {"send_timeout": 0.6, "backoff_initial": 0.05, "backoff_max": 0.1}


def _attacker(victim: PeerServer, own: PeerServer, task: str = "task") -> GrpcChannel:
    return GrpcChannel(own, H, {G: victim.address}, identity=IDS[H], trust=TRUST, task=task,
                       config=NetworkConfig(**QUICK))


def test_unread_messages_per_sender_are_bounded_and_room_is_made_by_reading() -> None:
    config = NetworkConfig(max_unread=3, **QUICK)
    with PeerServer("127.0.0.1:0", IDS[G], TRUST, config=config) as victim, \
            PeerServer("127.0.0.1:0", IDS[H], TRUST) as own:
        chan = _attacker(victim, own)
        try:
            for i in range(3):
                chan.send(G, f"job/flood/{i}", b"x")
            with pytest.raises(PeerError) as info:
                chan.send(G, "job/flood/3", b"x")
            assert "too many unread messages" in info.value.details["last_error"]
            box = victim.mailbox("job", "task", G)
            assert box.take(H, "job/flood/0", 1) == b"x"  # the reader makes room ...
            chan.send(G, "job/flood/4", b"y")  # ... and the next message is filed
            assert box.take(H, "job/flood/4", 1) == b"y"
        finally:
            chan.close()


def test_spilled_bytes_are_bounded_by_the_disk_budget(tmp_path: Path) -> None:
    config = NetworkConfig(spill_threshold=1, spill_dir=tmp_path, disk_budget=2 * MiB, **QUICK)
    with PeerServer("127.0.0.1:0", IDS[G], TRUST, config=config) as victim, \
            PeerServer("127.0.0.1:0", IDS[H], TRUST) as own:
        chan = _attacker(victim, own)
        try:
            chan.send(G, "job/a", b"a" * MiB)
            chan.send(G, "job/b", b"b" * MiB)
            with pytest.raises(PeerError) as info:
                chan.send(G, "job/c", b"c" * MiB)
            assert "spill space" in info.value.details["last_error"]
            assert sum(p.stat().st_size for p in tmp_path.rglob("*.msg")) == 2 * MiB
            assert victim.mailbox("job", "task", G).take(H, "job/a", 1) == b"a" * MiB
            chan.send(G, "job/d", b"d" * MiB)  # room again once the reader read one
        finally:
            chan.close()


def test_job_tasks_a_peer_can_open_are_bounded() -> None:
    config = NetworkConfig(max_mailboxes=2, **QUICK)
    with PeerServer("127.0.0.1:0", IDS[G], TRUST, config=config) as victim, \
            PeerServer("127.0.0.1:0", IDS[H], TRUST) as own:
        chans = [_attacker(victim, own, task=f"t{i}") for i in range(3)]
        try:
            chans[0].send(G, "job/k", b"x")
            chans[1].send(G, "job/k", b"x")
            with pytest.raises(PeerError) as info:
                chans[2].send(G, "job/k", b"x")
            assert "too many job tasks" in info.value.details["last_error"]
        finally:
            for c in chans:
                c.close()
