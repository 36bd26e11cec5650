"""RFC 3161 client: request shape, verification of a token produced offline by OpenSSL, and the
anchor that posts to a TSA (a local responder built here from cryptography and asn1crypto)."""

from __future__ import annotations

import datetime
import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from coalition.core.errors import CoalitionError, CryptoError
from coalition.crypto import merkle
from coalition.crypto.checkpoint import Checkpoint
from coalition.node.ledger.timestamp import TimestampAnchor, build_request, verify_response

DATA = Path(__file__).resolve().parent.parent / "data" / "rfc3161"
DIGEST = hashlib.sha256(b"coalition checkpoint").digest()
NONCE = 424242


def test_request_is_a_der_timestampreq_for_our_digest() -> None:
    der, nonce = build_request(DIGEST)
    req = tsp.TimeStampReq.load(der)
    assert req["message_imprint"]["hashed_message"].native == DIGEST
    assert req["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert req["nonce"].native == nonce and req["cert_req"].native is True
    assert build_request(DIGEST, nonce=NONCE)[1] == NONCE
    with pytest.raises(CryptoError):
        build_request(b"short")


def test_openssl_token_verifies_and_tampering_fails() -> None:
    reply = (DATA / "reply.tsr").read_bytes()
    cert = (DATA / "tsa.crt").read_bytes()
    token = verify_response(reply, DIGEST, NONCE, cert)
    assert token.gen_time.year >= 2026 and token.token in reply
    with pytest.raises(CryptoError):
        verify_response(reply, hashlib.sha256(b"other").digest(), NONCE, cert)
    with pytest.raises(CryptoError):
        verify_response(reply, DIGEST, NONCE + 1, cert)
    with pytest.raises(CryptoError):
        verify_response(reply, DIGEST, NONCE, (DATA / "other.crt").read_bytes())
    flipped = bytearray(reply)
    flipped[-5] ^= 0x01  # inside the ECDSA signature
    with pytest.raises(CryptoError):
        verify_response(bytes(flipped), DIGEST, NONCE, cert)
    with pytest.raises(CryptoError):
        verify_response(b"\x30\x03garbage", DIGEST, NONCE, cert)


# --- a local TSA responder (cryptography + asn1crypto), and the anchor that posts to it ---


def _tsa() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "coalition test TSA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                           critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _reply(request: bytes, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate,
           serial: int) -> bytes:
    """What an RFC 3161 TSA answers: TSTInfo in CMS SignedData, signed attributes signed."""
    req = tsp.TimeStampReq.load(request)
    tst = tsp.TSTInfo({
        "version": "v1", "policy": "1.2.3.4", "message_imprint": req["message_imprint"],
        "serial_number": serial, "gen_time": datetime.datetime.now(datetime.UTC),
        "nonce": req["nonce"]})
    tst_der = tst.dump()
    attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
        cms.CMSAttribute({"type": "message_digest",
                          "values": [hashlib.sha256(tst_der).digest()]})])
    signature = key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
    asn_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": asn_cert.issuer, "serial_number": asn_cert.serial_number})}),
        "digest_algorithm": {"algorithm": "sha256"}, "signed_attrs": attrs,
        "signature_algorithm": {"algorithm": "sha256_ecdsa"}, "signature": signature})
    signed = cms.SignedData({
        "version": "v3", "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "tst_info",
                               "content": cms.ParsableOctetString(tst_der)},
        "certificates": [asn_cert], "signer_infos": [signer]})
    token = cms.ContentInfo({"content_type": "signed_data", "content": signed})
    return tsp.TimeStampResp({"status": {"status": "granted"},
                              "time_stamp_token": token}).dump()


@pytest.fixture(scope="module")
def tsa_server() -> Iterator[tuple[str, bytes, list[bytes]]]:
    key, cert = _tsa()
    seen: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(body)
            answer = _reply(body, key, cert, len(seen))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield (f"http://127.0.0.1:{server.server_port}/tsa",
           cert.public_bytes(serialization.Encoding.PEM), seen)
    server.shutdown()
    server.server_close()


def test_timestamp_anchor_posts_to_a_tsa_and_verifies_its_receipt(tsa_server) -> None:
    url, cert, seen = tsa_server
    anchor = TimestampAnchor(url, cert)
    cp = Checkpoint("coalition.ledger/bank", 3, merkle.root_hash([merkle.leaf_hash(b"a")]))
    receipt = anchor.publish(cp, {"telco": b"s" * 64})
    assert receipt.anchor == "rfc3161" and seen
    request = tsp.TimeStampReq.load(seen[-1])  # the TSA saw only the head's digest
    assert request["message_imprint"]["hashed_message"].native == \
        hashlib.sha256(cp.body()).digest()
    anchor.verify(cp, receipt)
    other = Checkpoint(cp.origin, 4, cp.root)
    with pytest.raises(CryptoError):
        anchor.verify(other, receipt)
    with pytest.raises(CryptoError):  # a receipt checked against another TSA's certificate
        TimestampAnchor(url, (DATA / "other.crt").read_bytes()).verify(cp, receipt)
    with pytest.raises(CoalitionError):  # nobody answers
        TimestampAnchor("http://127.0.0.1:9/tsa", cert, timeout=2).publish(cp, {})
