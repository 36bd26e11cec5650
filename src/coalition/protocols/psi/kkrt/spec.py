"""KKRT16 PSI: parameters, their bounds, message keys and payload shapes.

Protocol (Kolesnikov, Kumaresan, Rosulek, Trieu, "Efficient Batched Oblivious PRF with
Applications to Private Set Intersection", CCS 2016), receiver ``R`` = guest with ``n_R`` IDs,
sender ``S`` = host with ``n_S`` IDs, ``k = 512``::

    R -> S : hello (n_R, bins, chunk, seed_R)       S -> R : hello (n_S, seed_S)
    R <-> S: k base OTs (Chou-Orlandi): R holds seed pairs (k_j^0, k_j^1), S picks s in {0,1}^k
             and gets k_j^{s_j}
    R      : item hashes x, cuckoo table (3 hash functions), codeword rows C_i(x) per bin
    R -> S : U = T xor G(k^1) xor C, T = G(k^0) column-wise, in chunks of ``chunk`` bins
    S      : Q = G(k^s) xor (U and s) = T xor (C and s) per chunk, as soon as it arrives
    S -> R : for i = 1..3: H(h_i(y), Q[h_i(y)] xor (C_i(y) and s)) for y in Y, all three lists
             in one secret random order (truncated to ``t`` bytes)
    R      : compares H(j, T[j]) of each item with the sender list of its own hash index
    R -> S : matched positions (delivery ``both``) or only the size (``guest``)

Security: semi-honest (honest-but-curious) parties, AES as a PRF/ideal permutation, CDH in the
edwards25519 subgroup for the base OTs. Under the ``sm`` crypto suite (``PsiParams.suite``) the
base OTs run in the SM2 group with SM3 key derivation, the session keys come from SM3/HMAC-SM3,
and SM4 replaces AES everywhere (PRG, item hash, bins, codewords, correlation-robust hash): the
same protocol and leakage, with SM4 as the PRF/ideal permutation and CDH in SM2. Who learns what:

* both learn ``n_R`` (from the table size) and ``n_S`` (from the list lengths);
* ``R`` learns ``X ∩ Y`` and nothing about the rest of ``Y``: each sender value for ``y`` not in ``X`` is
  a PRF output under a key ``R`` does not know;
* ``S`` learns nothing from ``U`` (each column is masked by a PRG stream ``S`` cannot compute);
  with ``both`` it learns ``X ∩ Y`` (``R`` returns positions in the common order of the three
  lists, so not even the hash function that placed a shared ID is revealed); with ``guest``
  only ``|X ∩ Y|``;
* ``cardinality`` delivery is not offered: ``R`` learns members by construction (use ECDH).

Parameters and bounds (defaults; ``stat_bits`` = 40 from :class:`PsiParams`):

* **bins**: stash-less 3-way cuckoo, ``e * n_R`` bins with
  ``e = (stat_bits + 130 + log2 n_R) / 123.5`` (PSZ18 fit; 1.54 at ``n = 2^20``), failure
  ``<= 2^-40``; a failure aborts before any item-dependent message. (1.2n with a stash would
  be smaller but needs extra OPRF instances per stashed item; not implemented.)
* **code width** ``k = 512`` bits (4 AES blocks): the pseudorandom code must give every pair of
  distinct inputs Hamming distance ``>= 128`` except with probability ``2^-40`` over all
  ``~3 n_R n_S`` pairs; KKRT's Table 2 needs 424-501 bits for ``n`` up to ``2^24``, 512 covers
  all sizes here. Cost is linear in ``k``.
* **truncation** ``t = ceil((stat_bits + log2(n_R n_S)) / 8)`` bytes (10 at 1M x 1M): each
  receiver value is compared only with the ``n_S`` sender values of its own hash index, so a
  false match has probability ``<= n_R n_S 2^-8t <= 2^-40``; at most 16 bytes.
* **keys**: code, bin hashes, item hash and the hash permutation come from both parties' fresh
  seeds, exchanged after the inputs are fixed (:mod:`.hashing`); base-OT seeds are fresh per
  run and each expands one PRG stream only.
* **chunk**: bins per streamed matrix chunk (a multiple of 64; ``chunk * 64`` bytes a message):
  ``bins / 8`` between 8,192 and 131,072, so the sender has work from the first chunk on;
  rows travel block-major, ``(4, chunk, 2)`` uint64, the layout bulk AES wants.
"""

from __future__ import annotations

from dataclasses import dataclass

from coalition.core.context import MessageKey
from coalition.core.errors import ConfigError

__all__ = [
    "CHUNK_BINS",
    "CODE_BITS",
    "MAX_TRUNCATION_BYTES",
    "SENDER_VALUES",
    "U_CHUNK",
    "KkrtSetup",
    "default_chunk_bins",
]

CODE_BITS = 512
CHUNK_BINS = 1 << 17  # at most 8 MiB of U per message
MIN_CHUNK_BINS = 1 << 13
PIPELINE_CHUNKS = 8  # smaller tables are still cut in about this many chunks
MAX_TRUNCATION_BYTES = 16
MAX_BINS = 1 << 32

U_CHUNK = MessageKey("kkrt_u", "receiver -> sender: U rows of one chunk, block-major "
                                 "(4, bins, 2) uint64")
SENDER_VALUES = MessageKey("kkrt_values", "sender -> receiver: (n_S, t) uint8 OPRF values, "
                                          "one batch of one hash index")


def default_chunk_bins(bins: int) -> int:
    """Chunk size for a table of ``bins`` bins (see module docstring)."""
    target = -(-bins // PIPELINE_CHUNKS)
    return min(CHUNK_BINS, max(MIN_CHUNK_BINS, -(-target // 64) * 64))


@dataclass(frozen=True)
class KkrtSetup:
    """What the receiver announces in its hello (``kkrt`` field) besides ``n``."""

    seed: bytes
    bins: int
    chunk_bins: int
    code_bits: int = CODE_BITS

    def to_wire(self) -> dict[str, object]:
        """The hello field."""
        return {"seed": self.seed, "bins": self.bins, "chunk_bins": self.chunk_bins,
                "code_bits": self.code_bits}

    @classmethod
    def from_wire(cls, raw: object, n_receiver: int) -> KkrtSetup:
        """Validate the receiver's announcement (sender side)."""
        if not isinstance(raw, dict):
            raise ConfigError("KKRT hello lacks its setup field")
        seed, bins, chunk = raw.get("seed"), raw.get("bins"), raw.get("chunk_bins")
        if (not isinstance(seed, bytes) or not isinstance(bins, int)
                or not isinstance(chunk, int) or raw.get("code_bits") != CODE_BITS):
            raise ConfigError("malformed KKRT setup", code_bits=raw.get("code_bits"))
        if not (n_receiver <= bins <= MAX_BINS and bins % 64 == 0
                and 64 <= chunk <= 1 << 22 and chunk % 64 == 0):
            raise ConfigError("KKRT table or chunk size out of range", bins=bins, chunk=chunk)
        return cls(seed=seed, bins=bins, chunk_bins=chunk)

    @property
    def chunks(self) -> int:
        """Number of streamed chunks."""
        return -(-self.bins // self.chunk_bins)

    def chunk_range(self, c: int) -> tuple[int, int]:
        """Bins ``[lo, hi)`` of chunk ``c``."""
        lo = c * self.chunk_bins
        return lo, min(self.bins, lo + self.chunk_bins)
