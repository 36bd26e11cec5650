"""Mutual TLS: who may talk to a peer server, and who may claim which party id."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from coalition.core import AuthError, ConfigError, Party, PeerError, PeerTimeoutError
from coalition.transport.envelope import Envelope
from coalition.transport.grpc import NetworkConfig, PeerClient, PeerServer
from coalition.transport.tls import (
    PartyIdentity,
    Trust,
    cert_fingerprint,
    cert_party,
    generate_ca,
    issue_party_cert,
    party_dns_name,
    self_signed_party_cert,
)

G, H, H2 = Party.guest(), Party.host("h1"), Party.host("h2")
CA = generate_ca("tls test CA")
TRUST = Trust.federation(CA.cert_pem)
FAST = NetworkConfig(send_timeout=1.0, backoff_initial=0.05, backoff_max=0.2, grace=0.1)


@pytest.fixture
def host_server() -> Iterator[PeerServer]:
    with PeerServer("127.0.0.1:0", issue_party_cert(CA, H), TRUST, config=FAST) as server:
        yield server


def push(server: PeerServer, identity: PartyIdentity, *, sender: Party | None = None,
         trust: Trust = TRUST, key: str = "k") -> None:
    client = PeerClient(H, server.address, identity, trust, FAST)
    try:
        env = Envelope("job", "task", sender or identity.party, H, "job", key, 1, 1)
        client.push(env, b"x")
    finally:
        client.close()


def assert_not_delivered(server: PeerServer, sender: Party, key: str = "k") -> None:
    with pytest.raises(PeerTimeoutError):
        server.mailbox("job", "task", H).take(sender, f"job/{key}", 0.05)


def test_certificate_from_the_federation_ca_is_accepted(host_server: PeerServer) -> None:
    push(host_server, issue_party_cert(CA, G))
    assert host_server.mailbox("job", "task", H).take(G, "job/k", 1) == b"x"


def test_unknown_certificate_is_refused(host_server: PeerServer) -> None:
    stranger = issue_party_cert(generate_ca("another federation"), G)
    with pytest.raises(PeerError, match="refused our certificate"):
        push(host_server, stranger)
    assert_not_delivered(host_server, G)


def test_expired_certificate_is_refused(host_server: PeerServer) -> None:
    now = dt.datetime.now(dt.UTC)
    expired = issue_party_cert(CA, G, not_before=now - dt.timedelta(days=3),
                              not_after=now - dt.timedelta(days=1))
    with pytest.raises(PeerError):
        push(host_server, expired)
    assert_not_delivered(host_server, G)


def test_party_cannot_impersonate_another_party(host_server: PeerServer,
                                                caplog: pytest.LogCaptureFixture) -> None:
    h2 = issue_party_cert(CA, H2)  # a valid member of the federation, lying about its id
    with caplog.at_level(logging.WARNING, logger="coalition.transport"), \
            pytest.raises(AuthError, match="claimed sender") as info:
        push(host_server, h2, sender=G)
    assert info.value.details["status"] == "PERMISSION_DENIED"
    assert_not_delivered(host_server, G)
    assert any("refused" in r.message and "host:h2" in r.message for r in caplog.records)


def test_client_refuses_a_server_that_is_not_the_peer_it_dialled(
        host_server: PeerServer) -> None:
    client = PeerClient(H2, host_server.address, issue_party_cert(CA, G), TRUST, FAST)
    try:
        with pytest.raises(AuthError, match="TLS verification"):
            client.push(Envelope("job", "task", G, H2, "job", "k", 1, 1), b"x")
    finally:
        client.close()


def test_pinned_self_signed_certificates() -> None:
    g, h = self_signed_party_cert(G), self_signed_party_cert(H)
    trust = Trust.pinned({G: g.cert_pem, H: h.cert_pem})
    with PeerServer("127.0.0.1:0", h, trust, config=FAST) as server:
        push(server, g, trust=trust)
        assert server.mailbox("job", "task", H).take(G, "job/k", 1) == b"x"
        impostor = self_signed_party_cert(G)  # same party id, not the pinned certificate
        with pytest.raises(PeerError):
            push(server, impostor, trust=trust, key="k2")
        assert_not_delivered(server, G, "k2")


def test_pinned_federation_certificate_refuses_a_reissued_one(
        caplog: pytest.LogCaptureFixture) -> None:
    g_pinned, h = issue_party_cert(CA, G), issue_party_cert(CA, H)
    trust = Trust.federation(CA.cert_pem, pin={G: g_pinned.cert_pem, H: h.cert_pem})
    with PeerServer("127.0.0.1:0", h, trust, config=FAST) as server:
        reissued = issue_party_cert(CA, G)  # valid CA signature, but not the pinned cert
        with caplog.at_level(logging.WARNING, logger="coalition.transport"), \
                pytest.raises(AuthError, match="pinned"):
            push(server, reissued, trust=trust)
        assert any("pinned" in r.message for r in caplog.records)
        push(server, g_pinned, trust=trust, key="ok")
        assert server.mailbox("job", "task", H).take(G, "job/ok", 1) == b"x"


def test_pinned_certificate_must_name_its_party() -> None:
    with pytest.raises(ConfigError):
        Trust.pinned({G: self_signed_party_cert(H).cert_pem})


def test_identity_round_trips_through_files(tmp_path: Path) -> None:
    ident = issue_party_cert(CA, H)
    key_path, cert_path = ident.save(tmp_path / "node")
    assert key_path.stat().st_mode & 0o077 == 0
    again = PartyIdentity.load(key_path, cert_path)
    assert again == ident and cert_party(again.cert_pem) == H
    assert cert_fingerprint(again.cert_pem) == cert_fingerprint(ident.cert_pem)


def test_dns_names_are_valid_and_distinct() -> None:
    odd = Party.host("Bank_of Ünïcode")
    names = {party_dns_name(p) for p in (G, H, H2, odd, Party.arbiter())}
    assert len(names) == 5
    assert party_dns_name(H) == "h1.host.coalition.invalid"
    assert all(len(label) <= 63 for n in names for label in n.split("."))


def test_certificate_without_a_party_is_refused() -> None:
    with pytest.raises(AuthError):
        cert_party(CA.cert_pem)
