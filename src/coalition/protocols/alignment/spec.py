"""Message keys of the row-alignment check."""

from __future__ import annotations

from coalition.core.context import MessageKey

__all__ = ["ALIGNMENT_DIGESTS", "ALIGNMENT_VERDICT"]

ALIGNMENT_DIGESTS = MessageKey("alignment_digests",
                               "host → guest: SHA-256 of its canonical IDs in row order and sorted")
ALIGNMENT_VERDICT = MessageKey("alignment_verdict",
                               "guest → host: ok, or why the rows do not line up")
