"""The PIR conversation over unary calls (``node/pir_services/conversation.py``) without
nodes: the real client and server roles, frames handed from one side to the other by a
recording ``call``. Answers are those of the protocol, large messages travel in many small
calls, and in the OPRF modes what the consumer sends holds no queried ID nor a plain hash of
one."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from coalition.core.context import Context
from coalition.core.errors import CoalitionError
from coalition.core.ids import Party
from coalition.node.pir_services import conversation
from coalition.node.pir_services.conversation import (
    NAMESPACE,
    ConsumerChannel,
    Frame,
    Reassembly,
    ServerSession,
    fragment,
)
from coalition.protocols.pir import PirTable, TableSettings, run_client, run_server

BANK, TELCO = Party.guest("bank"), Party.host("telco")
IDS = [f"1380013{i:04d}" for i in range(3000)]


@pytest.fixture(scope="module")
def table() -> PirTable:
    made = PirTable(TableSettings("telco/risk", 40, bucket_bits=4))
    made.sync(IDS, [f"risk={i % 9};tag=t{i % 4}".encode() for i in range(len(IDS))])
    return made


def _lookup(table: PirTable, asked: list[str], mode: str) -> tuple[Any, list[Frame], int]:
    session = ServerSession("s1", "bank", TELCO, BANK, lambda ch: run_server(
        Context(ch, namespace=NAMESPACE, timeout=30), table)).start()
    sent: list[Frame] = []

    def call(frames: list[Frame]) -> tuple[list[Frame], bool]:
        sent.extend(frames)
        out, _more, done = session.exchange(frames, 5.0)
        return out, done

    channel = ConsumerChannel(BANK, TELCO, call)
    result = run_client(Context(channel, namespace=NAMESPACE, timeout=30), asked,
                        server_key=table.verify_key, params={"mode": mode})
    return result, sent, channel.calls


@pytest.mark.parametrize("mode", ["download", "bucketed", "ot_decoys"])
def test_answers_in_query_order_and_no_id_on_the_wire(table: PirTable, mode: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Small frames and calls, so the table download takes many of each.
    monkeypatch.setattr(conversation, "FRAGMENT_BYTES", 4096)
    monkeypatch.setattr(conversation, "CALL_BUDGET_BYTES", 16384)
    asked = [IDS[2999], "13999999999", IDS[5], IDS[2999]]
    result, sent, calls = _lookup(table, asked, mode)
    assert result.found == [True, False, True, True]
    assert result.payloads[0] == b"risk=2;tag=t3" and result.payloads[2] == b"risk=5;tag=t1"
    if mode == "download":
        assert calls > 10 and result.summary.table_transfer == "full"
    wire = b"".join(f.data for f in sent)
    if mode == "ot_decoys":  # by design each ID travels among decoys - 1 others (docs/pir.md)
        assert len(wire) > 16 * 100 * 8  # 16 padded queries x 100 candidates of >= 8 bytes
        return
    for x in asked:
        digest = hashlib.sha256(x.encode()).digest()
        assert x.encode() not in wire and digest not in wire and digest.hex().encode() not in wire


def test_frames_reassemble_in_order_and_refuse_disorder_and_floods() -> None:
    payload = bytes(range(256)) * 5000
    frames = fragment("k", payload)
    assert len(frames) > 1 and frames[-1].last and not frames[0].last
    box = Reassembly()
    box.add(frames[:1])
    assert not box.has("k")
    box.add(frames[1:])
    assert box.pop("k") == payload
    with pytest.raises(CoalitionError):
        Reassembly().add(frames[1:2])  # a later part first
    with pytest.raises(CoalitionError):
        Reassembly(max_bytes=1000).add(frames)  # over the cap of undelivered bytes


def test_a_failed_server_role_reaches_the_consumer_typed(table: PirTable) -> None:
    def broken(ch: ServerSession) -> None:
        raise CoalitionError("the table is gone")

    session = ServerSession("s2", "bank", TELCO, BANK, broken).start()
    with pytest.raises(CoalitionError, match="the table is gone"):
        for _ in range(50):
            session.exchange([], 1.0)
