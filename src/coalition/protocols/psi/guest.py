"""The guest's entry point for every PSI engine: :func:`run_guest`.

The guest initiates: it is the party that learns the result in ``guest`` delivery, the client
(small side) of OPRF-PSI, and the leader of multi-party ECDH-PSI. Each engine's module states
its leakage: :mod:`.ecdh.guest`, :mod:`.ecdh.multi_guest`, :mod:`.oprf.client`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from coalition.core.context import Context
from coalition.core.errors import ConfigError
from coalition.protocols.psi.canonical import Canonicaliser
from coalition.protocols.psi.ecdh.guest import run_ecdh_guest
from coalition.protocols.psi.ecdh.multi_guest import run_multi_guest
from coalition.protocols.psi.inputs import IdSet
from coalition.protocols.psi.kkrt import run_kkrt_guest
from coalition.protocols.psi.oprf.cache import ClientTableCache
from coalition.protocols.psi.oprf.client import run_oprf_client
from coalition.protocols.psi.session import Progress, Session, open_session
from coalition.protocols.psi.spec import PsiParams, PsiProtocol, PsiResult

__all__ = ["prepare_ids", "run_guest"]

Engine = Callable[[Session], PsiResult]


def prepare_ids(ids: IdSet | Sequence[Any] | Any, params: PsiParams,
                canonicaliser: Canonicaliser | None) -> IdSet:
    """An :class:`IdSet` as is, or raw IDs canonicalised and de-duplicated per ``params``."""
    if isinstance(ids, IdSet):
        return ids
    return IdSet.build(ids, canonicaliser=canonicaliser, on_duplicate=params.on_duplicate)


def run_guest(ctx: Context, ids: IdSet | Sequence[Any] | Any,
              params: PsiParams | Mapping[str, Any] | None = None, *,
              canonicaliser: Canonicaliser | None = None, progress: Progress | None = None,
              table_cache: ClientTableCache | None = None) -> PsiResult:
    """Run the guest role of ``params.protocol``.

    ``ids``: an :class:`IdSet`, or raw IDs (list, numpy array, pandas Series) canonicalised
    with ``canonicaliser``. ``progress(stage, done, total)`` is called as batches finish.
    ``table_cache`` (OPRF only): where the server's PRF table is kept between runs.
    """
    p = PsiParams.parse(params).for_parties(len(ctx.hosts))
    engines: dict[tuple[PsiProtocol, bool], Engine] = {
        (PsiProtocol.ECDH, False): run_ecdh_guest,
        (PsiProtocol.ECDH, True): run_multi_guest,
        (PsiProtocol.KKRT, False): run_kkrt_guest,
        (PsiProtocol.OPRF, False): partial(run_oprf_client, cache=table_cache),
    }
    engine = engines.get((p.protocol, len(ctx.hosts) > 1))
    if engine is None:
        raise ConfigError("no PSI engine for this protocol and party count",
                          protocol=p.protocol.value, hosts=len(ctx.hosts))
    return engine(open_session(ctx, prepare_ids(ids, p, canonicaliser), p, progress))
