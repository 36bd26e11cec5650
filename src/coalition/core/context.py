"""The interfaces protocols are written against: ``Channel``, ``Executor``, ``MetricsSink`` and
the :class:`Context` that bundles them.

Protocol role code receives one :class:`Context` and never sees sockets, threads or files:

* ``ctx.party`` / ``ctx.role`` — who am I; ``ctx.guest``, ``ctx.hosts``, ``ctx.arbiter`` — peers;
* ``ctx.send(to, KEY, value)`` / ``ctx.recv(frm, KEY)`` — typed values through the codec, where
  ``KEY`` is a :class:`MessageKey` declared once in the protocol's ``spec.py`` (a typo is an
  import error, never a hang);
* ``ctx.sub("name")`` and ``for i, it in ctx.sub("epoch").iter(n)`` — namespaces, so the same
  key can be reused per sub-task or iteration without clashing;
* ``ctx.executor`` — parallel map over chunks; ``ctx.metrics`` — loss/AUC series.

Contract of a :class:`Channel` (checked by the transport contract suite): ``send`` delivers
bytes to one peer under a full key; a second ``send`` of the same (peer, key) is a
:class:`~coalition.core.errors.ProtocolError`; ``recv`` returns the bytes sent under exactly
that key by exactly that peer, whatever the arrival order, and raises
:class:`~coalition.core.errors.PeerTimeoutError` naming peer and key after ``timeout`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from coalition.core import codec
from coalition.core.errors import ConfigError, ProtocolError
from coalition.core.ids import Party, Role

__all__ = [
    "Channel",
    "Context",
    "Executor",
    "MemoryMetrics",
    "MessageKey",
    "MetricPoint",
    "MetricsSink",
    "SerialExecutor",
]

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class MessageKey:
    """A message name, declared once per protocol in its ``spec.py``."""

    name: str
    doc: str = ""

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            raise ConfigError("message key must be non-empty and contain no '/'", key=self.name)


@runtime_checkable
class Channel(Protocol):
    """Moves opaque payloads between the parties of one job (see module docstring)."""

    @property
    def party(self) -> Party:
        """The local party."""
        ...

    @property
    def parties(self) -> Sequence[Party]:
        """Every party of the job, the local one included."""
        ...

    def send(self, to: Party, key: str, payload: bytes) -> None:
        """Deliver ``payload`` to ``to`` under ``key`` (at most once per key and peer)."""
        ...

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        """Wait for the payload ``frm`` sent under ``key``."""
        ...


class Executor(Protocol):
    """Parallel map over chunks of work. ``fn`` must be a picklable module-level function for
    process-based executors (this is local to one party: nothing crosses a trust boundary)."""

    @property
    def workers(self) -> int:
        """How many chunks run at once."""
        ...

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(x) for x in items]``, possibly in parallel, in order."""
        ...


class SerialExecutor:
    """Runs everything in the calling thread; the default when no executor is configured."""

    @property
    def workers(self) -> int:
        """Always one."""
        return 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Plain in-order map."""
        return [fn(x) for x in items]


@dataclass(frozen=True)
class MetricPoint:
    """One metric observation."""

    name: str
    value: float
    step: int | None
    namespace: str
    time: float


class MetricsSink(Protocol):
    """Receives metric series (loss per epoch, AUC, sizes)."""

    def log(self, name: str, value: float, *, step: int | None = None,
            namespace: str = "") -> None:
        """Record one observation."""
        ...


@dataclass
class MemoryMetrics:
    """Keeps metric points in a list; thread-safe."""

    points: list[MetricPoint] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def log(self, name: str, value: float, *, step: int | None = None,
            namespace: str = "") -> None:
        """Record one observation."""
        with self._lock:
            self.points.append(MetricPoint(name, float(value), step, namespace, time.time()))

    def series(self, name: str) -> list[float]:
        """Values of one metric in logging order."""
        return [p.value for p in self.points if p.name == name]


class _SendLedger:
    """Remembers (peer, full key) pairs already sent, across all sub-contexts of one root."""

    def __init__(self) -> None:
        self._sent: set[tuple[Party, str]] = set()
        self._lock = threading.Lock()

    def claim(self, to: Party, key: str) -> None:
        with self._lock:
            if (to, key) in self._sent:
                raise ProtocolError("message key sent twice to the same peer",
                                    peer=str(to), key=key)
            self._sent.add((to, key))


class Context:
    """Everything a protocol role may use; see the module docstring."""

    def __init__(
        self,
        channel: Channel,
        *,
        namespace: str = "job",
        executor: Executor | None = None,
        metrics: MetricsSink | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_bytes: int = codec.DEFAULT_MAX_BYTES,
        _ledger: _SendLedger | None = None,
    ) -> None:
        self.channel = channel
        self.namespace = namespace
        self.executor: Executor = executor if executor is not None else SerialExecutor()
        self.metrics: MetricsSink = metrics if metrics is not None else MemoryMetrics()
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._ledger = _ledger if _ledger is not None else _SendLedger()

    # -- who is who -------------------------------------------------------------------------
    @property
    def party(self) -> Party:
        """The local party."""
        return self.channel.party

    @property
    def role(self) -> Role:
        """The local party's role."""
        return self.channel.party.role

    @property
    def parties(self) -> list[Party]:
        """All parties of the job, sorted."""
        return sorted(self.channel.parties)

    def peers(self, role: Role | None = None) -> list[Party]:
        """Other parties, optionally only those with ``role``, sorted."""
        return [p for p in self.parties
                if p != self.party and (role is None or p.role == role)]

    @property
    def guest(self) -> Party:
        """The job's single guest."""
        guests = [p for p in self.parties if p.role == Role.GUEST]
        if len(guests) != 1:
            raise ConfigError("a job needs exactly one guest", guests=[str(g) for g in guests])
        return guests[0]

    @property
    def hosts(self) -> list[Party]:
        """All hosts, sorted by name (this order is the canonical host order)."""
        return [p for p in self.parties if p.role == Role.HOST]

    @property
    def arbiter(self) -> Party | None:
        """The arbiter, or ``None`` in topologies without one."""
        arbiters = [p for p in self.parties if p.role == Role.ARBITER]
        if len(arbiters) > 1:
            raise ConfigError("a job has at most one arbiter")
        return arbiters[0] if arbiters else None

    # -- namespaces -------------------------------------------------------------------------
    def sub(self, name: str) -> Context:
        """A child context whose keys live under ``name``."""
        if not name or "/" in name:
            raise ConfigError("namespace must be non-empty and contain no '/'", name=name)
        return Context(self.channel, namespace=f"{self.namespace}/{name}",
                       executor=self.executor, metrics=self.metrics, timeout=self.timeout,
                       max_bytes=self.max_bytes, _ledger=self._ledger)

    def iter(self, n: int) -> Iterator[tuple[int, Context]]:
        """``(i, child)`` for ``i`` in ``range(n)``, each child under its own namespace."""
        for i in range(n):
            yield i, self.sub(str(i))

    def full_key(self, key: MessageKey) -> str:
        """The channel-level key of ``key`` in this namespace."""
        return f"{self.namespace}/{key.name}"

    # -- messages ---------------------------------------------------------------------------
    def send(self, to: Party | Iterable[Party], key: MessageKey, value: Any) -> None:
        """Encode ``value`` once and send it to one or several peers."""
        if not isinstance(key, MessageKey):
            raise ProtocolError("message keys must be MessageKey objects from a spec module",
                                key=repr(key))
        targets = [to] if isinstance(to, Party) else list(to)
        payload = codec.encode(value, max_bytes=self.max_bytes)
        full = self.full_key(key)
        for target in targets:
            if target == self.party:
                raise ProtocolError("a party cannot send to itself", key=full)
            self._ledger.claim(target, full)
            self.channel.send(target, full, payload)

    def recv(self, frm: Party, key: MessageKey, *, timeout: float | None = None) -> Any:
        """Wait for the value ``frm`` sent under ``key`` in this namespace."""
        if not isinstance(key, MessageKey):
            raise ProtocolError("message keys must be MessageKey objects from a spec module",
                                key=repr(key))
        payload = self.channel.recv(frm, self.full_key(key),
                                    self.timeout if timeout is None else timeout)
        return codec.decode(payload, max_bytes=self.max_bytes)

    def gather(self, frm: Iterable[Party], key: MessageKey) -> list[Any]:
        """Receive ``key`` from each of ``frm``, in the given order."""
        return [self.recv(p, key) for p in frm]

    def log_metric(self, name: str, value: float, *, step: int | None = None) -> None:
        """Record a metric under this context's namespace."""
        self.metrics.log(name, value, step=step, namespace=self.namespace)
