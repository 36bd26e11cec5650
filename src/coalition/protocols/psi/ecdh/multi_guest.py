"""Multi-party ECDH-PSI (1 guest + 2 or more hosts), guest role: the intersection of all sets.

Every party ``P`` holds an X25519 key ``k_P`` on the prime-order group of
:mod:`coalition.crypto.ecdh` (every value received is validated as a group element); a *tag*
is ``T(x) = [Π k_P] H(x)``. Each set travels the ring of :mod:`.ring` until every key
has been applied. The first host (the *combiner*) receives every host's tags, secretly
shuffled, intersects them, and sends the guest the tags of ``∩ hosts``; the guest, which got
its own tags back in its own order, matches them. Delivery then follows ``params.delivery``;
for ``both``, the guest runs the 2-party ECDH-PSI (``both``) with each host on the final
intersection ``I`` only, so each host learns ``I`` and its own rows in it.

Who learns what (honest-but-curious, no collusion, DDH):

* everyone: every party's set size;
* the guest: ``I`` = ∩ of all sets (``guest``/``both``), or only ``|I|`` (``cardinality``: its
  tags come back shuffled), **and** ``|H_1 ∩ … ∩ H_k|``, the size of the hosts' intersection;
* the combiner (first host): the size of every intersection of host sets it can form from the
  tag sets — in particular all pairwise sizes ``|H_i ∩ H_j|`` — but no members, since it never
  holds the tags of a set in an order it knows;
* other hosts: sizes only; then ``I`` (``both``) or ``|I|`` (``guest``/``cardinality``).

Collusion between the guest and the combiner reveals which of the guest's IDs are in
``∩ hosts``; that is the price of a single combiner, as in chained ECDH designs.
"""

from __future__ import annotations

from coalition.core.errors import ProtocolError
from coalition.crypto.suite import primitives
from coalition.protocols.psi.ecdh.guest import check_suite, ecdh_pair_guest
from coalition.protocols.psi.ecdh.ring import routes, run_ring
from coalition.protocols.psi.inputs import IdSet
from coalition.protocols.psi.matching import match, truncate
from coalition.protocols.psi.session import Session
from coalition.protocols.psi.spec import (
    MULTI_HOST_TAGS,
    MULTI_SIZE,
    NS_DELIVER,
    NS_HOST_TAGS,
    RESULT_SIZE,
    Delivery,
    PsiResult,
    truncation_bytes,
)
from coalition.protocols.psi.wire import recv_batches

__all__ = ["run_multi_guest"]


def run_multi_guest(s: Session) -> PsiResult:
    """Run the guest side; see the module docstring."""
    hosts = s.ctx.hosts
    if len(hosts) < 2:
        raise ProtocolError("multi-party PSI needs at least two hosts", hosts=len(hosts))
    suite = primitives(s.params.suite)
    s.hello_to(hosts, suite=suite.ecdh_suite)
    hellos = {h: s.hello_from(h) for h in hosts}
    for h, hello in hellos.items():
        check_suite(hello, h, suite.ecdh_suite)
    sizes = {s.ctx.party: len(s.ids)} | {h: hello["n"] for h, hello in hellos.items()}
    s.ctx.send(hosts, MULTI_SIZE, {str(p): n for p, n in sizes.items()})
    total = sum(sizes.values())
    width = truncation_bytes(total, total, s.params.stat_bits)
    s.extra["truncated_bytes"] = width

    cardinality = s.params.delivery == Delivery.CARDINALITY
    plan = routes(s.ctx.party, hosts, shuffle_guest=cardinality)
    own = truncate(run_ring(s, suite.new_commutative_key(), sizes, plan)[s.ctx.party], width)
    tags_ctx = s.ctx.sub(NS_HOST_TAGS)
    n_common = tags_ctx.recv(hosts[0], MULTI_SIZE)
    if not isinstance(n_common, int) or not 0 <= n_common <= min(sizes[h] for h in hosts):
        raise ProtocolError("malformed hosts' intersection size", peer=str(hosts[0]))
    s.extra["hosts_intersection_size"] = n_common
    common = recv_batches(tags_ctx, hosts[0], MULTI_HOST_TAGS, n_common, width=width,
                          batch_rows=s.params.batch_rows)
    mine, _ = match(own, common)
    s.tick("match", 1, 1)

    if s.params.delivery != Delivery.BOTH:
        s.ctx.send(hosts, RESULT_SIZE, int(mine.size))
        return s.finish(int(mine.size), None if cardinality else s.agreed_order(mine))
    # both: tell each host I (and only I) with a 2-party run on the intersection
    inter = IdSet(ids=[s.ids.ids[int(i)] for i in mine], rows=s.ids.rows[mine],
                  input_rows=int(mine.size), duplicates=0)
    for h in hosts:
        pair = Session(ctx=s.ctx.sub(NS_DELIVER).sub(h.name), meter=s.meter, params=s.params,
                       ids=inter, progress=s.progress)
        ecdh_pair_guest(pair, h)
    return s.finish(int(mine.size), s.agreed_order(mine))
