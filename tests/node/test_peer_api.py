"""The declared peer API (issue 17): one registry, an endpoint built from the registry it is
given, one client with cached channels, typed answers and typed failures on both sides."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nodekit import NodeEnv, make_env

from coalition.core.errors import CodecError, ConfigError, InputError, NotFoundError
from coalition.node.auth.permissions import UserRole
from coalition.node.composition import peer_registry
from coalition.node.jobs.peer_methods import JOB_START, StartRequest
from coalition.node.limits import LimitError
from coalition.node.partners.peer import GET_GRANT, HEALTH, GetGrantRequest, Health
from coalition.node.peer import (
    Access,
    Empty,
    PeerEndpoint,
    PeerMethod,
    PeerMethodUnknown,
    PeerRegistry,
    RemoteFailure,
)
from coalition.node.runtime import NodeRuntime

# The method names on the wire before the declarations: nodes of both versions must agree.
WIRE_NAMES = {"Health", "ListDatasets", "RequestGrant", "GetGrant", "JobPropose", "JobStart",
              "TaskPrepare", "TaskRun", "JobUpdate", "TaskReport", "JobDecision", "JobCancel",
              "ModelPartPublish", "ModelPartDelete", "ServingPrepare", "ServingPartial",
              "ServingRelease", "ServingKeys", "Verify3Manifest", "Verify3Table", "Verify3Evaluate",
              "LedgerPull", "LedgerCosign", "PirServiceInfo", "PirExchange"}


@dataclass
class Node:
    env: NodeEnv
    endpoint: PeerEndpoint

    @property
    def rt(self) -> NodeRuntime:
        return self.env.rt


def _connect(a: Node, b: Node) -> None:
    bundle = json.dumps(b.env.client.get("/api/v1/node/identity", headers=b.env.auth()).json())
    r = a.env.client.post("/api/v1/partners/import", headers=a.env.auth(UserRole.OPERATOR),
                          json={"bundle": bundle, "address": f"127.0.0.1:{b.endpoint.port}"})
    assert r.status_code == 201, r.text


def _fails(rt: NodeRuntime, caller: str, request: Empty) -> Empty:
    raise OSError("cannot open /srv/secret.csv")


FAILS = PeerMethod("Fails", Empty, Empty)


@pytest.fixture
def pair(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Node, Node]]:
    """bank (the node's own registry) and telco, whose endpoint answers only Health, GetGrant
    and a method whose handler fails untyped (telco's settings from ``telco_settings``)."""
    telco_settings = getattr(request, "param", {})
    subset = PeerRegistry()
    full = peer_registry()
    subset.register(HEALTH, full.handler(HEALTH))
    subset.register(GET_GRANT, full.handler(GET_GRANT))
    subset.register(FAILS, _fails)
    bank_env = make_env(tmp_path / "bank", "bank")
    telco_env = make_env(tmp_path / "telco", "telco", **telco_settings)
    bank = Node(bank_env, PeerEndpoint(bank_env.rt).start())
    telco = Node(telco_env, PeerEndpoint(telco_env.rt, subset).start())
    _connect(bank, telco)
    _connect(telco, bank)
    yield bank, telco
    for node in (bank, telco):
        node.endpoint.stop(0)
        node.env.close()


def test_the_node_registry_declares_every_wire_method_once_with_guards() -> None:
    registry = peer_registry()  # check() ran: every declared access has its guard
    assert {m.name for m in registry} == WIRE_NAMES
    assert {m.name for m in registry if not m.metered} == {
        "ServingPrepare", "ServingPartial", "ServingRelease", "ServingKeys"}
    assert JOB_START.access is Access.JOB_INITIATOR
    with pytest.raises(ConfigError):
        registry.register(HEALTH, registry.handler(HEALTH))


def test_a_method_whose_guard_is_missing_is_refused_at_build() -> None:
    registry = PeerRegistry()
    registry.register(JOB_START, peer_registry().handler(JOB_START))
    with pytest.raises(ConfigError, match="no guard"):
        registry.check()


def test_call_returns_the_typed_response_and_reuses_one_channel(
        pair: tuple[Node, Node]) -> None:
    bank, _ = pair
    first = bank.rt.peers.call("telco", HEALTH, Empty())
    second = bank.rt.peers.call("telco", HEALTH, Empty())
    assert isinstance(first, Health) and first.name == "telco" and first.you == "bank"
    assert second.you == "bank"
    assert bank.rt.peers.open_channels() == ["telco"]


def test_a_call_to_this_node_runs_the_same_registry_path(pair: tuple[Node, Node]) -> None:
    bank, _ = pair
    assert bank.rt.peers.call("bank", HEALTH, Empty()).you == "bank"
    assert bank.rt.peers.open_channels() == []


def test_unknown_method_is_typed_never_unreachable(pair: tuple[Node, Node]) -> None:
    bank, _ = pair
    with pytest.raises(PeerMethodUnknown) as caught:
        bank.rt.peers.call_raw("telco", "Helth", {})
    assert caught.value.code == "peer.unknown_method"
    # A declared method the partner's registry lacks is the same typed answer.
    with pytest.raises(PeerMethodUnknown):
        bank.rt.peers.call("telco", JOB_START, StartRequest(job_id="0" * 16, endpoints={}))


def test_untyped_handler_failure_is_a_typed_remote_failure(pair: tuple[Node, Node]) -> None:
    bank, _ = pair
    with pytest.raises(RemoteFailure) as caught:
        bank.rt.peers.call("telco", FAILS, Empty())
    assert caught.value.code == "peer.remote_failed"
    assert "/srv" not in caught.value.message and "cannot open" not in caught.value.message


def test_requests_validate_strictly_and_name_the_field_not_the_value(
        pair: tuple[Node, Node]) -> None:
    bank, _ = pair
    with pytest.raises(InputError) as caught:
        bank.rt.peers.call_raw("telco", "GetGrant", {"id": "4711"})
    assert caught.value.code == "input.invalid"
    assert "id" in caught.value.message and "4711" not in caught.value.message
    # The typed call of the same method works (and finds no grant of bank's).
    with pytest.raises(NotFoundError, match="no such grant"):
        bank.rt.peers.call("telco", GET_GRANT, GetGrantRequest(id=4711))


def test_dispatch_refuses_non_json_as_a_codec_error(pair: tuple[Node, Node]) -> None:
    _, telco = pair
    with pytest.raises(CodecError):
        telco.endpoint.registry.dispatch(telco.rt, "bank", "Health", b"{not json")
    with pytest.raises(PeerMethodUnknown):
        telco.endpoint.registry.dispatch(telco.rt, "bank", "Nope", b"{}")


@pytest.mark.parametrize("pair", [{"peer_rate_burst": 2, "peer_rate_per_minute": 1}],
                         indirect=True)
def test_unknown_method_names_spend_the_call_rate(pair: tuple[Node, Node]) -> None:
    bank, _ = pair
    for _ in range(2):
        with pytest.raises(PeerMethodUnknown):
            bank.rt.peers.call_raw("telco", "Guess", {})
    with pytest.raises(LimitError):
        bank.rt.peers.call_raw("telco", "Guess", {})
