"""Public test helpers: run every role of a protocol, record what crossed the wire, and shake
the network (delays, duplicates, reordering) to prove protocols do not depend on it.

Nothing in ``coalition`` imports this package.
"""

from coalition.testing.chaos import Chaos, ChaosChannel, ChaosStats
from coalition.testing.harness import PartyFailure, run_parties
from coalition.testing.recording import RecordedMessage, Recorder, find_leaks

__all__ = ["Chaos", "ChaosChannel", "ChaosStats", "PartyFailure", "RecordedMessage", "Recorder",
           "find_leaks", "run_parties"]
