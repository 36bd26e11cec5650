"""Finding 16: OT-with-decoys sends every decoy to the server in clear.

The old guide told clients to pass their own customer list as ``decoy_pool``; the server then
received k − 1 of the client's customers with every query. The client now refuses a bare list
(a pool must be declared public with :class:`PublicDecoyPool`), and its default decoys —
format-preserving random strings from ``secrets`` — are never one of its other queries.
"""

from __future__ import annotations

from typing import Any

import pytest

from coalition.core import ConfigError, Party
from coalition.protocols.pir import PirTable, TableSettings, run_client, run_server
from coalition.protocols.pir.spec import PIR_CHOICES
from coalition.testing import PartyFailure, Recorder, find_leaks, run_parties

CLIENT, SERVER = Party.guest("bank"), Party.host("telco")


def _table() -> PirTable:
    table = PirTable(TableSettings("risk-scores", 16, bucket_bits=3), None)
    ids = [f"c{i:02d}" for i in range(100)]
    table.sync(ids, [f"s{i}".encode() for i in range(100)])
    return table


def _run(table: PirTable, ids: list[str], k: int, **kw: Any) -> tuple[Recorder, Any]:
    rec = Recorder()
    out = run_parties(
        {CLIENT: lambda ctx: run_client(ctx, ids, server_key=table.verify_key,
                                        params={"mode": "ot_decoys", "decoys": k}, **kw),
         SERVER: lambda ctx: run_server(ctx, table)}, wrap=rec.wrap, timeout=30)
    return rec, out


def test_own_customer_list_as_decoy_pool_is_refused_before_anything_is_sent():
    table = _table()
    customers = [f"c{i:02d}" for i in range(0, 100, 2)]  # the client's private customer list
    queried = customers[:2]
    rec = Recorder()
    # 3deb866 accepted the list and sent k - 1 customers per query in clear
    with pytest.raises(PartyFailure) as err:
        run_parties(
            {CLIENT: lambda ctx: run_client(ctx, queried, server_key=table.verify_key,
                                            params={"mode": "ot_decoys", "decoys": 8},
                                            decoy_pool=customers),
             SERVER: lambda ctx: run_server(ctx, table)}, wrap=rec.wrap, timeout=10)
    assert isinstance(err.value.error, ConfigError)
    assert find_leaks(rec.sent_by(CLIENT), customers[2:]) == []


def test_default_decoys_are_never_the_clients_other_queries():
    """A tiny ID space (c00..c99) makes random decoys collide with the client's other
    queries on 3deb866; now each queried ID is sent exactly once, in its own group."""
    table = _table()
    queried = [f"c{i:02d}" for i in range(0, 60, 5)]  # 12 queries
    rec, out = _run(table, queried, k=16)
    assert out[CLIENT].found == [True] * len(queried)
    (choices,) = [m.value() for m in rec.sent_by(CLIENT) if m.key.endswith(PIR_CHOICES.name)]
    sent = list(choices["ids"])
    assert len(sent) % 16 == 0 and len(sent) >= 16 * len(queried)
    for q in queried:
        assert sent.count(q) == 1, q
    decoys = [d for d in sent if d not in queried]
    assert all(len(d) == 3 and d[0] == "c" and d[1:].isdigit() for d in decoys)
