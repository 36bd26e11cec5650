"""The audit trail: every change a node makes, hash-chained, MAC'd and checkpointed.

* :mod:`.events` — ``emit(db, Event(...))``: what a feature calls, in its own transaction;
* :mod:`.trail` — writing and verifying the chained rows;
* :mod:`.seal` — the MAC key and signed checkpoints outside the database;
* :mod:`.start` — the checks a node runs at start (tampered or rolled-back trail);
* :mod:`.tools` — ``coalition audit`` verify / accept / export on a node home;
* :mod:`.routes` — ``/api/v1/audit``.

This ``__init__`` imports nothing: every feature imports :mod:`.events`, so it stays light.
"""
