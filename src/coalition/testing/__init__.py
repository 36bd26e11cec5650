"""Public test helpers: run every role of a protocol, record what crossed the wire.

Nothing in ``coalition`` imports this package.
"""

from coalition.testing.harness import PartyFailure, run_parties
from coalition.testing.recording import RecordedMessage, Recorder, find_leaks

__all__ = ["PartyFailure", "RecordedMessage", "Recorder", "find_leaks", "run_parties"]
