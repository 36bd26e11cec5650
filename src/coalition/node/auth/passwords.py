"""Password hashing with Argon2id (RFC 9106) via argon2-cffi; cost comes from the settings."""

from __future__ import annotations

import secrets

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from coalition.core.errors import InputError

__all__ = ["MIN_PASSWORD_LENGTH", "Passwords", "generate_password"]

MIN_PASSWORD_LENGTH = 12


def generate_password() -> str:
    """A random password with about 190 bits of entropy."""
    return secrets.token_urlsafe(24)


class Passwords:
    """Hash and check passwords with one set of Argon2 parameters."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        # Checked against unknown users so a miss costs as much time as a wrong password.
        self._dummy = self._hasher.hash(generate_password())

    def hash(self, password: str) -> str:
        """Argon2id hash of ``password`` after checking the length policy."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InputError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored`` (``None``: burn the same time, then False)."""
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """Whether ``stored`` was made with other parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored)
