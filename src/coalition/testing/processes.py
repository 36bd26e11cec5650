"""Run every role in its own process over the gRPC transport, on loopback, with fresh certificates.

The parent mints a throw-away CA and one node certificate per party, starts one ``spawn``
process per party, collects the port each one bound, hands every process the full peer map,
and gathers results (pickled back to the parent: this is a local test harness, not a trust
boundary). Role functions, ``wrap`` and ``executor`` must therefore be picklable (module-level
functions, objects of module-level classes). No process outlives the call.
"""

from __future__ import annotations

import multiprocessing
import pickle
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from coalition.core.context import Channel, Context, Executor
from coalition.core.errors import CoalitionError, ConfigError, PeerError
from coalition.core.ids import Party
from coalition.transport.grpc import PeerServer, open_grpc_context
from coalition.transport.tls import PartyIdentity, Trust, generate_ca, issue_party_cert

__all__ = ["run_grpc_parties"]

_STARTUP_S = 120.0  # spawning and importing on a loaded 2-core machine can take a while


def _portable(exc: BaseException) -> BaseException:
    exc.add_note("".join(traceback.format_exception(exc)))
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return CoalitionError(f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class _Spec:
    party: Party
    fn: Callable[[Context], Any]
    identity: PartyIdentity
    trust: Trust
    timeout: float
    wrap: Callable[[Channel], Channel] | None
    executor: Executor | None


def _party_main(spec: _Spec, conn: Connection) -> None:
    party, identity, trust = spec.party, spec.identity, spec.trust
    try:
        with PeerServer("127.0.0.1:0", identity, trust) as server:
            conn.send(("port", server.port))
            peers: dict[Party, str] = conn.recv()
            try:
                with open_grpc_context(party, listen=server.address, peers=peers,
                                       identity=identity, trust=trust, timeout=spec.timeout,
                                       wrap=spec.wrap, executor=spec.executor,
                                       server=server) as ctx:
                    result = spec.fn(ctx)
                conn.send(("ok", result))
            except BaseException as exc:
                conn.send(("err", _portable(exc)))
    except BaseException as exc:  # could not even serve: report, never hang the parent
        conn.send(("err", _portable(exc)))
    finally:
        conn.close()


def _recv_all(conns: dict[Party, Connection], procs: dict[Party, BaseProcess],
              deadline: float | None) -> dict[Party, tuple[str, Any]]:
    got: dict[Party, tuple[str, Any]] = {}
    while len(got) < len(conns):
        pending = {c: p for p, c in conns.items() if p not in got}
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            for p in pending.values():
                got[p] = ("err", PeerError("party process did not start in time", party=str(p)))
            break
        for ready in wait(list(pending), timeout=left):
            party = next(p for c, p in pending.items() if c is ready)
            try:
                got[party] = conns[party].recv()
            except EOFError:
                code = procs[party].exitcode
                got[party] = ("err", PeerError("party process died", party=str(party),
                                               exitcode=code))
    return got


def run_grpc_parties(
    roles: Mapping[Party, Callable[[Context], Any]],
    *,
    timeout: float,
    wrap: Callable[[Channel], Channel] | None,
    executor: Executor | None,
) -> tuple[dict[Party, Any], dict[Party, BaseException]]:
    """Results and errors of every party, each run in its own process (see module docs)."""
    for what, obj in (("wrap", wrap), ("executor", executor), *roles.items()):
        try:
            pickle.dumps(obj)
        except Exception as exc:
            raise ConfigError("with transport='grpc' role functions, wrap and executor must be "
                              "picklable (module-level)", what=str(what)) from exc
    ca = generate_ca("run_parties test CA")
    trust = Trust.federation(ca.cert_pem)
    mp = multiprocessing.get_context("spawn")
    conns: dict[Party, Connection] = {}
    procs: dict[Party, BaseProcess] = {}
    try:
        for party in sorted(roles):
            parent_end, child_end = mp.Pipe()
            proc = mp.Process(target=_party_main, name=f"party-{party}", args=(
                _Spec(party, roles[party], issue_party_cert(ca, party), trust, timeout, wrap,
                      executor), child_end))
            proc.start()
            child_end.close()
            conns[party] = parent_end
            procs[party] = proc
        ports = _recv_all(conns, procs, time.monotonic() + _STARTUP_S)
        errors = {p: m[1] for p, m in ports.items() if m[0] != "port"}
        if errors:
            return {}, errors
        for party, conn in conns.items():
            conn.send({p: f"127.0.0.1:{m[1]}" for p, m in ports.items() if p != party})
        outcome = _recv_all(conns, procs, None)
        results = {p: m[1] for p, m in outcome.items() if m[0] == "ok"}
        return results, {p: m[1] for p, m in outcome.items() if m[0] != "ok"}
    finally:
        for conn in conns.values():
            conn.close()  # a child still waiting for its peer map exits on EOF
        for child in procs.values():
            child.join(timeout=5)
            if child.is_alive():
                child.terminate()
                child.join(timeout=5)
            if child.is_alive():
                child.kill()
                child.join()
