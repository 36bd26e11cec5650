"""RFC 3161 time-stamp client: build a request for a checkpoint digest, verify the TSA's reply.

A time-stamp token from a Time-Stamping Authority (RFC 3161) proves a checkpoint existed at the
TSA's time: an external anchor that needs no chain. :func:`build_request` makes a DER
``TimeStampReq`` for a SHA-256 digest with a CSPRNG nonce; :func:`verify_response` checks the
``TimeStampResp`` against the request and the TSA certificate the federation pinned:

1. status ``granted`` (or ``grantedWithMods``), content type ``id-ct-TSTInfo``;
2. the token's message imprint is our digest (SHA-256) and its nonce is ours;
3. the signer is the pinned certificate (issuer serial), the ``messageDigest`` signed attribute
   is the SHA-256 of the TSTInfo, and the signature over the signed attributes verifies with
   the certificate's key (RSA PKCS#1 v1.5 or ECDSA).

Any failure raises :class:`~coalition.core.errors.CryptoError`. :class:`TimestampAnchor` is the
:class:`~coalition.node.ledger.anchor.Anchor` built on them: it POSTs the request
(``application/timestamp-query``) for the SHA-256 of a final checkpoint's body to the TSA's URL,
verifies the reply, and keeps the whole reply and nonce as the receipt, so ``verify`` re-checks
the token later without the network. Chains of trust beyond the pinned certificate are out of
scope.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from asn1crypto import algos, cms, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from coalition.core.errors import CryptoError, PeerError
from coalition.crypto.checkpoint import Checkpoint
from coalition.node.ledger.anchor import AnchorReceipt

__all__ = ["TimestampAnchor", "TimestampToken", "build_request", "verify_response"]


@dataclass(frozen=True, slots=True)
class TimestampToken:
    """A verified token: the TSA's time, its serial, and the DER token to keep as a receipt."""

    gen_time: datetime.datetime
    serial: int
    token: bytes


def build_request(digest: bytes, nonce: int | None = None) -> tuple[bytes, int]:
    """A DER ``TimeStampReq`` for a SHA-256 ``digest`` asking for the TSA's certificate; returns
    the request and its nonce (64 random bits unless given)."""
    if len(digest) != 32:
        raise CryptoError("time-stamp digest must be SHA-256", length=len(digest))
    nonce = secrets.randbits(63) if nonce is None else nonce
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "hashed_message": digest,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    )
    return request.dump(), nonce


def verify_response(
    response: bytes, digest: bytes, nonce: int, tsa_cert_pem: bytes
) -> TimestampToken:
    """Verify a DER ``TimeStampResp`` for ``digest``/``nonce`` against the pinned TSA cert."""
    try:
        cert = x509.load_pem_x509_certificate(tsa_cert_pem)
        resp = tsp.TimeStampResp.load(response)
        if resp["status"]["status"].native not in ("granted", "granted_with_mods"):
            raise CryptoError("time-stamp request not granted")
        token = resp["time_stamp_token"]
        signed = token["content"]
        eci = signed["encap_content_info"]
        if eci["content_type"].native != "tst_info":
            raise CryptoError("time-stamp token holds no TSTInfo")
        tst_der = eci["content"].contents
        tst = tsp.TSTInfo.load(tst_der)
        imprint = tst["message_imprint"]
        if (
            imprint["hash_algorithm"]["algorithm"].native != "sha256"
            or imprint["hashed_message"].native != digest
        ):
            raise CryptoError("time-stamp token is for another digest")
        if tst["nonce"].native != nonce:
            raise CryptoError("time-stamp token nonce does not match the request")
        signer = signed["signer_infos"][0]
        sid = signer["sid"].chosen
        if (
            not isinstance(sid, cms.IssuerAndSerialNumber)
            or sid["serial_number"].native != cert.serial_number
        ):
            raise CryptoError("time-stamp token not signed by the pinned TSA certificate")
        if signer["digest_algorithm"]["algorithm"].native != "sha256":
            raise CryptoError("time-stamp token signed with an unsupported digest")
        attrs = signer["signed_attrs"]
        digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
        if digests != [hashlib.sha256(tst_der).digest()]:
            raise CryptoError("time-stamp token signed attributes do not match its content")
        signed_bytes = b"\x31" + attrs.dump()[1:]  # DER SET OF, not the [0] IMPLICIT tag
        signature = signer["signature"].native
        key = cert.public_key()
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed_bytes, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed_bytes, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise CryptoError("unsupported TSA key type")
        return TimestampToken(
            tst["gen_time"].native, int(tst["serial_number"].native), token.dump()
        )
    except CryptoError:
        raise
    except (InvalidSignature, ValueError, KeyError, TypeError, IndexError) as exc:
        raise CryptoError("time-stamp response does not verify") from exc


Post = Callable[[str, bytes, float], bytes]


def http_post(url: str, body: bytes, timeout: float) -> bytes:
    """POST an RFC 3161 request over HTTP(S); the TSA's DER reply."""
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/timestamp-query",
                 "Accept": "application/timestamp-reply"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return bytes(reply.read(1 << 20))
    except (urllib.error.URLError, OSError) as exc:
        raise PeerError("the time-stamping authority did not answer") from exc


class TimestampAnchor:
    """Anchor final checkpoints with an RFC 3161 Time-Stamping Authority (see the module)."""

    name = "rfc3161"

    def __init__(self, url: str, tsa_cert_pem: bytes, *, timeout: float = 10.0,
                 post: Post = http_post) -> None:
        self._url, self._cert, self._timeout, self._post = url, tsa_cert_pem, timeout, post

    def publish(self, checkpoint: Checkpoint, cosignatures: Mapping[str, bytes]) -> AnchorReceipt:
        """Time-stamp the checkpoint's body; the receipt holds the verified reply."""
        digest = hashlib.sha256(checkpoint.body()).digest()
        request, nonce = build_request(digest)
        reply = self._post(self._url, request, self._timeout)
        token = verify_response(reply, digest, nonce, self._cert)
        return AnchorReceipt(self.name, {
            "reply": base64.b64encode(reply).decode("ascii"), "nonce": nonce,
            "gen_time": token.gen_time.isoformat(), "serial": token.serial,
            "sha256": digest.hex()})

    def verify(self, checkpoint: Checkpoint, receipt: AnchorReceipt) -> None:
        """Re-verify the stored reply against this checkpoint and the pinned TSA certificate."""
        try:
            reply = base64.b64decode(str(receipt.locator["reply"]), validate=True)
            nonce = int(receipt.locator["nonce"])
        except (KeyError, ValueError, TypeError) as exc:
            raise CryptoError("anchor receipt does not resolve") from exc
        if receipt.anchor != self.name:
            raise CryptoError("not an RFC 3161 receipt")
        verify_response(reply, hashlib.sha256(checkpoint.body()).digest(), nonce, self._cert)
