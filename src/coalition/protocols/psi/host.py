"""A host's entry point for every PSI engine: :func:`run_host`. Leakage per engine:
:mod:`.ecdh.guest`, :mod:`.ecdh.multi_guest`, :mod:`.oprf.client`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from coalition.core.context import Context
from coalition.core.errors import ConfigError
from coalition.protocols.psi.canonical import Canonicaliser
from coalition.protocols.psi.ecdh.host import run_ecdh_host
from coalition.protocols.psi.ecdh.multi_host import run_multi_host
from coalition.protocols.psi.guest import prepare_ids
from coalition.protocols.psi.inputs import IdSet
from coalition.protocols.psi.kkrt import run_kkrt_host
from coalition.protocols.psi.oprf.cache import PrfTable
from coalition.protocols.psi.oprf.server import run_oprf_server
from coalition.protocols.psi.session import Progress, Session, open_session
from coalition.protocols.psi.spec import PsiParams, PsiProtocol, PsiResult

__all__ = ["run_host"]


def run_host(ctx: Context, ids: IdSet | Sequence[Any] | Any,
             params: PsiParams | Mapping[str, Any] | None = None, *,
             canonicaliser: Canonicaliser | None = None, progress: Progress | None = None,
             prf_table: PrfTable | None = None) -> PsiResult:
    """Run a host role of ``params.protocol`` (see :func:`~.guest.run_guest` for ``ids``).

    ``prf_table`` (OPRF only): the cached PRF table of this host's IDs; built per run if None.
    """
    p = PsiParams.parse(params).for_parties(len(ctx.hosts))
    engines: dict[tuple[PsiProtocol, bool], Callable[[Session], PsiResult]] = {
        (PsiProtocol.ECDH, False): run_ecdh_host,
        (PsiProtocol.ECDH, True): run_multi_host,
        (PsiProtocol.KKRT, False): run_kkrt_host,
        (PsiProtocol.OPRF, False): partial(run_oprf_server, table=prf_table),
    }
    engine = engines.get((p.protocol, len(ctx.hosts) > 1))
    if engine is None:
        raise ConfigError("no PSI engine for this protocol and party count",
                          protocol=p.protocol.value, hosts=len(ctx.hosts))
    return engine(open_session(ctx, prepare_ids(ids, p, canonicaliser), p, progress))
