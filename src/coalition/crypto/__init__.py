"""Cryptographic building blocks: Paillier over GMP, the edwards25519 prime-order group,
X25519 commutative cipher, blinded OPRF, Ed25519 signatures.

Sub-modules are imported explicitly (``from coalition.crypto.paillier import ...``); importing
``coalition.crypto.paillier`` registers its key and ciphertext types with the wire codec.
"""

__all__: list[str] = []
