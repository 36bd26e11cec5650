"""ECDH-PSI, 2 parties, host role. Protocol and leakage: :mod:`.guest`."""

from __future__ import annotations

import numpy as np

from coalition.crypto.suite import primitives
from coalition.protocols.psi.ecdh.guest import check_suite, send_self_encrypted
from coalition.protocols.psi.matching import truncate
from coalition.protocols.psi.session import Session, secret_permutation
from coalition.protocols.psi.spec import (
    NS_GUEST_DOUBLE,
    NS_GUEST_SET,
    NS_HOST_SET,
    PEER_REENCRYPTED,
    SELF_ENCRYPTED,
    Delivery,
    PsiResult,
    truncation_bytes,
)
from coalition.protocols.psi.wire import iter_batches, send_batches

__all__ = ["run_ecdh_host"]


def run_ecdh_host(s: Session) -> PsiResult:
    """Run the host side; see :mod:`.guest`."""
    guest = s.ctx.guest
    suite = primitives(s.params.suite)
    hello = s.hello_from(guest)
    check_suite(hello, guest, suite.ecdh_suite)
    n_g = hello["n"]
    s.hello_to([guest], suite=suite.ecdh_suite)
    n_h = len(s.ids)
    width = truncation_bytes(n_g, n_h, s.params.stat_bits)
    s.extra["truncated_bytes"] = width
    key = suite.new_commutative_key()
    # Our set goes out in a secret order: positions the guest sees say nothing about our rows.
    perm = secret_permutation(n_h)
    encoded = s.ids.encoded()
    send_self_encrypted(s, [guest], key, [encoded[i] for i in perm], NS_HOST_SET)

    rows = s.params.batch_rows
    back = s.ctx.sub(NS_GUEST_DOUBLE)
    hide_order = s.params.delivery == Delivery.CARDINALITY
    held = []
    for i, part in enumerate(iter_batches(s.ctx.sub(NS_GUEST_SET), guest, SELF_ENCRYPTED, n_g,
                                          width=suite.value_bytes, batch_rows=rows)):
        double = truncate(key.encrypt(part, executor=s.ctx.executor), width)
        if hide_order:
            held.append(double)  # shuffled as a whole below: a per-batch shuffle would leak
        else:
            back.sub(str(i)).send(guest, PEER_REENCRYPTED, double)
        s.tick("re-encrypt peer IDs", min(n_g, (i + 1) * rows), n_g)
    if hide_order:
        everything = np.concatenate(held)
        send_batches(back, guest, PEER_REENCRYPTED, everything[secret_permutation(n_g)],
                     batch_rows=rows)
    return s.deliver_as_host(guest, perm)
