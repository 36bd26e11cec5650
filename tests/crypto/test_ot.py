import numpy as np
import pytest

from coalition.core import MessageKey, Party
from coalition.core.errors import CryptoError, InputError, ProtocolError
from coalition.crypto import group
from coalition.crypto.ot import (
    OT_CHOICE_POINTS,
    ot_receive,
    ot_send,
    random_bits,
    random_ot_receive,
    random_ot_send,
)
from coalition.testing import PartyFailure, Recorder, find_leaks, run_parties

S, R = Party.guest(), Party.host("r")


def test_random_ot_receiver_gets_exactly_the_chosen_keys():
    choices = random_bits(300)
    out = run_parties({S: lambda ctx: random_ot_send(ctx, R, 300),
                       R: lambda ctx: random_ot_receive(ctx, S, choices)}, timeout=30)
    k0, k1 = out[S]
    got = out[R]
    assert k0.shape == k1.shape == got.shape == (300, 16)
    expect = np.where(choices[:, None], k1, k0)
    other = np.where(choices[:, None], k0, k1)
    assert np.array_equal(got, expect)
    assert not np.any(np.all(got == other, axis=1))
    # all keys distinct: the index and transcript are hashed in
    assert np.unique(np.concatenate([k0, k1]), axis=0).shape[0] == 600
    assert 0 < choices.sum() < 300


def test_fresh_keys_every_run_and_independent_batches_in_one_context():
    choices = np.array([True, False, True])

    def sender(ctx):
        return random_ot_send(ctx, R, 3, name="a"), random_ot_send(ctx, R, 3, name="b")

    def receiver(ctx):
        return random_ot_receive(ctx, S, choices, name="a"), random_ot_receive(ctx, S, choices,
                                                                               name="b")

    first = run_parties({S: sender, R: receiver}, timeout=30)
    second = run_parties({S: sender, R: receiver}, timeout=30)
    (a0, _), (b0, _) = first[S]
    assert not np.array_equal(a0, b0)
    assert not np.array_equal(a0, second[S][0][0])


def test_chosen_message_ot_and_what_each_side_sends():
    rng = np.random.default_rng(5)
    m0 = rng.integers(0, 256, size=(40, 24), dtype=np.uint8)
    m1 = rng.integers(0, 256, size=(40, 24), dtype=np.uint8)
    choices = random_bits(40)
    rec = Recorder()
    out = run_parties({S: lambda ctx: ot_send(ctx, R, m0, m1),
                       R: lambda ctx: ot_receive(ctx, S, choices, 24)},
                      wrap=rec.wrap, timeout=30)
    assert np.array_equal(out[R], np.where(choices[:, None], m1, m0))
    # the sender's messages never carry a plain message row
    rows = [r.tobytes() for r in np.concatenate([m0, m1])]
    assert find_leaks(rec.sent_by(S), rows) == []
    # the receiver sends only group elements, one per transfer
    sent = rec.sent_by(R)
    assert len(sent) == 1 and sent[0].key.endswith(OT_CHOICE_POINTS.name)
    assert sent[0].value().shape == (40, group.POINT_BYTES)


def test_invalid_points_are_refused():
    bad = MessageKey(OT_CHOICE_POINTS.name)

    def cheating_receiver(ctx):
        ctx.sub("ot").recv(S, MessageKey("ot_sender_point"))
        ctx.sub("ot").send(S, bad, np.zeros((2, group.POINT_BYTES), dtype=np.uint8))

    with pytest.raises(PartyFailure) as err:
        run_parties({S: lambda ctx: random_ot_send(ctx, R, 2),
                     R: cheating_receiver}, timeout=10)
    assert isinstance(err.value.error, CryptoError)

    def short_receiver(ctx):
        ctx.sub("ot").recv(S, MessageKey("ot_sender_point"))
        ctx.sub("ot").send(S, bad, np.zeros((1, group.POINT_BYTES), dtype=np.uint8))

    with pytest.raises(PartyFailure) as err:
        run_parties({S: lambda ctx: random_ot_send(ctx, R, 2), R: short_receiver}, timeout=10)
    assert isinstance(err.value.error, ProtocolError)


@pytest.mark.parametrize("roles", [
    {S: lambda ctx: random_ot_send(ctx, R, 0), R: lambda ctx: None},
    {S: lambda ctx: None, R: lambda ctx: random_ot_receive(ctx, S, np.array([0, 1]))},
    {S: lambda ctx: ot_send(ctx, R, np.zeros((2, 3), np.uint8), np.zeros((2, 4), np.uint8)),
     R: lambda ctx: None},
])
def test_bad_arguments(roles):
    with pytest.raises(PartyFailure) as err:
        run_parties(roles, timeout=5)
    assert isinstance(err.value.error, InputError)
