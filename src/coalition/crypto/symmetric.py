"""Bulk AES over numpy arrays (OpenSSL's AES-NI through ``cryptography``): a fixed-key block
permutation, CTR keystreams, a PRF on strings, and a correlation-robust hash of wide rows.

These are the symmetric-key pieces of OT extension (IKNP, KKRT): every function works on whole
arrays in one OpenSSL call, never per element in Python.

* :class:`AesEcb` — ``AES_k`` on many 128-bit blocks; ``(n, 2)`` ``uint64`` in and out.
* :class:`CtrStream` — the AES-CTR keystream of a seed, read sequentially; the PRG ``G`` of
  IKNP that stretches one base-OT seed into one column of the extension matrix.
* :func:`cbc_mac` — CBC-MAC over length-prefixed (hence prefix-free) messages: a PRF on
  variable-length strings (Bellare, Kilian, Rogaway, JCSS 2000; Petrank, Rackoff, J. Cryptology
  2000). Used with a key both parties know but chose only after their inputs were fixed, it
  maps IDs to 128-bit values that collide with probability about ``N^2 / 2^129``.
* :func:`cr_hash` — the correlation-robust hash ``H(j, t)`` that KKRT applies to each 512-bit
  row ``t`` of bin ``j``; construction and argument below.

**Block cipher.** AES by default (the ``standard`` suite); every class takes ``cipher="sm4"``
for SM4 (GB/T 32907-2016, the ``sm`` suite), the same 128-bit block and key through OpenSSL.
Nothing in the constructions above depends on which 128-bit PRP it is.

**cr_hash.** A row of ``b`` 128-bit blocks (``b`` even) is first mixed by the invertible linear
map ``m_i = t_i xor X`` with ``X = t_0 xor ... xor t_{b-1}`` (each ``m_i`` is the xor of the
other blocks), then each block goes through the tweakable correlation-robust hash of Guo, Katz,
Wang and Yu (IEEE S&P 2020, "TMMO"), ``pi(pi(m_i) xor tau_i) xor pi(m_i)`` with the tweak
``tau_i = (j, i)``, and the ``b`` results are xored and truncated. In KKRT the receiver knows
``t`` and must not predict ``H(j, t xor (c and s))`` for a secret 512-bit ``s`` and a known
``c`` of large weight. Without the mix, the input of block ``i`` hides only the bits of ``s``
where block ``i`` of ``c`` is set (about 64, and rarely as few as 40); after it, every block
hides the bits of ``s`` under the union of the other three blocks of ``c`` (about 112), and
the attacker must query ``pi`` at every block input to predict the xor. Chained fixed-key
Matyas-Meyer-Oseas over the blocks is not used: with a public permutation its chaining values
can be cancelled by the attacker. The permutation key is drawn fresh for each run (so no
precomputation across runs helps), not a global constant.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from coalition.core.errors import CryptoError, InputError

__all__ = ["BLOCK_BYTES", "KEY_BYTES", "AesEcb", "CtrStream", "cbc_mac", "cr_hash"]

BLOCK_BYTES = 16
KEY_BYTES = 16

U8 = npt.NDArray[np.uint8]
U64 = npt.NDArray[np.uint64]


_CIPHERS: dict[str, type[algorithms.AES | algorithms.SM4]] = {
    "aes": algorithms.AES, "sm4": algorithms.SM4}


def _cipher(key: bytes, cipher: str) -> algorithms.AES | algorithms.SM4:
    if len(key) != KEY_BYTES:
        raise CryptoError("block cipher keys are 16 bytes here", length=len(key))
    try:
        return _CIPHERS[cipher](bytes(key))
    except KeyError as exc:
        raise CryptoError("unknown block cipher", cipher=cipher) from exc


class AesEcb:
    """``AES_k`` applied to every 128-bit block of an array (one OpenSSL call per array).

    ECB is used only as a block permutation on distinct, pseudorandom inputs (a PRP/ideal
    permutation), never to encrypt data.
    """

    def __init__(self, key: bytes, cipher: str = "aes") -> None:
        self._enc = Cipher(_cipher(key, cipher), modes.ECB()).encryptor()

    def encrypt(self, blocks: U64) -> U64:
        """``AES_k`` of each block; ``blocks`` is ``(..., 2)`` ``uint64`` (16 bytes per block)."""
        if blocks.dtype != np.uint64 or blocks.ndim == 0 or blocks.shape[-1] != 2:
            raise InputError("blocks must be a (..., 2) uint64 array",
                             shape=list(blocks.shape), dtype=str(blocks.dtype))
        src = np.ascontiguousarray(blocks)
        nbytes = src.nbytes
        # update_into wants room for one extra block; the view drops it.
        buf = np.empty(nbytes + BLOCK_BYTES, dtype=np.uint8)
        if nbytes:
            self._enc.update_into(src.data.cast("B"), buf.data)
        return buf[:nbytes].view(np.uint64).reshape(src.shape)


class CtrStream:
    """The AES-CTR keystream of a 16-byte seed (counter from zero), read in order.

    Reading ``k`` bytes and then ``l`` bytes gives the same bytes as reading ``k + l`` at once,
    so a long stream can be produced chunk by chunk.
    """

    def __init__(self, seed: bytes, cipher: str = "aes") -> None:
        self._enc = Cipher(_cipher(seed, cipher), modes.CTR(bytes(BLOCK_BYTES))).encryptor()
        self._zeros = np.zeros(0, dtype=np.uint8)

    def read_into(self, out: U8) -> None:
        """Fill the first ``out.size - 16`` bytes of the contiguous ``out`` with keystream (the
        last 16 bytes are scratch that OpenSSL may write; callers allocate them)."""
        n = out.size - BLOCK_BYTES
        if n < 0 or not out.flags.c_contiguous or out.dtype != np.uint8:
            raise InputError("output must be a contiguous uint8 buffer with 16 spare bytes")
        if self._zeros.size < n:
            self._zeros = np.zeros(n, dtype=np.uint8)
        if n:
            self._enc.update_into(self._zeros[:n].data, out.data)

    def read(self, nbytes: int) -> U8:
        """The next ``nbytes`` of keystream."""
        buf = np.empty(nbytes + BLOCK_BYTES, dtype=np.uint8)
        self.read_into(buf)
        return buf[:nbytes]


def cbc_mac(aes: AesEcb, messages: U8, nblocks: int) -> U64:
    """CBC-MAC of ``n`` equal-length messages given as an ``(n, 16 * nblocks)`` uint8 array.

    The caller makes the message set prefix-free (here: the first 8 bytes hold the length);
    messages of different block counts are MACed in separate calls. Returns ``(n, 2)`` uint64.
    """
    if messages.ndim != 2 or messages.dtype != np.uint8 or messages.shape[1] != 16 * nblocks:
        raise InputError("messages must be (n, 16 * nblocks) uint8",
                         shape=list(messages.shape), nblocks=nblocks)
    words = np.ascontiguousarray(messages).view(np.uint64).reshape(-1, nblocks, 2)
    state = np.zeros((words.shape[0], 2), dtype=np.uint64)
    for b in range(nblocks):
        np.bitwise_xor(state, words[:, b, :], out=state)
        state = aes.encrypt(state)
    return state


def cr_hash(perm: AesEcb, blocks: U64, tweaks: U64, out_bytes: int) -> U8:
    """``H(j, t)`` of the module docstring for ``n`` rows of ``b`` 128-bit blocks (``b`` even),
    given block-major as a ``(b, n, 2)`` uint64 array (``blocks[i]`` = block ``i`` of every
    row, so each AES call runs over one contiguous array), with tweaks ``j`` as ``(n,)``
    uint64 (at most 2^56); returns ``(n, out_bytes)`` uint8, ``out_bytes <= 16``."""
    if blocks.ndim != 3 or blocks.dtype != np.uint64 or blocks.shape[2] != 2 \
            or blocks.shape[0] % 2 or blocks.shape[0] == 0:
        raise InputError("rows must be block-major (b, n, 2) uint64 with b even",
                         shape=list(blocks.shape))
    nblk, n = blocks.shape[0], blocks.shape[1]
    if tweaks.shape != (n,) or not 1 <= out_bytes <= BLOCK_BYTES:
        raise InputError("one tweak per row and 1..16 output bytes", out_bytes=out_bytes)
    total = blocks[0] ^ blocks[1]
    for i in range(2, nblk):
        total ^= blocks[i]
    mixed = blocks ^ total[None]
    first = perm.encrypt(mixed)
    # tweak (j, i): j in the low word, the block index i in its top byte
    np.copyto(mixed, first)
    tw = tweaks.astype(np.uint64, copy=False)
    for i in range(nblk):
        mixed[i, :, 0] ^= tw ^ np.uint64(i << 56)
    second = perm.encrypt(mixed)
    np.bitwise_xor(second, first, out=second)
    digest = second[0]
    for i in range(1, nblk):
        digest ^= second[i]
    return np.ascontiguousarray(digest.view(np.uint8).reshape(n, BLOCK_BYTES)[:, :out_bytes])
