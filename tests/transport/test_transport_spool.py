"""Spool (bounded memory, spill to disk), mailbox and envelope units."""

from __future__ import annotations

from pathlib import Path

import pytest

from coalition.core import Party, PeerError, PeerTimeoutError, ProtocolError
from coalition.transport import Envelope, Mailbox, Outbox, Spool

G, H = Party.guest(), Party.host("h1")


def env(key: str, seq: int = 1, size: int = 1) -> Envelope:
    return Envelope.for_key(job="j", task="t", sender=G, receiver=H, full_key=f"job/{key}",
                            seq=seq, size=size)


def spilled(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.rglob("*.msg"))


def test_small_payloads_stay_in_memory_within_the_budget(tmp_path: Path) -> None:
    spool = Spool(memory_budget=10, spill_threshold=8, directory=tmp_path)
    a = spool.hold(b"12345")
    assert spool.in_memory == 5 and spilled(tmp_path) == []
    b = spool.hold(b"123456")  # would exceed the budget: goes to disk
    assert spool.in_memory == 5 and len(spilled(tmp_path)) == 1
    assert a.read() == b"12345" and b.read() == b"123456"
    assert spool.in_memory == 0 and spilled(tmp_path) == []
    spool.close()


def test_payloads_over_the_threshold_are_streamed_to_disk(tmp_path: Path) -> None:
    spool = Spool(memory_budget=1000, spill_threshold=8, directory=tmp_path)
    writer = spool.writer(12)
    for chunk in (b"abcd", b"efgh", b"ijkl"):
        writer.write(chunk)
    held = writer.finish()
    assert spool.in_memory == 0 and len(spilled(tmp_path)) == 1
    assert held.read() == b"abcdefghijkl"
    spool.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("threshold", [4, 100])
def test_wrong_sizes_are_peer_errors_and_leave_nothing(tmp_path: Path, threshold: int) -> None:
    spool = Spool(memory_budget=100, spill_threshold=threshold, directory=tmp_path)
    short = spool.writer(10)
    short.write(b"abc")
    with pytest.raises(PeerError, match="shorter"):
        short.finish()
    long = spool.writer(2)
    with pytest.raises(PeerError, match="longer"):
        long.write(b"abc")
    broken = spool.writer(6)
    broken.write(b"abc")
    broken.abort()
    assert spool.in_memory == 0 and spilled(tmp_path) == []
    spool.close()


def test_mailbox_drops_retransmissions_and_refuses_reused_keys() -> None:
    spool, box = Spool(), Mailbox(H)
    assert box.put(env("a"), spool.hold(b"1"))
    assert not box.put(env("a"), spool.hold(b"1"))  # same seq: a retry
    with pytest.raises(ProtocolError, match="twice"):
        box.put(env("a", seq=2), spool.hold(b"2"))
    assert box.take(G, "job/a", 1) == b"1"
    assert not box.put(env("a"), spool.hold(b"1"))  # a late retry after the read
    with pytest.raises(PeerTimeoutError):
        box.take(G, "job/a", 0.05)
    assert spool.in_memory == 0


def test_mailbox_close_discards_unread_payloads(tmp_path: Path) -> None:
    spool, box = Spool(spill_threshold=1, directory=tmp_path), Mailbox(H)
    box.put(env("a", size=3), spool.hold(b"abc"))
    assert len(spilled(tmp_path)) == 1
    box.close()
    assert spilled(tmp_path) == []
    assert not box.put(env("b", size=3), spool.hold(b"abc"))
    spool.close()


def test_failed_sender_is_reported_to_waiting_readers() -> None:
    box = Mailbox(H)
    box.fail(G, "crashed")
    with pytest.raises(PeerError, match="failed"):
        box.take(G, "job/a", 5)


def test_envelope_round_trip_and_malformed_input() -> None:
    e = env("grad", seq=3, size=10)
    assert Envelope.from_bytes(e.to_bytes()) == e
    assert (e.namespace, e.key, e.full_key) == ("job", "grad", "job/grad")
    for bad in (b"", b"\xc1", Envelope("j", "t", G, H, "ns", "k", 0, 1).to_bytes()):
        with pytest.raises(ProtocolError):
            Envelope.from_bytes(bad)


def test_outbox_numbers_per_receiver_and_claims_each_key_once() -> None:
    out = Outbox(job="j", task="t", sender=G)
    assert out.seal(H, "job/a", 1).seq == 1
    assert out.seal(H, "job/b", 1).seq == 2
    assert out.seal(Party.arbiter(), "job/a", 1).seq == 1
    with pytest.raises(ProtocolError):
        out.seal(H, "job/a", 1)


def test_payload_buffer_assembles_one_bytes_object() -> None:
    from coalition.transport.buffer import PayloadBuffer

    buf = PayloadBuffer(10)
    for chunk in (b"0123", b"", b"456", b"789"):
        buf.write(chunk)
    out = buf.result()
    assert type(out) is bytes and out == b"0123456789" and hash(out) == hash(b"0123456789")
    with pytest.raises(PeerError, match="longer"):
        PayloadBuffer(2).write(b"abc")
    short = PayloadBuffer(3)
    short.write(b"a")
    with pytest.raises(PeerError, match="shorter"):
        short.result()
    assert PayloadBuffer(0).result() == b""


def test_in_memory_chunked_payload_is_not_spilled(tmp_path: Path) -> None:
    spool = Spool(memory_budget=100, spill_threshold=50, directory=tmp_path)
    writer = spool.writer(12)
    for chunk in (b"abcd", b"efgh", b"ijkl"):
        writer.write(chunk)
    held = writer.finish()
    assert spool.in_memory == 12 and spilled(tmp_path) == []
    assert held.read() == b"abcdefghijkl" and spool.in_memory == 0
