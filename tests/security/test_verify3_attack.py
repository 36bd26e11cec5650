"""Three-element verification service played by a hostile partner through the telco's real
mTLS peer endpoint (``rt.peers.call_raw``: what any partner's node can send).

* a bank holding no grant for ``verify3`` on a service's dataset (``vip``: shared with it, but
  never granted) gets neither the manifest,
  nor a table page, nor an evaluation; nothing is charged or recorded as served, and the
  refusal is audited;
* a granted bank that guesses a subscriber's name with one evaluation after another is
  stopped by the telco's quota before it reaches the right one; the refusal evaluates nothing;
* a batch whose size is not a multiple of three, or whose elements are not group points, is
  refused typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from jobskit import Node, call, connect, register_dataset, start_node

from coalition.client.errors import RemoteError
from coalition.core.errors import AuthError, CoalitionError
from coalition.crypto.oprf_suite import oprf_for
from coalition.node.partners.directory import get_partner
from coalition.node.partners.grants import decide, request_grant
from coalition.node.verify3 import service
from coalition.node.verify3.service import b64
from coalition.protocols.pir.spec import QuotaExceededError
from coalition.protocols.verify3 import Manifest

SECRET = "Ouyang Mingyue"
ROWS = ("id,phone,name\n" + f"110105194912310021,138-0013-8000,{SECRET}\n"
        + "".join(f"11010519491231{i:04d},139-0000-{i:04d},Name {i}\n" for i in range(20)))
GUESSES = ["Zhang San", "Li Si", "Wang Wu", "Zhao Liu", "Sun Qi", SECRET]


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    root = tmp_path_factory.mktemp("verify3-attack")
    telco = start_node(root / "telco", "telco")
    bank = start_node(root / "bank", "bank")
    for a, b in ((bank, telco), (telco, bank)):
        connect(a, b)
    register_dataset(telco, "subscribers", ROWS, share_with="bank")
    register_dataset(telco, "vip", ROWS, share_with="bank")
    with telco.rt.db.session() as db:
        grant = request_grant(db, get_partner(db, "bank"), "subscribers", purpose="kyc",
                              component_kinds=["verify3"],
                              valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
        decide(db, "user:admin", grant.id, True, "kyc")
    # one batch of one triple pads to min_batch 16: 48 evaluations; the quota allows 3 batches
    service.publish(telco.rt, "user:admin", {
        "name": "kyc", "dataset": "subscribers", "phone_column": "phone", "name_column": "name",
        "id_number_column": "id", "quota": 3 * 48})
    service.publish(telco.rt, "user:admin", {
        "name": "vip-kyc", "dataset": "vip", "phone_column": "phone", "name_column": "name",
        "id_number_column": "id", "quota": None})
    yield telco, bank
    for n in (telco, bank):
        n.close()


def _served(telco: Node) -> list[dict[str, object]]:
    return service.list_batches(telco.rt, side="served")


def test_a_partner_without_a_grant_gets_nothing(nodes: tuple[Node, Node]) -> None:
    telco, bank = nodes
    for method, payload in (
            ("Verify3Manifest", {"service": "vip-kyc"}),
            ("Verify3Table", {"service": "vip-kyc", "epoch": "x", "offset": 0}),
            ("Verify3Evaluate", {"service": "vip-kyc", "epoch": "x", "count": 3,
                                 "elements": b64(bytes(96))}),
            ("Verify3Manifest", {"service": "no-such-service"})):
        with pytest.raises(AuthError):
            call(bank, telco, method, payload)
    with pytest.raises((AuthError, RemoteError)) as err:
        service.query(bank.rt, "user:admin", "telco", "vip-kyc", [["13800138000", SECRET, "1"]])
    assert err.value.code == "auth.denied"
    assert all(b["service"] != "vip-kyc" for b in _served(telco))
    events = telco.env.client.get("/api/v1/audit/events?kind=verify3.refused&limit=100",
                                  headers=telco.env.auth()).json()
    assert sum(e["actor"] == "partner:bank" for e in events) == 5


def test_guessing_a_name_hits_the_quota_before_the_answer(nodes: tuple[Node, Node]) -> None:
    telco, bank = nodes
    learnt, refused = [], 0
    for guess in GUESSES:
        try:
            out = service.query(bank.rt, "user:admin", "telco", "kyc",
                                [["13800138000", guess, "0"]])
        except QuotaExceededError:
            refused += 1
            continue
        if out["results"][0]["name_match"]:
            learnt.append(guess)
    assert learnt == [] and refused == len(GUESSES) - 3
    assert [b["elements"] for b in _served(telco) if b["partner"] == "bank"] == [48, 48, 48]


def test_malformed_batches_are_refused_typed(nodes: tuple[Node, Node]) -> None:
    telco, bank = nodes
    service.publish(telco.rt, "user:admin", {
        "name": "kyc-open", "dataset": "subscribers", "phone_column": "phone",
        "name_column": "name", "id_number_column": "id", "quota": None})
    m = Manifest.from_wire(call(bank, telco, "Verify3Manifest", {"service": "kyc-open"}))
    width = oprf_for("standard").element_bytes
    before = len(_served(telco))
    for count, elements, epoch, code in (
            (4, bytes(4 * width), m.epoch, "input.invalid"),  # not three per triple
            (3, bytes(3 * width), "0" * 16, "conflict"),  # an epoch that is not current
            (3, bytes(2 * width), m.epoch, "input.invalid")):  # fewer bytes than announced
        with pytest.raises(CoalitionError) as err:
            call(bank, telco, "Verify3Evaluate", {"service": "kyc-open", "epoch": epoch,
                                                  "count": count, "elements": b64(elements)})
        assert err.value.code == code
    assert len(_served(telco)) == before  # none of these was charged
    with pytest.raises(CoalitionError) as err:  # not group elements: no scalar touches them
        call(bank, telco, "Verify3Evaluate", {"service": "kyc-open", "epoch": m.epoch,
                                              "count": 3, "elements": b64(b"\xff" * 3 * width)})
    assert err.value.code == "crypto.failed"
