"""A channel wrapper that delays, duplicates and reorders deliveries, for tests.

``run_parties(roles, wrap=Chaos(seed=7).wrap)`` runs a protocol over a network that delivers
every message after a random delay (so later messages often overtake earlier ones) and
delivers some messages twice, the way retries do on a real network. A correct protocol gives
the same result; a protocol that depends on arrival order, or a transport that does not drop
repeats, fails. Repeats are real retransmissions of the sealed envelope (same sequence
number), so they exercise the receiving mailbox's duplicate dropping on both transports.

Randomness is test-only and seeded (numpy PCG64), so a failing schedule can be replayed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from coalition.core.context import Channel
from coalition.core.errors import ConfigError
from coalition.core.ids import Party
from coalition.transport.base import SealingChannel
from coalition.transport.envelope import Envelope

__all__ = ["Chaos", "ChaosChannel", "ChaosStats"]


@dataclass(frozen=True)
class Chaos:
    """Chaos settings; :meth:`wrap` is picklable, so it works with ``transport="grpc"`` too.

    ``max_delay``: each delivery waits uniformly in ``[0, max_delay]`` seconds.
    ``duplicate``: probability that a message is delivered a second time.
    """

    seed: int = 0
    max_delay: float = 0.02
    duplicate: float = 0.3

    def __post_init__(self) -> None:
        if self.max_delay < 0 or not 0.0 <= self.duplicate <= 1.0:
            raise ConfigError("chaos needs max_delay >= 0 and 0 <= duplicate <= 1")

    def wrap(self, channel: Channel) -> Channel:
        """Wrap a transport channel (it must be a :class:`SealingChannel`)."""
        if not isinstance(channel, SealingChannel):
            raise ConfigError("chaos needs a transport channel that can seal and push",
                              channel=type(channel).__name__)
        return ChaosChannel(channel, self)


@dataclass
class ChaosStats:
    """What the chaos did to one channel's sends."""

    sent: int = 0
    duplicated: int = 0
    overtaken: int = 0
    errors: list[BaseException] = field(default_factory=list)


class ChaosChannel:
    """Delivers each send asynchronously, late, and sometimes twice (see module docstring)."""

    def __init__(self, inner: SealingChannel, chaos: Chaos) -> None:
        self._inner = inner
        self._chaos = chaos
        # Seed per party so parties do not share one schedule.
        seed = [chaos.seed, *str(inner.party).encode()]
        self._rng = np.random.Generator(np.random.PCG64(seed))
        self._cond = threading.Condition()
        self._pending = 0
        self._latest: dict[Party, int] = {}
        # Per message: copies still in flight, and the first failure if no copy got through.
        self._inflight: dict[tuple[Party, int], tuple[int, bool, BaseException | None]] = {}
        self.stats = ChaosStats()

    @property
    def party(self) -> Party:
        """The local party."""
        return self._inner.party

    @property
    def parties(self) -> Sequence[Party]:
        """Every party of the job."""
        return self._inner.parties

    def send(self, to: Party, key: str, payload: bytes) -> None:
        """Seal now (a duplicate key fails here), deliver later, maybe twice."""
        self._raise_pending_error()
        env = self._inner.seal(to, key, len(payload))
        with self._cond:
            copies = 2 if self._rng.random() < self._chaos.duplicate else 1
            delays = [float(d) for d in self._rng.uniform(0, self._chaos.max_delay, copies)]
            self.stats.sent += 1
            self.stats.duplicated += copies - 1
            self._pending += copies
            self._inflight[(env.receiver, env.seq)] = (copies, False, None)
        for delay in delays:
            timer = threading.Timer(delay, self._deliver, args=(env, payload))
            timer.daemon = True
            timer.start()

    def _deliver(self, env: Envelope, payload: bytes) -> None:
        error: BaseException | None = None
        try:
            self._inner.push(env, payload)
        except BaseException as exc:
            error = exc
        finally:
            with self._cond:
                # A message fails only if no copy got through: a duplicate refused by a
                # receiver that already has the message (and may have finished) is harmless.
                left, delivered, first = self._inflight.pop((env.receiver, env.seq))
                delivered = delivered or error is None
                first = first or error
                if left > 1:
                    self._inflight[(env.receiver, env.seq)] = (left - 1, delivered, first)
                elif not delivered and first is not None:
                    self.stats.errors.append(first)
                latest = self._latest.get(env.receiver, 0)
                if env.seq < latest:
                    self.stats.overtaken += 1
                self._latest[env.receiver] = max(latest, env.seq)
                self._pending -= 1
                self._cond.notify_all()

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        """Receive through the wrapped channel."""
        self._raise_pending_error()
        return self._inner.recv(frm, key, timeout)

    def flush(self, timeout: float) -> None:
        """Wait until every scheduled delivery happened; re-raise the first failed one."""
        with self._cond:
            self._cond.wait_for(lambda: self._pending == 0, timeout=timeout)
        self._raise_pending_error()

    def _raise_pending_error(self) -> None:
        with self._cond:
            if self.stats.errors:
                raise self.stats.errors[0]
