"""Divergence guard: a diverging loss fails the job with a typed error in both variants."""

import math

import pytest
from linear_roles import load
from test_he_lr import KEY
from test_he_lr import train as he_train
from test_ss_lr import train as ss_train

from coalition.protocols.linear.guard import TrainingDivergedError, divergence
from coalition.testing import PartyFailure

# Momentum with a step of 20 on unscaled features: the loss explodes within a few epochs.
DIVERGING = {"task": "linear", "optimizer": "momentum", "epochs": 12, "batch_size": None,
             "learning_rate": 20.0, "alpha": 0.0}


def test_divergence_reasons():
    assert divergence(0.6, [0.69]) is None
    assert divergence(math.nan, [0.69]) == "non-finite loss"
    assert divergence(math.inf, []) == "non-finite loss"
    assert "negative" in (divergence(-7.6e5, [0.69]) or "")
    assert "exploding" in (divergence(1.8e11, [0.69]) or "")
    assert divergence(1.8e11, []) is None  # the first epoch is the reference, not judged


def test_ss_diverging_training_fails_typed(fate_data):
    guest, hosts = load(fate_data, "student")
    with pytest.raises(PartyFailure) as info:
        ss_train(guest, hosts, DIVERGING, timeout=20)
    assert isinstance(info.value.error, TrainingDivergedError)
    assert info.value.error.code == "model.diverged"


@pytest.mark.parametrize("protocol", ["he-arbiter", "he-guest"])
def test_he_diverging_training_fails_typed(fate_data, protocol):
    guest, hosts = load(fate_data, "student")
    with pytest.raises(PartyFailure) as info:
        he_train(guest, hosts, {**KEY, **DIVERGING, "protocol": protocol}, timeout=30)
    assert isinstance(info.value.error, TrainingDivergedError)
