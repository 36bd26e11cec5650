"""Private three-element verification (三要素核验): a bank holding (name, ID number, phone)
learns, per element, only whether a telco's record for that phone matches; the telco learns
nothing about which phones were asked.

Construction: keyword PIR from an OPRF in download mode (Freedman, Ishai, Pinkas, Reingold,
"Keyword search and oblivious pseudorandom functions", TCC 2005; the same shape as
:mod:`coalition.protocols.pir.oprf`), with *keyed match tags* instead of encrypted payloads.
The OPRF is RFC 9497's mode 0x00 in the federation's crypto suite
(:mod:`coalition.crypto.oprf_suite`: edwards25519/SHA-512 for ``standard``, SM2/SM3 for ``sm``).
With ``F_k`` the telco's OPRF under its secret epoch key ``k`` and inputs domain-separated and
length-prefixed (:func:`.spec.oprf_inputs`)::

    telco, offline: for every record (phone, name, id), canonical form
        T = { F_k("phone"|phone), F_k("name"|phone|name), F_k("id"|phone|id) } [:16 bytes],
        all 3N tags sorted together (which tag is whose, or which element, is not visible)
    B -> T : hello (suite, padded element count m = 3 * pow2(max(n, min_batch)), cached digest)
    T      : charge m against the bank's quota for this epoch (refuse: nothing evaluated)
    T -> B : manifest (suite, epoch, N, digest of T); T itself unless the bank's copy is current
    B -> T : [r_i]H1(x_i) for the 3n inputs of its triples and random dummies up to m
    T -> B : [k][r_i]H1(x_i)
    B      : F_k(x_i) = Finalize(x_i, [1/r_i]...); flag = tag in T, per element

Who learns what (honest-but-curious; one-more-gap-DH for the OPRF):

* **the telco** learns the bank's identity, the suite, and the padded batch size ``m`` (a
  multiple of three; a power of two of triples, at least ``min_batch``). Blinded elements are
  uniform group elements: no phone, name or ID number of the bank, nor any function of one
  (hash included), reaches it. It logs each batch by count; it never learns the flags.
* **the bank** learns ``N`` (the number of records), and per real triple three bits: the phone
  has a record (``phone_found``); that record's name equals its name (``name_match``); that
  record's ID number equals its ID (``id_match``). ``name_match`` or ``id_match`` imply
  ``phone_found``. The tags ``T`` are pseudorandom without ``k``: the bank cannot test any
  value offline. Each test of a guess costs an OPRF evaluation the telco counts against the
  bank's quota per epoch, so guessing a record's name or enumerating phones is bounded by the
  quota (the residual leakage of any verification service: a "yes" to a guess). A new epoch
  (new key) makes old tags useless.
* Nothing raw crosses in either direction: the table carries PRF tags, the digest hashes tags.

Differences from a plain keyword-PIR lookup of (name, ID) by phone: the bank never learns the
telco's name or ID for a phone (only equality with its own), and mismatching elements reveal
nothing else (no distance, no partial match). Canonical forms: :func:`.spec.canonical_triple`.

Roles: :func:`.bank.run_bank`, :func:`.telco.run_telco`; the halves :func:`.bank.prepare` /
:func:`.bank.finish` and :meth:`.table.VerificationTable.evaluate` serve the node's peer
methods. Guide: ``docs/pir.md``.
"""

from coalition.protocols.verify3.bank import Query, Verify3Result, finish, prepare, run_bank
from coalition.protocols.verify3.spec import (
    Triple,
    Verify3Flags,
    Verify3Params,
    canonical_triple,
    oprf_inputs,
)
from coalition.protocols.verify3.table import Manifest, VerificationTable
from coalition.protocols.verify3.telco import check_batch, run_telco

__all__ = [
    "Manifest",
    "Query",
    "Triple",
    "VerificationTable",
    "Verify3Flags",
    "Verify3Params",
    "Verify3Result",
    "canonical_triple",
    "check_batch",
    "finish",
    "oprf_inputs",
    "prepare",
    "run_bank",
    "run_telco",
]
