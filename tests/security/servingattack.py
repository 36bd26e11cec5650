"""Helpers for the serving attack tests: in-process nodes with real gRPC + mTLS peer endpoints
(the node test kit's), trained parts, and direct peer calls as a hostile partner makes them."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))

from nodekit import make_env
from servingkit import GUEST, Peer, connect, grant_predict, register_dataset

from coalition.node.partners import directory as partners
from coalition.node.partners.tables import Partner
from coalition.node.peer import PeerEndpoint

__all__ = ["GUEST", "Peer", "call_as", "connect", "drop_parts", "grant_predict", "partner_row",
           "peer", "register_dataset"]


def peer(home: Path, name: str, data: Path, **settings: Any) -> Peer:
    """A node with its peer endpoint started."""
    env = make_env(home, name, data_dirs=[data], **settings)
    return Peer(env, PeerEndpoint(env.rt).start())


def drop_parts(hosts: dict[str, Peer], files: dict[str, Path]) -> dict[str, dict[str, str]]:
    """Put each host's part file in the folder that host's operators keep for the guest's parts
    (a host publishes a partner's part from a file only from there, issue 16 finding 13) and
    return the ``hosts`` block of a publish request naming them."""
    block = {}
    for org, node in hosts.items():
        drop = node.env.home / "partner-parts" / GUEST
        drop.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files[org], drop / files[org].name)
        block[org] = {"artifact": files[org].name}
    return block


def partner_row(node: Peer, org: str) -> Partner:
    """``org`` as ``node`` has it registered (pinned certificate, address)."""
    with node.env.rt.db.session() as db:
        row = partners.get_partner(db, org)
        db.expunge(row)
        return row


def call_as(attacker: Peer, target: Peer, method: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Call ``method`` on ``target``'s peer endpoint with ``attacker``'s node identity (mutual
    TLS), exactly as the attacker's node would."""
    return attacker.env.rt.peers.call_raw(partner_row(attacker, target.name), method, payload)
