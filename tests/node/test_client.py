"""``coalition.client.NodeClient`` against a real node app in-process: every call goes through
the routes, and every problem document comes back as the typed error its code names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nodekit import PASSWORD, NodeEnv, app_client, make_env

from coalition.client import NodeClient, NodeUnreachableError, RemoteError, error_from_problem
from coalition.core.errors import (
    AuthError,
    CoalitionError,
    ConfigError,
    ConflictError,
    InputError,
    NotFoundError,
    PeerError,
    PeerTimeoutError,
)
from coalition.node.auth.permissions import UserRole


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeEnv]:
    env = make_env(tmp_path_factory.mktemp("client") / "bank")
    yield env
    env.close()


def client_for(env: NodeEnv, token: str = "") -> NodeClient:
    """A NodeClient whose requests reach ``env``'s app in-process."""
    return app_client(env.rt, token)


def test_login_me_and_users(node: NodeEnv) -> None:
    with client_for(node) as api:
        token = api.login("admin", node.admin_password)
        assert token.startswith("cs_") and api.token == token
        assert api.me()["username"] == "admin"
        assert "admin" in {u["username"] for u in api.list_users()}
        made = api.create_user("alice", "data_scientist", password=PASSWORD)
        assert (made["username"], made["role"]) == ("alice", "data_scientist")
        assert api.update_user("alice", disabled=True)["disabled"] is True


def test_problem_documents_become_typed_errors(node: NodeEnv) -> None:
    with client_for(node, node.tokens[UserRole.ADMIN]) as api:
        with pytest.raises(NotFoundError) as missing:
            api.get_user("nobody")
        assert isinstance(missing.value, RemoteError)
        assert (missing.value.code, missing.value.status) == ("not_found", 404)

        with pytest.raises(ConflictError) as taken:
            api.create_user("operator", "operator", password=PASSWORD)
        assert taken.value.code == "conflict" and taken.value.status == 409

        # Request validation: the problem's ``errors`` list survives, without the input.
        with pytest.raises(InputError) as invalid:
            api.create_user("bob", "no-such-role", password=PASSWORD)
        assert invalid.value.code == "request.invalid" and invalid.value.errors
        assert PASSWORD not in str(invalid.value.errors)

    with client_for(node) as anonymous, pytest.raises(AuthError) as unauth:
        anonymous.list_users()
    assert (unauth.value.code, unauth.value.status) == ("auth.unauthenticated", 401)

    with client_for(node, node.tokens[UserRole.DATA_SCIENTIST]) as scientist, \
            pytest.raises(AuthError) as denied:
        scientist.create_user("eve", "admin", password=PASSWORD)
    assert (denied.value.code, denied.value.status) == ("auth.denied", 403)
    assert denied.value.details["permission"] == "users.manage"


def test_path_segments_cannot_reach_other_routes(node: NodeEnv) -> None:
    with client_for(node, node.tokens[UserRole.ADMIN]) as api, pytest.raises(NotFoundError):
        api.get_dataset("../users")


def test_unknown_codes_keep_code_status_and_details() -> None:
    err = error_from_problem(418, {"code": "teapot.brewing", "detail": "short and stout",
                                   "details": {"cups": 2}})
    assert isinstance(err, RemoteError) and isinstance(err, CoalitionError)
    assert (err.code, err.status, err.message, err.details) == (
        "teapot.brewing", 418, "short and stout", {"cups": 2})
    # Detail keys never clash with the error's own arguments.
    odd = error_from_problem(409, {"code": "conflict", "detail": "d",
                                   "details": {"status": "running", "message": "m"}})
    assert isinstance(odd, ConflictError) and odd.details == {"status": "running", "message": "m"}
    # A known family or status picks the typed error even for a code the client never saw.
    assert isinstance(error_from_problem(409, {"code": "model.tampered", "detail": "x"}),
                      ConflictError)
    assert isinstance(error_from_problem(504, {"code": "peer.timeout", "detail": "x"}),
                      PeerTimeoutError)
    assert isinstance(error_from_problem(502, "<html>bad gateway</html>"), PeerError)
    assert error_from_problem(502, None).code == "http.error"


def test_unreachable_node_and_repr_without_token() -> None:
    api = NodeClient("http://127.0.0.1:9", "cs_secret", timeout=2)
    assert "cs_secret" not in repr(api)
    with api, pytest.raises(NodeUnreachableError) as down:
        api.node_info()
    assert isinstance(down.value, PeerError) and "cannot reach" in str(down.value)


@pytest.mark.parametrize("url", ["foo", "http://[::1", "ftp://x", "http://"])
def test_a_malformed_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        NodeClient(url)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALITION_NODE_URL", "http://example.invalid:1/")
    monkeypatch.setenv("COALITION_TOKEN", "ck_x")
    with NodeClient.from_env() as api:
        assert (api.url, api.token) == ("http://example.invalid:1", "ck_x")


def test_datasets_through_the_client(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "people.csv").write_text("id,x,y\n" + "".join(f"{i},{i * 2},{i % 2}\n"
                                                          for i in range(30)))
    env = make_env(tmp_path / "bank", data_dirs=[data])
    try:
        with client_for(env, env.tokens[UserRole.ADMIN]) as api:
            made = api.register_dataset("people", "csv", str(data / "people.csv"),
                                        id_column="id", label_column="y")
            assert made["row_count"] == 30
            assert [d["name"] for d in api.list_datasets()] == ["people"]
            assert len(api.preview_dataset("people", limit=5)["rows"]) == 5
            with pytest.raises(NotFoundError):
                api.share_dataset("people", "telco")
            api.remove_dataset("people")
            assert api.list_datasets() == []
    finally:
        env.close()
