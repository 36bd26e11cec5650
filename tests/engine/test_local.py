import pytest

from coalition.core import Context, MessageKey, Party, PeerError
from coalition.engine.local import PartyFailedError, run_local

K = MessageKey("k")
G, H = Party.guest(), Party.host()


def test_results_per_party():
    out = run_local({G: lambda ctx: ctx.send(ctx.hosts, K, 41) or "sent",
                     H: lambda ctx: ctx.recv(ctx.guest, K) + 1})
    assert out == {G: "sent", H: 42}


def test_root_cause_is_reported_not_the_peer_error_it_caused():
    def host(ctx: Context) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(PartyFailedError) as info:
        run_local({G: lambda ctx: ctx.recv(ctx.hosts[0], K), H: host}, timeout=30)
    assert info.value.party == H and "disk full" in str(info.value)
    assert not isinstance(info.value.error, PeerError)
