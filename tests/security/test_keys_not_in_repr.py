"""No private key ever shows in a ``repr`` (a log line, a traceback, a debugger): the classes
that hold key material print a certificate fingerprint or nothing instead (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from coalition.core import Party
from coalition.crypto.signing import SigningKey
from coalition.node.audit.seal import AuditSeal
from coalition.node.identity import create_identity
from coalition.node.serving.state import HostBinding
from coalition.transport.tls import (
    cert_fingerprint,
    generate_ca,
    issue_party_cert,
    self_signed_party_cert,
)


def _secret_fragments(key_pem: bytes) -> list[str]:
    """The PEM marker and every base64 line of the key: none of them may be shown."""
    lines = key_pem.decode().strip().splitlines()
    return ["PRIVATE KEY", *(line for line in lines[1:-1] if len(line) >= 16)]


def _assert_hidden(shown: str, key_pem: bytes) -> None:
    assert "BEGIN" not in shown
    for fragment in _secret_fragments(key_pem):
        assert fragment not in shown
    assert repr(key_pem) not in shown


def test_party_identity_repr_names_party_and_fingerprint_only():
    ca = generate_ca("repr test")
    ident = issue_party_cert(ca, Party.host("telco"))
    shown = repr(ident)
    _assert_hidden(shown, ident.key_pem)
    assert "host:telco" in shown
    assert cert_fingerprint(ident.cert_pem) in shown
    assert str(ident) == shown  # str of a dataclass falls back to repr: also safe


def test_self_signed_party_identity_repr_hides_key():
    ident = self_signed_party_cert(Party.guest())
    _assert_hidden(repr(ident), ident.key_pem)


def test_certificate_authority_repr_hides_key():
    ca = generate_ca("repr test")
    shown = repr(ca)
    _assert_hidden(shown, ca.key_pem)
    assert cert_fingerprint(ca.cert_pem) in shown


def test_party_identity_repr_survives_an_unreadable_certificate():
    ident = issue_party_cert(generate_ca("repr test"), Party.guest())
    broken = type(ident)(ident.party, ident.key_pem, b"not a certificate")
    shown = repr(broken)
    _assert_hidden(shown, ident.key_pem)
    assert "<unreadable>" in shown


def test_node_identity_repr_hides_key(tmp_path: Path):
    ident = create_identity(tmp_path, "bank")
    shown = repr(ident)
    _assert_hidden(shown, ident.key_pem)
    assert ident.fingerprint in shown


@pytest.mark.parametrize("secret", [bytes(range(32)), b"\xfe" * 32])
def test_audit_seal_repr_hides_mac_key(tmp_path: Path, secret: bytes):
    seal = AuditSeal(mac_key=secret, signer=SigningKey.generate(),
                     checkpoint_path=tmp_path / "cp.json", node="bank", every=10)
    shown = repr(seal)
    assert repr(secret) not in shown
    assert secret.hex() not in shown
    assert "<secret>" in shown  # the signer's own repr hides its seed


def test_host_binding_repr_hides_pair_keys():
    secret = bytes(range(100, 132))
    binding = HostBinding(model="m", version=1, scorer=None, lookup=None,  # type: ignore[arg-type]
                          info={}, cohosts=("other",), pair_keys={"other": secret})
    shown = repr(binding)
    assert repr(secret) not in shown
    assert "pair_keys" not in shown
