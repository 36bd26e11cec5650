"""Where received payloads wait for their reader: in memory within a budget, else on disk.

A node may receive faster than its protocol reads, or receive a payload larger than it wants
to keep twice in RAM. :class:`Spool` keeps payloads in memory while the bytes held stay under
``memory_budget``, and writes a payload to a private temporary file when it is at least
``spill_threshold`` bytes or would exceed the budget. Reading a spilled payload back allocates
it once (the file is read straight into one ``bytes`` object) and deletes the file; a chunked
payload kept in memory is assembled in place (:class:`~coalition.transport.buffer.PayloadBuffer`),
so neither path holds a full payload twice.

Spilled payloads count against ``disk_budget``: a payload that would exceed it is refused with
:class:`ReceiverFull` (the sender backs off and retries while the reader catches up), so a peer
that sends faster than this party reads, or sends what it never reads, cannot fill the disk.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Protocol

from coalition.core.errors import CoalitionError, ConfigError, PeerError
from coalition.transport.buffer import PayloadBuffer

__all__ = ["Held", "ReceiverFull", "Spool", "SpoolWriter"]

MiB = 1024 * 1024


class Held(Protocol):
    """A payload waiting to be read exactly once."""

    @property
    def size(self) -> int:
        """Payload bytes."""
        ...

    def read(self) -> bytes:
        """The payload; releases what held it."""
        ...

    def discard(self) -> None:
        """Drop the payload unread."""
        ...


class ReceiverFull(CoalitionError):
    """The receiver holds as much unread data from peers as it allows; retry later."""

    code = "limit.exceeded"
    http_status = 429


class Spool:
    """Holds payloads for mailboxes under a shared memory budget (see module docstring)."""

    def __init__(self, *, memory_budget: int = 1024 * MiB, spill_threshold: int = 512 * MiB,
                 directory: Path | None = None, disk_budget: int = 16 * 1024 * MiB) -> None:
        if memory_budget < 0 or spill_threshold < 1 or disk_budget < 0:
            raise ConfigError("spool budgets must be >= 0 and threshold >= 1",
                              memory_budget=memory_budget, spill_threshold=spill_threshold,
                              disk_budget=disk_budget)
        self.memory_budget = memory_budget
        self.spill_threshold = spill_threshold
        self.disk_budget = disk_budget
        self._on_disk = 0
        self._parent = directory
        self._dir: Path | None = None
        self._in_memory = 0
        self._lock = threading.Lock()

    @property
    def in_memory(self) -> int:
        """Bytes currently held in memory."""
        return self._in_memory

    def _reserve(self, size: int) -> bool:
        if size >= self.spill_threshold:
            return False
        with self._lock:
            if self._in_memory + size > self.memory_budget:
                return False
            self._in_memory += size
            return True

    def _release(self, size: int) -> None:
        with self._lock:
            self._in_memory -= size

    @property
    def on_disk(self) -> int:
        """Bytes of spilled payloads not yet read or dropped."""
        return self._on_disk

    def _reserve_disk(self, size: int) -> None:
        with self._lock:
            if self._on_disk + size > self.disk_budget:
                raise ReceiverFull("the receiver's spill space for unread payloads is full",
                                   size=size, disk_budget=self.disk_budget)
            self._on_disk += size

    def _release_disk(self, size: int) -> None:
        with self._lock:
            self._on_disk -= size

    def _new_file(self) -> tuple[int, Path]:
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="coalition-spool-", dir=self._parent))
            directory = self._dir
        fd, name = tempfile.mkstemp(dir=directory, suffix=".msg")
        return fd, Path(name)

    def hold(self, payload: bytes) -> Held:
        """Keep a payload that already arrived whole."""
        if self._reserve(len(payload)):
            return _InMemory(self, payload)
        writer = SpoolWriter(self, len(payload), spill=True)
        writer.write(payload)
        return writer.finish()

    def writer(self, size: int) -> SpoolWriter:
        """A sink for a payload of ``size`` bytes arriving in chunks."""
        return SpoolWriter(self, size, spill=not self._reserve(size))

    def close(self) -> None:
        """Remove the spill directory and whatever is left in it."""
        with self._lock:
            directory, self._dir = self._dir, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


class SpoolWriter:
    """Receives one payload chunk by chunk, in memory or straight into a spill file."""

    def __init__(self, spool: Spool, size: int, *, spill: bool) -> None:
        self._spool = spool
        self._size = size
        self._written = 0
        self._buffer: PayloadBuffer | None = None
        self._fd: int | None = None
        self._path: Path | None = None
        self._reserved = not spill
        if spill:
            spool._reserve_disk(size)
            try:
                self._fd, self._path = spool._new_file()
            except BaseException:
                spool._release_disk(size)
                raise
        else:
            self._buffer = PayloadBuffer(size)

    def write(self, chunk: bytes) -> None:
        """Append a chunk; more bytes than announced is a :class:`PeerError`."""
        self._written += len(chunk)
        if self._written > self._size:
            self.abort()
            raise PeerError("payload longer than its envelope announced", size=self._size)
        if self._buffer is not None:
            self._buffer.write(chunk)
            return
        if self._fd is None:
            raise ConfigError("spool writer already finished")
        view = memoryview(chunk)
        while view:
            view = view[os.write(self._fd, view):]

    def finish(self) -> Held:
        """The complete payload; fewer bytes than announced is a :class:`PeerError`."""
        if self._written != self._size:
            self.abort()
            raise PeerError("payload shorter than its envelope announced",
                            size=self._size, received=self._written)
        if self._buffer is not None:
            buffer, self._buffer = self._buffer, None
            self._reserved = False  # handed over: the reader releases it
            return _InMemory(self._spool, buffer.result())
        if self._fd is None:
            raise ConfigError("spool writer finished twice")
        os.close(self._fd)
        self._fd = None
        path, self._path = self._path, None
        if path is None:
            raise ConfigError("spool writer finished twice")
        return _OnDisk(self._spool, path, self._size)

    def abort(self) -> None:
        """Drop whatever arrived (a broken stream)."""
        self._buffer = None
        if self._fd is None:
            if self._reserved:
                self._reserved = False
                self._spool._release(self._size)
            return
        os.close(self._fd)
        self._fd = None
        self._spool._release_disk(self._size)
        if self._path is not None:
            self._path.unlink(missing_ok=True)
            self._path = None


class _InMemory:
    def __init__(self, spool: Spool, payload: bytes) -> None:
        self._spool = spool
        self._payload: bytes | None = payload
        self.size = len(payload)

    def read(self) -> bytes:
        payload, self._payload = self._payload, None
        if payload is None:
            raise ConfigError("payload read twice")
        self._spool._release(self.size)
        return payload

    def discard(self) -> None:
        if self._payload is not None:
            self._payload = None
            self._spool._release(self.size)


class _OnDisk:
    def __init__(self, spool: Spool, path: Path, size: int) -> None:
        self._spool = spool
        self._path: Path | None = path
        self.size = size

    def _drop(self) -> None:
        path, self._path = self._path, None
        if path is not None:
            path.unlink(missing_ok=True)
            self._spool._release_disk(self.size)

    def read(self) -> bytes:
        if self._path is None:
            raise ConfigError("payload read twice")
        with self._path.open("rb", buffering=0) as f:
            payload = f.read()  # readall: one allocation of the file's size
        self._drop()
        if len(payload) != self.size:
            raise PeerError("spilled payload truncated", size=self.size, read=len(payload))
        return payload

    def discard(self) -> None:
        self._drop()
