"""Splitting work into chunks."""

from __future__ import annotations

__all__ = ["chunk_slices"]


def chunk_slices(n: int, chunks: int, *, min_size: int = 1) -> list[slice]:
    """Split ``range(n)`` into at most ``chunks`` contiguous slices of at least ``min_size``."""
    if n <= 0:
        return []
    chunks = max(1, min(chunks, n // max(1, min_size) or 1))
    base, extra = divmod(n, chunks)
    out, start = [], 0
    for i in range(chunks):
        stop = start + base + (1 if i < extra else 0)
        out.append(slice(start, stop))
        start = stop
    return out
