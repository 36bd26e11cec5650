"""Multi-party ECDH-PSI, host role (the first host also combines). Protocol and leakage:
:mod:`.multi_guest`."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from coalition.core.errors import ProtocolError
from coalition.crypto.suite import primitives
from coalition.protocols.psi.ecdh.guest import check_suite
from coalition.protocols.psi.ecdh.host import run_ecdh_host
from coalition.protocols.psi.ecdh.ring import routes, run_ring
from coalition.protocols.psi.matching import as_keys, truncate
from coalition.protocols.psi.session import Session
from coalition.protocols.psi.spec import (
    MULTI_HOST_TAGS,
    MULTI_SIZE,
    NS_DELIVER,
    NS_HOST_TAGS,
    Delivery,
    PsiResult,
    truncation_bytes,
)
from coalition.protocols.psi.wire import send_batches

__all__ = ["run_multi_host"]


def run_multi_host(s: Session) -> PsiResult:
    """Run a host side; see :mod:`.multi_guest`."""
    guest, hosts, me = s.ctx.guest, s.ctx.hosts, s.ctx.party
    suite = primitives(s.params.suite)
    check_suite(s.hello_from(guest), guest, suite.ecdh_suite)
    s.hello_to([guest], suite=suite.ecdh_suite)
    raw = s.ctx.recv(guest, MULTI_SIZE)
    parties = [guest, *hosts]
    if not isinstance(raw, dict) or set(raw) != {str(p) for p in parties} or any(
            not isinstance(v, int) or v < 0 for v in raw.values()):
        raise ProtocolError("malformed size table", peer=str(guest))
    if raw[str(me)] != len(s.ids):
        raise ProtocolError("size table misstates our own size", peer=str(guest))
    sizes = {p: int(raw[str(p)]) for p in parties}
    s.peer_sizes.update({str(p): n for p, n in sizes.items() if p != me})
    total = sum(sizes.values())
    width = truncation_bytes(total, total, s.params.stat_bits)
    s.extra["truncated_bytes"] = width

    plan = routes(guest, hosts, shuffle_guest=s.params.delivery == Delivery.CARDINALITY)
    received = run_ring(s, suite.new_commutative_key(), sizes, plan)
    if me == hosts[0]:
        _combine(s, [truncate(received[h], width) for h in hosts])

    if s.params.delivery == Delivery.BOTH:
        pair = Session(ctx=s.ctx.sub(NS_DELIVER).sub(me.name), meter=s.meter,
                       params=s.params, ids=s.ids, progress=s.progress)
        result = run_ecdh_host(pair)
        return s.finish(result.size, _positions(s, result.ids))
    return s.deliver_as_host(guest, np.zeros(0, dtype=np.int64))


def _positions(s: Session, ids: list[str] | None) -> npt.NDArray[np.int64]:
    where = {x: i for i, x in enumerate(s.ids.ids)}
    return np.array([where[x] for x in ids or []], dtype=np.int64)


def _combine(s: Session, tag_sets: list[npt.NDArray[np.uint8]]) -> None:
    """Intersect the hosts' tag sets (sorted, so the order says nothing) and send to guest."""
    keys = [as_keys(t) for t in tag_sets]
    common = keys[0]
    for other in keys[1:]:
        common = np.intersect1d(common, other, assume_unique=True)
    pairwise = {f"{i}-{j}": int(np.intersect1d(keys[i], keys[j], assume_unique=True).size)
                for i in range(len(keys)) for j in range(i + 1, len(keys))}
    s.extra["combiner_pairwise_sizes"] = pairwise  # what the combiner learns, made explicit
    width = tag_sets[0].shape[1]
    tags = (np.frombuffer(common.tobytes(), dtype=np.uint8).reshape(-1, width)
            if common.size else np.zeros((0, width), dtype=np.uint8))
    out = s.ctx.sub(NS_HOST_TAGS)
    out.send(s.ctx.guest, MULTI_SIZE, int(tags.shape[0]))
    send_batches(out, s.ctx.guest, MULTI_HOST_TAGS, tags, batch_rows=s.params.batch_rows)
